import { createInbox, ErrorCode, type Msg, type MsgHdrs, type NatsConnection, type Subscription } from 'nats';

interface Pending {
  resolve: (message: Msg) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

/** A failed request, with the nats.js error code `NatsRpcClient` translates (only failures build an Error). */
class TransportFailure extends Error {
  constructor(readonly code: string) {
    super(`NATS request failed: ${code}`);
  }
}
const failure = (code: string): TransportFailure => new TransportFailure(code);

/**
 * Request/reply with one reply subscription per connection, as nats.js's own muxed `request` but without what
 * that costs per request on the gateway's hot path: a request object, a timer promise raced against the reply,
 * and a `Cancelled` error built (with its stack) after every request answered. Replies come to
 * `<inbox>.<token>`, where `<inbox>` is made once from the connection's inbox prefix (its NATS permissions).
 *
 * A request is answered by its reply, refused with NoResponders when the server says nobody listens (status
 * 503, which the server sends because nats.js asks for it when it connects), with Timeout after `timeoutMs`,
 * or with ConnectionClosed when the connection closes first: the codes `NatsRpcClient` translates.
 */
export class ReplyMux {
  private readonly pending = new Map<string, Pending>();
  private readonly prefix: string;
  private subscription?: Subscription;
  private next = 0;

  private constructor(private readonly connection: NatsConnection) {
    const options = (connection as unknown as { options?: { inboxPrefix?: string } }).options;
    this.prefix = `${createInbox(options?.inboxPrefix)}.`;
    void connection.closed().then(() => {
      for (const [token, pending] of this.pending) {
        clearTimeout(pending.timer);
        this.pending.delete(token);
        pending.reject(failure(ErrorCode.ConnectionClosed));
      }
    });
  }

  private static readonly byConnection = new WeakMap<NatsConnection, ReplyMux>();

  /** The connection's multiplexer, made on first use. */
  static of(connection: NatsConnection): ReplyMux {
    let mux = ReplyMux.byConnection.get(connection);
    if (!mux) {
      mux = new ReplyMux(connection);
      ReplyMux.byConnection.set(connection, mux);
    }
    return mux;
  }

  request(subject: string, data: Uint8Array, headers: MsgHdrs, timeoutMs: number): Promise<Msg> {
    if (this.connection.isClosed()) return Promise.reject(failure(ErrorCode.ConnectionClosed));
    if (this.connection.isDraining()) return Promise.reject(failure(ErrorCode.ConnectionDraining));
    this.subscription ??= this.connection.subscribe(`${this.prefix}*`, {
      callback: (error, message) => {
        if (!error) this.answer(message);
      },
    });
    return new Promise<Msg>((resolve, reject) => {
      const token = (this.next++).toString(36);
      const timer = setTimeout(() => {
        this.pending.delete(token);
        reject(failure(ErrorCode.Timeout));
      }, timeoutMs);
      this.pending.set(token, { resolve, reject, timer });
      try {
        this.connection.publish(subject, data, { reply: `${this.prefix}${token}`, headers });
      } catch (error) {
        clearTimeout(timer);
        this.pending.delete(token);
        reject(error instanceof Error ? error : failure(ErrorCode.Unknown));
      }
    });
  }

  private answer(message: Msg): void {
    const token = message.subject.slice(this.prefix.length);
    const pending = this.pending.get(token);
    if (!pending) return;
    this.pending.delete(token);
    clearTimeout(pending.timer);
    const headers = message.headers;
    if (headers && message.data.length === 0 && headers.hasError && headers.code === 503) {
      pending.reject(failure(ErrorCode.NoResponders));
    } else {
      pending.resolve(message);
    }
  }
}
