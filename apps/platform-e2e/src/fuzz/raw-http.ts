import { connect } from 'node:net';

/**
 * An HTTP/1.1 client that sends exactly the bytes it is given (fetch refuses NUL and non-ASCII in headers,
 * malformed targets and contradictory framing, which is what a fuzzer needs to send), one connection per
 * request (Connection: close), and reads the answer until the server closes the connection.
 */

export interface RawRequest {
  method: string;
  /** The request target as bytes (Latin-1 string: one character per byte). */
  target: string;
  /** Header lines as bytes (Latin-1); Host and Connection: close are added, and Content-Length for a body. */
  headers: [string, string][];
  body?: Buffer;
  /** Leave out the Content-Length the client would add (the headers carry the framing). */
  rawFraming?: boolean;
}

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

export function requestBytes(request: RawRequest, host: string): Buffer {
  const lines = [`${request.method} ${request.target} HTTP/1.1`, `Host: ${host}`, 'Connection: close'];
  for (const [name, value] of request.headers) lines.push(`${name}: ${value}`);
  if (request.body && !request.rawFraming) lines.push(`Content-Length: ${request.body.length}`);
  const head = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
  return request.body ? Buffer.concat([head, request.body]) : head;
}

function dechunk(body: Buffer): Buffer {
  const parts: Buffer[] = [];
  let offset = 0;
  while (offset < body.length) {
    const lineEnd = body.indexOf('\r\n', offset);
    if (lineEnd === -1) break;
    const size = parseInt(body.subarray(offset, lineEnd).toString('latin1'), 16);
    if (!Number.isFinite(size) || size === 0) break;
    parts.push(body.subarray(lineEnd + 2, lineEnd + 2 + size));
    offset = lineEnd + 2 + size + 2;
  }
  return Buffer.concat(parts);
}

export function parseResponse(bytes: Buffer): RawResponse | undefined {
  const split = bytes.indexOf('\r\n\r\n');
  if (split === -1) return undefined;
  const [statusLine = '', ...headerLines] = bytes.subarray(0, split).toString('latin1').split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1]);
  if (!Number.isInteger(status)) return undefined;
  const headers: Record<string, string> = {};
  for (const line of headerLines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const rest = bytes.subarray(split + 4);
  const length = Number(headers['content-length'] ?? Number.NaN);
  // What follows the body (a second answer to bytes the server read as another request) is not part of it.
  const body = /chunked/i.test(headers['transfer-encoding'] ?? '')
    ? dechunk(rest)
    : Number.isInteger(length)
      ? rest.subarray(0, length)
      : rest;
  // A 100 Continue is followed by the real answer.
  if (status === 100) return parseResponse(rest);
  return { status, headers, body };
}

/** Sends the request and answers the parsed response, or undefined when the server closed without one. */
export function sendRaw(
  port: number,
  request: RawRequest,
  timeoutMs = 15_000,
): Promise<RawResponse | { error: string }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const socket = connect({ host: '127.0.0.1', port });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ error: `no answer within ${timeoutMs} ms` });
    }, timeoutMs);
    // Not end(): Node's server drops requests whose client half-closes before the answer is written.
    socket.on('connect', () => socket.write(requestBytes(request, `127.0.0.1:${port}`)));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      const parsed = parseResponse(Buffer.concat(chunks));
      resolve(parsed ?? { error: chunks.length === 0 ? 'connection closed without an answer' : 'unparsable answer' });
    });
  });
}
