import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { SMTPServer } from 'smtp-server';

type ConnectionOptions = Parameters<SMTPServer['connect']>[1];

/**
 * An smtp-server that greets a client at once. smtp-server (3.21) holds every greeting back 100 ms ("early
 * talker" detection, a spam-bot heuristic that refuses a client speaking before it). For clients that open a
 * connection per message, as `smtp-source` and many applications do, that pause was the relay's ceiling: 20
 * of them could never send more than 20 / (0.1 s + the work) messages a second, whatever the relay's speed.
 * Postfix's smtpd does not pause either (its postscreen does, in front of an internet-facing port 25). A
 * client that talks before the greeting is still refused, but only within the moment it takes to greet. The
 * library's own timer still fires after 100 ms and is ignored: the greeting is sent once.
 */
export class PromptGreetingSmtpServer extends SMTPServer {
  override connect(socket: Socket | TLSSocket, options?: ConnectionOptions): void {
    super.connect(socket, options);
    // With a client limit the library may refuse a connection in its place of the greeting: leave it be.
    if (this.options.maxClients) return;
    // The connection just made is the last one added (a Set keeps insertion order).
    let connection: SMTPServer['connections'] extends Set<infer C> ? C | undefined : never;
    for (const each of this.connections) connection = each;
    // A connection that upgrades to TLS first (implicit TLS) is greeted by the library after its handshake;
    // one refused at once (too many clients) is closing.
    if (!connection || connection.needsUpgrade || connection._closing || connection._closed) return;
    const ready = connection.connectionReady.bind(connection);
    let greeted = false;
    connection.connectionReady = (next?: () => void) => {
      if (greeted) return;
      greeted = true;
      ready(next);
    };
    connection.connectionReady();
  }
}
