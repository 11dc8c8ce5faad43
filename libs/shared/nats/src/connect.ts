import { connect, type ConnectionOptions, type NatsConnection, type TlsOptions } from 'nats';
import { coalesceWrites } from './coalesce-writes';

export interface NatsSettings {
  /**
   * NATS_URL: one or more `nats://[user:password@]host:port`, comma-separated. The user and password (the
   * process's own NATS credentials) are taken out of the URL and sent as the connection's credentials, so
   * the servers nats.js keeps (and may put in an error message) never carry the password.
   */
  url: string;
  name: string;
}

/** The parts of the connection options that come from NATS_URL and the NATS_TLS_* variables. */
export type NatsEndpointOptions = Pick<ConnectionOptions, 'servers' | 'user' | 'pass' | 'tls' | 'inboxPrefix'>;

/**
 * Turns NATS_URL (and the environment's NATS_TLS_CA, NATS_TLS_CERT, NATS_TLS_KEY) into connection options:
 * - credentials in the URL become `user`/`pass` (percent-decoded), and the inbox prefix becomes
 *   `_INBOX.<user>`: the server lets each user subscribe only to its own inbox (nats-permissions.ts in
 *   @platform/shared-catalogue);
 * - NATS_TLS_CA (a PEM file) makes the connection use TLS and trust that CA; NATS_TLS_CERT and NATS_TLS_KEY
 *   add a client certificate (mutual TLS). A server that requires TLS is also met with TLS without them
 *   (the system's CAs).
 * Every URL of the list must carry the same credentials, or none after the first.
 */
export function natsEndpointOptions(url: string, env: NodeJS.ProcessEnv = process.env): NatsEndpointOptions {
  let user: string | undefined;
  let pass: string | undefined;
  const servers = serverUrls(url).map((server) => {
    if (server.username) {
      const entryUser = decodeURIComponent(server.username);
      const entryPass = server.password ? decodeURIComponent(server.password) : undefined;
      if (user !== undefined && (user !== entryUser || pass !== entryPass))
        throw new Error('NATS_URL: every server of the list must carry the same credentials');
      user = entryUser;
      pass = entryPass;
    }
    server.username = '';
    server.password = '';
    return server.href;
  });
  const tls: TlsOptions | undefined = env['NATS_TLS_CA']
    ? {
        caFile: env['NATS_TLS_CA'],
        ...(env['NATS_TLS_CERT'] && { certFile: env['NATS_TLS_CERT'] }),
        ...(env['NATS_TLS_KEY'] && { keyFile: env['NATS_TLS_KEY'] }),
      }
    : undefined;
  return {
    servers,
    ...(user !== undefined && user.length > 0 && { user, inboxPrefix: `_INBOX.${user}` }),
    ...(pass !== undefined && { pass }),
    ...(tls && { tls }),
  };
}

/** The servers of NATS_URL (comma-separated) as URLs; `host:port` alone is read as `nats://host:port`. */
function serverUrls(url: string): URL[] {
  return url
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry.length > 0)
    .map((entry) => new URL(entry.includes('://') ? entry : `nats://${entry}`));
}

/** NATS_URL without its credentials, for a log line. */
export function natsUrlForLog(url: string): string {
  try {
    return serverUrls(url)
      .map((server) => {
        if (server.username || server.password) {
          server.username = '***';
          server.password = '';
        }
        return server.href;
      })
      .join(',');
  } catch {
    return '(a NATS_URL that is not a URL list)';
  }
}

/** Connects with reconnects forever (a service waits out a NATS restart) and a bounded first attempt. */
export async function connectNats(settings: NatsSettings): Promise<NatsConnection> {
  const connection = await connect({
    ...natsEndpointOptions(settings.url),
    name: settings.name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    timeout: 5000,
    pingInterval: 10_000,
    // Errors still carry their code; only the per-request async stack capture is skipped (CPU per request).
    noAsyncTraces: true,
  });
  coalesceWrites(connection);
  return connection;
}
