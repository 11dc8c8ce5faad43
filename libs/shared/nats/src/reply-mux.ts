import { createInbox, ErrorCode, Events, type Msg, type MsgHdrs, type NatsConnection, type Subscription } from 'nats';
import { RAW_REPLY_PART_HEADER, RAW_REPLY_PARTS_HEADER } from './direct-handler';

type Message = Pick<Msg, 'data' | 'headers'>;

/** A reply: its data (a multi-part raw reply's parts joined) and its first message's headers. */
export interface Reply {
  data: Uint8Array;
  headers?: MsgHdrs;
}

interface Pending {
  resolve: (reply: Reply) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
  /** A multi-part raw reply being received: its parts by index, how many there are, its first message's headers. */
  parts?: { data: Map<number, Uint8Array>; count?: number; headers?: MsgHdrs };
}

/** The most parts a reply may announce (at 1 MiB a part, a GiB). */
const MAX_PARTS = 1024;

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
 * with ConnectionClosed when the connection closes first, or with Disconnect when the connection is lost while a
 * multi-part reply is arriving (`cutOff`): the codes `NatsRpcClient` translates.
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
    void this.cutOff().catch(() => undefined);
  }

  /**
   * Fails at once, with Disconnect, each request whose multi-part reply had started arriving when the connection
   * was lost (the server cut a slow consumer, the network dropped): `serveDirect` writes all the parts at once, so
   * those still to come went with the old connection and would never arrive; the request would only wait for its
   * timeout. A request with nothing received yet keeps waiting: its service may still answer once nats.js has
   * reconnected and subscribed again. Checked again at the reconnect, for a first part read from the old socket
   * but parsed after the disconnect was reported; nothing from the new connection is parsed before the reconnect
   * is reported (its replies need a round trip after the subscription is sent again).
   */
  private async cutOff(): Promise<void> {
    for await (const status of this.connection.status()) {
      if (status.type !== Events.Disconnect && status.type !== Events.Reconnect) continue;
      for (const [token, pending] of this.pending) {
        if (!pending.parts) continue;
        clearTimeout(pending.timer);
        this.pending.delete(token);
        pending.reject(failure(ErrorCode.Disconnect));
      }
    }
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

  request(subject: string, data: Uint8Array, headers: MsgHdrs, timeoutMs: number): Promise<Reply> {
    if (this.connection.isClosed()) return Promise.reject(failure(ErrorCode.ConnectionClosed));
    if (this.connection.isDraining()) return Promise.reject(failure(ErrorCode.ConnectionDraining));
    this.subscription ??= this.connection.subscribe(`${this.prefix}*`, {
      callback: (error, message) => {
        if (!error) this.answer(message);
      },
    });
    return new Promise<Reply>((resolve, reject) => {
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
    const headers = message.headers;
    if (pending.parts || headers?.get(RAW_REPLY_PART_HEADER)) {
      this.part(token, pending, message);
      return;
    }
    this.pending.delete(token);
    clearTimeout(pending.timer);
    if (headers && message.data.length === 0 && headers.hasError && headers.code === 503) {
      pending.reject(failure(ErrorCode.NoResponders));
    } else {
      pending.resolve(message);
    }
  }

  /**
   * One part of a multi-part raw reply (`serveDirect`); answers with the parts joined in order once all have come.
   * The first part says how many there are and carries the reply's headers; NATS delivers one publisher's messages
   * in order, but the parts are joined by their indexes whatever order they come in.
   */
  private part(token: string, pending: Pending, message: Message): void {
    const headers = message.headers;
    const parts = (pending.parts ??= { data: new Map<number, Uint8Array>() });
    const announced = headers?.get(RAW_REPLY_PARTS_HEADER);
    if (announced) {
      const count = Number(announced);
      if (!Number.isInteger(count) || count < 1 || count > MAX_PARTS || parts.count !== undefined) {
        this.fail(token, pending);
        return;
      }
      parts.count = count;
      parts.headers = headers;
    }
    const index = Number(headers?.get(RAW_REPLY_PART_HEADER));
    if (!Number.isInteger(index) || index < 0 || index >= (parts.count ?? MAX_PARTS) || parts.data.has(index)) {
      this.fail(token, pending);
      return;
    }
    parts.data.set(index, message.data);
    if (parts.count === undefined || parts.data.size < parts.count) return;
    this.pending.delete(token);
    clearTimeout(pending.timer);
    const ordered = Array.from({ length: parts.count }, (_, at) => parts.data.get(at) ?? new Uint8Array(0));
    pending.resolve({ data: Buffer.concat(ordered), ...(parts.headers ? { headers: parts.headers } : {}) });
  }

  /** A reply that is not what `serveDirect` sends: the request fails (REC_SERVER_ERROR, as an unreadable reply). */
  private fail(token: string, pending: Pending): void {
    this.pending.delete(token);
    clearTimeout(pending.timer);
    pending.reject(failure(ErrorCode.BadPayload));
  }
}
