import { randomUUID } from 'node:crypto';
import { ErrorCode, JSONCodec, type NatsConnection, type NatsError } from 'nats';
import { isWireError, PlatformError } from '@platform/shared-errors';
import { HEADER, toNatsHeaders, type CallContext } from './call-context';
import type { CallerAssertionSigner } from './caller-assertion';
import { RAW_REPLY, RAW_REPLY_HEADER } from './direct-handler';
import { ReplyMux, type Reply } from './reply-mux';
import { validatePayload } from './validate-payload';

/** The envelope NestJS's NATS transport speaks; services are plain `@MessagePattern` handlers. */
interface RequestPacket {
  pattern: string;
  data: unknown;
  id: string;
}

interface ResponsePacket {
  id: string;
  response?: unknown;
  err?: unknown;
  isDisposed?: boolean;
}

const codec = JSONCodec<unknown>();

export interface RpcClientOptions {
  /** Milliseconds to wait for a reply before answering REC_GATEWAY_TIMEOUT. */
  timeoutMs: number;
  /**
   * Signs the caller statement every request carries (X-Caller-Assertion), which services verify before they
   * act: the gateway's key for the person it authenticated, a service's for calls on the person's behalf.
   */
  signer?: CallerAssertionSigner;
}

/**
 * Request/reply over core NATS with the platform's headers. Uses one reply subscription per connection for all
 * requests (`ReplyMux`), carries the call context in headers, applies a timeout and turns
 * `{code, message}` error replies back into PlatformErrors. A subject with no responder fails at once
 * with REC_UNAVAILABLE rather than waiting for the timeout, and so does a request whose multi-part reply was
 * cut off by a lost connection (the parts still to come went with it).
 */
export class NatsRpcClient {
  constructor(
    private readonly connection: NatsConnection,
    private readonly options: RpcClientOptions,
  ) {}

  /**
   * A request whose payload is first checked against its contract class (`validatePayload`: unknown fields
   * refused, each problem named by its field, as `code`): what the typed clients send.
   */
  async requestValidated<T>(
    subject: string,
    type: new () => object,
    payload: object,
    context: CallContext,
    options: { timeoutMs?: number; code?: string } = {},
  ): Promise<T> {
    const checked = await validatePayload(type, payload, options.code);
    return this.request<T>(subject, checked, context, options.timeoutMs);
  }

  async request<T>(
    subject: string,
    data: unknown,
    context: CallContext,
    timeoutMs = this.options.timeoutMs,
  ): Promise<T> {
    const reply = await this.send(subject, data, context, timeoutMs);
    return responseOf<T>(reply.data);
  }

  /**
   * A request to a subject that may answer raw (`serveDirect`): its body as sent and the reply's headers,
   * or, from a service answering in Nest's envelope, the envelope's response. Failures throw as `request`.
   */
  async requestRaw(
    subject: string,
    data: unknown,
    context: CallContext,
    timeoutMs = this.options.timeoutMs,
  ): Promise<RawAnswer> {
    const reply = await this.send(subject, data, context, timeoutMs);
    const headers = reply.headers;
    if (headers?.get(RAW_REPLY_HEADER) === RAW_REPLY) {
      return { raw: true, body: reply.data, header: (name) => headers.get(name) || undefined };
    }
    return { raw: false, response: responseOf<unknown>(reply.data) };
  }

  private async send(subject: string, data: unknown, context: CallContext, timeoutMs: number): Promise<Reply> {
    const packet: RequestPacket = { pattern: subject, data, id: randomUUID() };
    const headers = toNatsHeaders(context);
    if (this.options.signer)
      headers.set(HEADER.callerAssertion, await this.options.signer.sign(subject, data, context));
    try {
      return await ReplyMux.of(this.connection).request(subject, codec.encode(packet), headers, timeoutMs);
    } catch (error) {
      throw translateTransportError(error, subject);
    }
  }
}

/** A raw reply (`serveDirect`), or the response of a service answering in Nest's envelope. */
export type RawAnswer =
  | { raw: true; body: Uint8Array; header(name: string): string | undefined }
  | { raw: false; response: unknown };

function responseOf<T>(data: Uint8Array): T {
  const body = codec.decode(data) as ResponsePacket;
  if (body.err !== undefined && body.err !== null) {
    if (isWireError(body.err)) throw PlatformError.fromWire(body.err);
    throw new PlatformError('REC_SERVER_ERROR', 'The service failed to process the request');
  }
  return body.response as T;
}

function translateTransportError(error: unknown, subject: string): PlatformError {
  const code = (error as NatsError | undefined)?.code;
  if (code === ErrorCode.NoResponders) {
    return new PlatformError('REC_UNAVAILABLE', 'The service is unavailable', {
      diagnostics: `No service is answering ${subject}`,
      headers: { 'Retry-After': '5' },
    });
  }
  if (code === ErrorCode.Timeout) {
    return new PlatformError('REC_GATEWAY_TIMEOUT', 'The service did not answer in time', {
      diagnostics: `No answer on ${subject} within the timeout`,
    });
  }
  if (code === ErrorCode.Disconnect) {
    return new PlatformError('REC_UNAVAILABLE', 'The message bus is unavailable', {
      diagnostics: `The connection was lost while the answer on ${subject} was arriving; try again`,
      headers: { 'Retry-After': '5' },
    });
  }
  if (code === ErrorCode.ConnectionClosed || code === ErrorCode.ConnectionDraining) {
    return new PlatformError('REC_UNAVAILABLE', 'The message bus is unavailable', { headers: { 'Retry-After': '5' } });
  }
  return new PlatformError('REC_SERVER_ERROR', 'The request could not be sent');
}
