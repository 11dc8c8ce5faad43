import { headers as natsHeaders, type Msg, type NatsConnection, type Subscription } from 'nats';
import { runWithRequestContext, type Logger } from '@platform/shared-logging';
import { HEADER, type CallContext } from './call-context';
import type { CallerAdmission } from './caller-guard';
import { wireErrorOf } from './nest-rpc';

/**
 * The reply header that marks a raw reply: the message's data is the answer itself (a document as the service
 * stored it), not Nest's JSON envelope `{id, response}`; what else the answer needs travels in headers.
 * Failures are still answered in the envelope (`{id, err}`), so callers tell the two apart by this header.
 */
export const RAW_REPLY_HEADER = 'X-Reply-Body';
export const RAW_REPLY = 'raw';
/**
 * A raw answer larger than the server's largest message (`max_payload`, 1 MiB by default) goes as several reply
 * messages: the first carries the answer's headers and, here, how many parts there are; each carries its index in
 * `RAW_REPLY_PART_HEADER`. `NatsRpcClient` (its `ReplyMux`) joins them in order before answering.
 */
export const RAW_REPLY_PARTS_HEADER = 'X-Reply-Parts';
export const RAW_REPLY_PART_HEADER = 'X-Reply-Part';
/** Room left in each part for its headers and the protocol line. */
const PART_HEADROOM = 16 * 1024;

/** A raw answer: its body, sent as it is, and headers beside it (a version, say). */
export interface RawReply {
  body: string | Uint8Array;
  headers?: Readonly<Record<string, string>>;
}

export interface DirectHandler<T> {
  subject: string;
  /** The service's queue group (its name), shared with its Nest handlers. */
  queue: string;
  /** The caller guard's checks, run before anything else. */
  admission: CallerAdmission;
  /** Checks the request's data after admission (the validation pipe's work); throws a PlatformError. */
  parse(data: unknown): T | Promise<T>;
  /** The handler, with the verified call context; what it answers is sent raw. */
  handle(request: T, context: CallContext): Promise<RawReply>;
  logger: Logger;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Serves one subject with a plain NATS subscription rather than through Nest's microservice transport, for a
 * hot path where Nest's per-message dispatch (pattern parsing, execution context, guard and pipe plumbing,
 * observables) costs more than the handler. It does what Nest's chain does for the service's other subjects:
 * decodes the request envelope (`{pattern, data, id}`), runs the caller guard's checks (`CallerAdmission`),
 * checks the data, runs the handler in the request's logging context, and answers failures as `{id, err}`
 * (as `RpcErrorFilter`). A success is answered raw (`RAW_REPLY_HEADER`), which `NatsRpcClient.requestRaw`
 * reads; one larger than a NATS message goes in parts (`RAW_REPLY_PARTS_HEADER`). Drain the subscription before the connection closes so that requests in flight are answered.
 */
export function serveDirect<T>(connection: NatsConnection, handler: DirectHandler<T>): Subscription {
  return connection.subscribe(handler.subject, {
    queue: handler.queue,
    callback: (error, message) => {
      if (error) {
        handler.logger.warn({ subject: handler.subject, error: error.message }, 'subscription error');
        return;
      }
      void answer(connection, handler, message);
    },
  });
}

async function answer<T>(connection: NatsConnection, handler: DirectHandler<T>, message: Msg): Promise<void> {
  let id: unknown;
  try {
    const envelope = decodeEnvelope(message.data);
    id = envelope.id;
    const verified = await handler.admission.admit(handler.subject, envelope.data, message.headers);
    const context: CallContext = verified ?? { requestId: message.headers?.get(HEADER.requestId) || 'unknown' };
    const traceparent = message.headers?.get(HEADER.traceparent);
    if (traceparent) context.traceparent = traceparent;
    const request = await handler.parse(envelope.data);
    const reply = await runWithRequestContext(
      { requestId: context.requestId, correlationId: context.correlationId },
      () => handler.handle(request, context),
    );
    const headers = natsHeaders();
    headers.set(RAW_REPLY_HEADER, RAW_REPLY);
    for (const [name, value] of Object.entries(reply.headers ?? {})) headers.set(name, value);
    const body = typeof reply.body === 'string' ? encoder.encode(reply.body) : reply.body;
    const partBytes = Math.max(64 * 1024, (connection.info?.max_payload ?? 1024 * 1024) - PART_HEADROOM);
    if (body.length <= partBytes) {
      message.respond(body, { headers });
      return;
    }
    const parts = Math.ceil(body.length / partBytes);
    headers.set(RAW_REPLY_PARTS_HEADER, String(parts));
    headers.set(RAW_REPLY_PART_HEADER, '0');
    message.respond(body.subarray(0, partBytes), { headers });
    for (let index = 1; index < parts; index += 1) {
      const partHeaders = natsHeaders();
      partHeaders.set(RAW_REPLY_PART_HEADER, String(index));
      message.respond(body.subarray(index * partBytes, (index + 1) * partBytes), { headers: partHeaders });
    }
  } catch (error) {
    const err = wireErrorOf(error, handler.logger);
    message.respond(encoder.encode(JSON.stringify({ id, err, isDisposed: true })));
  }
}

/** Nest's request envelope `{pattern, data, id}`; a message in another shape is taken as the data itself (as Nest does). */
function decodeEnvelope(data: Uint8Array): { data: unknown; id?: unknown } {
  let value: unknown;
  try {
    value = data.length === 0 ? undefined : JSON.parse(decoder.decode(data));
  } catch {
    value = decoder.decode(data);
  }
  if (typeof value === 'object' && value !== null && 'pattern' in value && 'data' in value) {
    const envelope = value as { data: unknown; id?: unknown };
    return { data: envelope.data, id: envelope.id };
  }
  return { data: value };
}
