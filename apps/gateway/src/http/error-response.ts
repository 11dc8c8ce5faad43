import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { HttpException } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  defineErrors,
  HTTP_ERROR_CODE_SYSTEM,
  operationOutcomeFor,
  PlatformError,
  problemDetails,
} from '@platform/shared-errors';
import type { Logger } from '@platform/shared-logging';
import { outcomeForTarget } from '../e-referrals/ers-outcome';
import { announcesBody } from './edge-checks';

export const FHIR_JSON = 'application/fhir+json; charset=utf-8';
const PROBLEM_JSON = 'application/problem+json; charset=utf-8';
const FHIR_PATH = /^\/[^/]+\/FHIR\/(R4|STU3)(\/|$|\?)/;

/** The HTTP edge's own refusals that have no Spine code (the API platform's http-error-codes). */
export const EDGE_ERRORS = defineErrors({
  REC_REQUEST_TIMEOUT: {
    status: 408,
    issueCode: 'timeout',
    display: 'Request timeout',
    system: HTTP_ERROR_CODE_SYSTEM,
    severity: 'error',
  },
  REC_URI_TOO_LONG: {
    status: 414,
    issueCode: 'too-long',
    display: 'URI too long',
    system: HTTP_ERROR_CODE_SYSTEM,
    severity: 'error',
  },
  REC_HEADERS_TOO_LARGE: {
    status: 431,
    issueCode: 'too-long',
    display: 'Request header fields too large',
    system: HTTP_ERROR_CODE_SYSTEM,
    severity: 'error',
  },
});

/** Whether errors for this request target are OperationOutcomes (FHIR routes, also in absolute form). */
export function isFhirTarget(url: string): boolean {
  return FHIR_PATH.test(url.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/?]*/i, ''));
}

/** Translates whatever went wrong into a PlatformError with the right code; never exposes internals. */
export function toPlatformError(error: unknown, logger: Logger): PlatformError {
  if (error instanceof PlatformError) return error;
  const status =
    error instanceof HttpException ? error.getStatus() : (error as { statusCode?: unknown } | null)?.statusCode;
  const message = error instanceof Error ? error.message : 'error';
  switch (status) {
    case 400:
      return new PlatformError('REC_BAD_REQUEST', 'Bad request', { diagnostics: describeBadRequest(error, message) });
    case 408:
      return new PlatformError('REC_REQUEST_TIMEOUT', undefined, {
        diagnostics: 'The request was not received in time',
      });
    case 414:
      return new PlatformError('REC_URI_TOO_LONG', undefined, {
        diagnostics: 'A path segment or the request URL is longer than this API accepts',
      });
    case 431:
      return new PlatformError('REC_HEADERS_TOO_LARGE', undefined, {
        diagnostics: 'The request headers are larger than this API accepts',
      });
    case 404:
      return new PlatformError('REC_NOT_FOUND', 'Not found', { diagnostics: 'No such resource or operation' });
    case 405:
      return new PlatformError('REC_METHOD_NOT_ALLOWED', 'Method not allowed');
    case 406:
      return new PlatformError('REC_NOT_ACCEPTABLE', 'Not acceptable');
    case 413:
      return new PlatformError('REC_PAYLOAD_TOO_LARGE', 'Payload too large', {
        diagnostics: 'The request body is larger than this API accepts',
      });
    case 415:
      return new PlatformError('REC_UNSUPPORTED_MEDIA_TYPE', 'Unsupported media type', {
        diagnostics: 'Send application/fhir+json or application/json',
      });
    default:
      logger.error({ err: error }, 'unhandled error');
      return new PlatformError('REC_SERVER_ERROR', 'Internal server error');
  }
}

function describeBadRequest(error: unknown, message: string): string {
  const code = (error as { code?: string } | null)?.code;
  if (code === 'FST_ERR_BAD_URL') return 'The request URL is not percent-encoded UTF-8';
  if (code === 'FST_ERR_CTP_EMPTY_JSON_BODY') return 'The request body is empty';
  if (code === 'FST_ERR_CTP_INVALID_CONTENT_LENGTH') return 'The request body does not match its Content-Length';
  if (error instanceof SyntaxError || /JSON/i.test(message)) return 'The request body is not valid JSON';
  return 'The request is malformed';
}

/** FHIR routes answer with an OperationOutcome; the platform's other endpoints with RFC 9457 problem details. */
export function sendError(request: FastifyRequest, reply: FastifyReply, error: PlatformError): void {
  if (error.headers) void reply.headers(error.headers);
  // Refused before its body was read (anonymous, forbidden, too large): the connection closes after the
  // answer, so the rest of the body is never read.
  if (announcesBody(request.headers) && !request.raw.complete) {
    void reply.header('Connection', 'close');
    lingerBeforeClose(request.raw.socket, request.raw);
  }
  void reply.status(error.httpStatus);
  if (isFhirTarget(request.url)) {
    void reply.type(FHIR_JSON).send(outcomeForTarget(request.url, operationOutcomeFor(error)));
  } else {
    void reply.type('application/problem+json').send(problemDetails(error));
  }
}

/**
 * How long a refused request's unread body is drained after the answer, as nginx's lingering close: the whole
 * linger, and the longest silence from the client, whichever comes first closes. At most `bytes` are read and
 * dropped (checked every `checkMs`, so a fast client may get a few more in); then reading stops, the client's
 * sending stalls, and the idle bound closes the connection, having left the client that long to read.
 */
export const LINGER_LIMITS = { totalMs: 3_000, idleMs: 1_000, bytes: 16 * 1024 * 1024, checkMs: 20 } as const;

const LINGERING = Symbol('lingering');

/**
 * A refusal sent while the client is still sending its body. Closing at once with unread bytes would be a TCP
 * reset, which can overtake the answer in flight and discard it at the client, which then sees "connection
 * reset" instead of its 401 or 413. So when Node would close the connection after the answer (it calls
 * destroySoon for `Connection: close`), the gateway instead shuts its sending side (a FIN after the answer),
 * keeps reading and discarding what arrives, and closes only when the client has sent the rest or closed, or
 * when a bound of LINGER_LIMITS is reached (so no client keeps the socket open for more than a few seconds).
 */
function lingerBeforeClose(socket: Socket | null, incoming: FastifyRequest['raw'], limits = LINGER_LIMITS): void {
  const marked = socket as (Socket & { [LINGERING]?: true }) | null;
  if (!marked || marked.destroyed || marked[LINGERING]) return;
  marked[LINGERING] = true;
  marked.destroySoon = () => {
    const startBytes = marked.bytesRead;
    let lastBytes = startBytes;
    let lastActivity = Date.now();
    const startedAt = lastActivity;
    const close = (): void => {
      clearInterval(watch);
      marked.destroy();
    };
    // The answer is queued ahead of the FIN; reading goes on (the HTTP server's sockets allow half-open).
    marked.end();
    // The body is parsed and dropped as it arrives; a request whose body has all arrived closes at once.
    incoming.resume();
    const watch = setInterval(() => {
      const now = Date.now();
      if (marked.bytesRead !== lastBytes) {
        lastBytes = marked.bytesRead;
        lastActivity = now;
      }
      // Past the byte bound nothing more is read: the client's sending stalls, and the idle bound closes.
      if (lastBytes - startBytes >= limits.bytes && !marked.isPaused()) marked.pause();
      if (incoming.complete || now - startedAt >= limits.totalMs || now - lastActivity >= limits.idleMs) close();
    }, limits.checkMs);
    watch.unref();
    marked.once('end', close);
    marked.once('close', () => clearInterval(watch));
    if (incoming.complete) close();
  };
}

/** The status line and body of an error, for where there is no Fastify reply (a connection-level error). */
export function errorResponseText(target: string | undefined, error: PlatformError): string {
  const fhir = target !== undefined && isFhirTarget(target);
  const body = JSON.stringify(fhir ? outcomeForTarget(target, operationOutcomeFor(error)) : problemDetails(error));
  const status = error.httpStatus;
  return [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}`,
    `Content-Type: ${fhir ? FHIR_JSON : PROBLEM_JSON}`,
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Connection: close',
    '',
    body,
  ].join('\r\n');
}

/**
 * Requests Node's HTTP parser refuses before Fastify sees them (headers over the size limit, bad framing,
 * control characters, a client too slow): answered in the platform's formats, then the connection closed.
 * The request line, when the parser kept it, says whether the caller wanted a FHIR route.
 */
export function clientErrorHandler(error: Error & { code?: string; rawPacket?: unknown }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const packet = Buffer.isBuffer(error.rawPacket) ? error.rawPacket : undefined;
  const target = packet?.toString('latin1').split('\r\n', 1)[0]?.split(' ')[1];
  const platformError =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? new PlatformError('REC_HEADERS_TOO_LARGE', undefined, {
          diagnostics: 'The request line and headers are larger than this API accepts',
        })
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? new PlatformError('REC_REQUEST_TIMEOUT', undefined, { diagnostics: 'The request was not received in time' })
        : new PlatformError('REC_BAD_REQUEST', undefined, { diagnostics: 'The request is not well-formed HTTP/1.1' });
  if (socket.writable) socket.write(errorResponseText(target, platformError));
  socket.destroy();
}
