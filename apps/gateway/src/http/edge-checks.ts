import { ERS_ATTACHMENT_MEDIA_TYPES } from '@platform/contracts-ers';
import type { IncomingHttpHeaders } from 'node:http';
import { Transform, type Readable } from 'node:stream';
import { PlatformError } from '@platform/shared-errors';

/**
 * What the gateway checks before a request reaches a controller, a class or the bus: the request target
 * (length, ASCII, percent-encoded UTF-8 without NUL), the headers it uses, the body's media type, charset,
 * content coding and length for the route, and (once read) the body itself: JSON depth, well-formed UTF-8,
 * no NUL or lone surrogate in any string, no `__proto__` member; CSV as UTF-8 text without NUL bytes, as it streams.
 * Each refusal is a PlatformError with the status a client can act on (400, 413, 414, 415).
 */

export const JSON_MEDIA_TYPES = ['application/json', 'application/fhir+json', 'application/json-patch+json'] as const;
export const CSV_MEDIA_TYPE = 'text/csv';

/** The headers the gateway reads (or echoes, or builds URLs from): each must be printable ASCII. */
export const HEADERS_USED = [
  'host',
  'authorization',
  'x-request-id',
  'x-correlation-id',
  'nhsd-end-user-organisation-ods',
  'if-match',
  'content-type',
  'content-encoding',
  // GP2GP's requesting API (the NHS requesting adaptor's headers).
  'conversationid',
  'to-ods',
  // The e-RS patient page's session cookie.
  'cookie',
  // e-RS A020's file name and referral.
  'nhsd-ers-file-name',
  'nhsd-ers-referral-id',
] as const;

export interface EdgeLimits {
  /** Longest request target (path and query) accepted, in bytes. */
  maxUrlBytes: number;
  /** Deepest nesting of arrays and objects accepted in a JSON body. */
  maxJsonDepth: number;
  /** Largest JSON body. */
  jsonBodyBytes: number;
  /** Largest CSV body (ODS extracts). */
  csvBodyBytes: number;
}

/** What a route takes as its body. */
export type BodyKind = 'none' | 'json' | 'csv' | 'form' | 'upload' | 'mhs';

/** Routes (Fastify route template) whose body is a CSV file; every other POST, PUT and PATCH takes JSON. */
const CSV_ROUTES = new Set(['POST /n3/organisations/import']);
const BODYLESS_METHODS = new Set(['GET', 'HEAD', 'DELETE', 'OPTIONS']);

/** The e-RS patient page's forms (HTML form posts, application/x-www-form-urlencoded). */
export const FORM_ROUTE_PREFIX = '/referrals/patient/';
/** The NHSmail [secure] message page's forms (nhsmail-relay/secure-page.controller.ts). */
export const SECURE_MAIL_FORM_ROUTE_PREFIX = '/nhsmail/secure/';
export const FORM_MEDIA_TYPE = 'application/x-www-form-urlencoded';
/** e-RS A020: the body is the file itself, in one of the NHS's types (ERS_ATTACHMENT_MEDIA_TYPES). */
const UPLOAD_ROUTE = 'POST /referrals/FHIR/STU3/Binary';
/** GP2GP legacy practices' MHS: an ebXML multipart/related message, streamed to gp2gp by its route. */
const MHS_ROUTE = 'POST /gp2gp/mhs/inbound';
export const MHS_MEDIA_TYPE = 'multipart/related';

export function bodyKindOf(method: string, routeUrl: string): BodyKind {
  if (CSV_ROUTES.has(`${method} ${routeUrl}`)) return 'csv';
  if (routeUrl.startsWith(SECURE_MAIL_FORM_ROUTE_PREFIX) && !BODYLESS_METHODS.has(method)) return 'form';
  if (routeUrl.startsWith(FORM_ROUTE_PREFIX) && !BODYLESS_METHODS.has(method)) return 'form';
  if (`${method} ${routeUrl}` === UPLOAD_ROUTE) return 'upload';
  if (`${method} ${routeUrl}` === MHS_ROUTE) return 'mhs';
  return BODYLESS_METHODS.has(method) ? 'none' : 'json';
}

function badRequest(diagnostics: string): PlatformError {
  return new PlatformError('REC_BAD_REQUEST', undefined, { diagnostics });
}

/** A NUL, or half of a UTF-16 surrogate pair (what decoding never yields from well-formed UTF-8). */
const UNACCEPTABLE_CHARACTER = /[\0\p{Cs}]/u;

function decodeComponent(text: string, plus: boolean): string | undefined {
  try {
    return decodeURIComponent(plus ? text.replace(/\+/g, ' ') : text);
  } catch {
    return undefined;
  }
}

/**
 * The request target: at most `maxUrlBytes` (414), visible ASCII only (RFC 3986), and every path segment,
 * query name and value percent-decodes to well-formed UTF-8 without NUL (400).
 */
export function checkRequestTarget(url: string, maxUrlBytes: number): void {
  if (url.length > maxUrlBytes) {
    throw new PlatformError('REC_URI_TOO_LONG', undefined, {
      diagnostics: `The request URL is longer than ${maxUrlBytes} characters`,
    });
  }
  if (!/^[\x21-\x7e]*$/.test(url)) {
    throw badRequest('The request URL must be ASCII, with anything else percent-encoded as UTF-8');
  }
  const separator = url.indexOf('?');
  const path = separator === -1 ? url : url.slice(0, separator);
  const query = separator === -1 ? '' : url.slice(separator + 1);
  const decodedPath = decodeComponent(path, false);
  if (decodedPath === undefined) throw badRequest('The request path is not percent-encoded UTF-8');
  if (UNACCEPTABLE_CHARACTER.test(decodedPath)) throw badRequest('The request path holds a NUL character');
  for (const pair of query.split('&')) {
    for (const part of pair.split('=')) {
      const decoded = decodeComponent(part, true);
      if (decoded === undefined) throw badRequest('The query string is not percent-encoded UTF-8');
      if (UNACCEPTABLE_CHARACTER.test(decoded)) throw badRequest('The query string holds a NUL character');
    }
  }
}

function headerText(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}

/** The headers the gateway uses: printable ASCII (and tab) only; Node hands obs-text over as Latin-1. */
export function checkHeaders(headers: IncomingHttpHeaders): void {
  for (const name of HEADERS_USED) {
    const value = headerText(headers[name]);
    if (value !== undefined && !/^[\t\x20-\x7e]*$/.test(value)) {
      throw badRequest(`Header '${name}' must be printable ASCII`);
    }
  }
}

interface MediaType {
  type: string;
  charset?: string;
}

/** `type/subtype; charset=...` as its lower-case type and charset; undefined when it is not a media type. */
export function parseMediaType(header: string): MediaType | undefined {
  const [essence = '', ...parameters] = header.split(';');
  const type = essence.trim().toLowerCase();
  if (!/^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/.test(type)) return undefined;
  let charset: string | undefined;
  for (const parameter of parameters) {
    const [name = '', value = ''] = parameter.split('=');
    if (name.trim().toLowerCase() === 'charset')
      charset = value
        .trim()
        .replace(/^"(.*)"$/, '$1')
        .toLowerCase();
  }
  return charset === undefined ? { type } : { type, charset };
}

function hasBody(headers: IncomingHttpHeaders): boolean {
  const length = headers['content-length'];
  return headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

function unsupported(diagnostics: string): PlatformError {
  return new PlatformError('REC_UNSUPPORTED_MEDIA_TYPE', undefined, { diagnostics });
}

const EXPECTED: Record<Exclude<BodyKind, 'none'>, string> = {
  json: 'Send the body as application/fhir+json or application/json (UTF-8)',
  csv: 'Send the extract as the request body with Content-Type: text/csv (UTF-8)',
  form: 'Send the form as application/x-www-form-urlencoded (UTF-8)',
  upload: `e-RS accepts only these file types: ${ERS_ATTACHMENT_MEDIA_TYPES.join(', ')}`,
  mhs: 'Send the ebXML message as an MHS does: Content-Type: multipart/related',
};

/**
 * The most a route's body may be: CSV routes the import limit; JSON routes their own limit (`routeMax`,
 * from the route policy) but never more than the JSON limit.
 */
export function bodyLimitOf(kind: BodyKind, limits: EdgeLimits, routeMax?: number): number {
  if (kind === 'csv') return limits.csvBodyBytes;
  if (kind === 'upload' || kind === 'mhs') return routeMax ?? limits.jsonBodyBytes;
  return Math.min(routeMax ?? limits.jsonBodyBytes, limits.jsonBodyBytes);
}

export function payloadTooLarge(limit: number): PlatformError {
  return new PlatformError('REC_PAYLOAD_TOO_LARGE', undefined, {
    diagnostics: `The request body is larger than this operation accepts (${limit} bytes)`,
  });
}

/**
 * The body a request announces, against what its route takes: a body only where the route takes one
 * (415), no content coding but identity (415: the gateway does not inflate bodies), the route's media type
 * with no charset but UTF-8 (415), and a declared length within the route's limit (413, before reading).
 * A body without Content-Length (chunked) meets the same limit while it streams in (Fastify's route
 * bodyLimit for JSON, csvBodyStream for CSV).
 */
export function checkBodyHeaders(
  headers: IncomingHttpHeaders,
  kind: BodyKind,
  limits: EdgeLimits,
  routeMax?: number,
): void {
  if (!hasBody(headers)) return;
  if (kind === 'none') throw unsupported('This operation takes no request body');
  const encoding = headerText(headers['content-encoding'])?.trim().toLowerCase();
  if (encoding !== undefined && encoding !== '' && encoding !== 'identity') {
    throw unsupported(`Content-Encoding '${encoding.slice(0, 40)}' is not accepted: send the body uncompressed`);
  }
  const contentType = headers['content-type'];
  const media = contentType === undefined ? undefined : parseMediaType(contentType);
  const accepted: readonly string[] =
    kind === 'csv'
      ? [CSV_MEDIA_TYPE]
      : kind === 'form'
        ? [FORM_MEDIA_TYPE]
        : kind === 'upload'
          ? ERS_ATTACHMENT_MEDIA_TYPES
          : kind === 'mhs'
            ? [MHS_MEDIA_TYPE]
            : JSON_MEDIA_TYPES;
  if (!media || !accepted.includes(media.type)) throw unsupported(EXPECTED[kind]);
  if (media.charset !== undefined && media.charset !== 'utf-8' && media.charset !== 'utf8') {
    throw unsupported(`charset=${media.charset.slice(0, 40)} is not accepted: ${EXPECTED[kind]}`);
  }
  const limit = bodyLimitOf(kind, limits, routeMax);
  const length = Number(headers['content-length']);
  if (Number.isFinite(length) && length > limit) throw payloadTooLarge(limit);
}

/** Whether the request announces a body (Content-Length above 0, or Transfer-Encoding). */
export function announcesBody(headers: IncomingHttpHeaders): boolean {
  return hasBody(headers);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** How deeply arrays and objects nest in JSON text (strings skipped), stopping as soon as it passes `max`. */
export function exceedsDepth(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let index = 0; index < text.length; index += 1) {
    const code = text.charCodeAt(index);
    if (inString) {
      if (code === 0x5c) index += 1;
      else if (code === 0x22) inString = false;
    } else if (code === 0x22) {
      inString = true;
    } else if (code === 0x7b || code === 0x5b) {
      depth += 1;
      if (depth > max) return true;
    } else if (code === 0x7d || code === 0x5d) {
      depth -= 1;
    }
  }
  return false;
}

function checkStrings(value: unknown): void {
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const item = pending.pop();
    if (typeof item === 'string') {
      if (UNACCEPTABLE_CHARACTER.test(item)) {
        throw badRequest('The request body holds a NUL character or an unpaired UTF-16 surrogate (\\u0000, \\ud800)');
      }
    } else if (Array.isArray(item)) {
      for (const element of item as unknown[]) pending.push(element);
    } else if (typeof item === 'object' && item !== null) {
      for (const [key, member] of Object.entries(item)) {
        if (key === '__proto__') throw badRequest("The request body holds a '__proto__' member");
        pending.push(key, member);
      }
    }
  }
}

/** A JSON body: well-formed UTF-8, nested at most `maxDepth` deep, valid JSON, acceptable strings (400). */
export function parseJsonBody(body: Buffer, maxDepth: number): unknown {
  if (body.length === 0) throw badRequest('The request body is empty');
  let text: string;
  try {
    text = utf8.decode(body);
  } catch {
    throw badRequest('The request body is not well-formed UTF-8');
  }
  if (exceedsDepth(text, maxDepth)) {
    throw badRequest(`The request body nests arrays and objects more than ${maxDepth} deep`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw badRequest('The request body is not valid JSON');
  }
  checkStrings(value);
  return value;
}

/**
 * A CSV body (an ODS extract) as a stream, checked as it passes: at most `limit` bytes (413 as soon as it
 * passes the limit, chunked or not), UTF-8 text without NUL bytes (400), not empty (400). Nothing holds the
 * whole extract: the N3 import route streams it on into the object store, which drops what it stored of a
 * body that fails.
 */
export function csvBodyStream(source: Readable, limit: number): Readable {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let received = 0;
  const checked = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      received += chunk.length;
      if (received > limit) {
        callback(payloadTooLarge(limit));
        return;
      }
      if (chunk.includes(0)) {
        callback(badRequest('The extract holds a NUL byte: send UTF-8 text'));
        return;
      }
      try {
        decoder.decode(chunk, { stream: true });
      } catch {
        callback(badRequest('The extract is not well-formed UTF-8'));
        return;
      }
      callback(null, chunk);
    },
    flush(callback) {
      if (received === 0) {
        callback(badRequest('The extract is empty'));
        return;
      }
      try {
        decoder.decode();
      } catch {
        callback(badRequest('The extract is not well-formed UTF-8'));
        return;
      }
      callback();
    },
  });
  source.on('error', (error) => checked.destroy(error));
  source.on('aborted', () => checked.destroy(badRequest('The request body was not received in full')));
  return source.pipe(checked);
}
