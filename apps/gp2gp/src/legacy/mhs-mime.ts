import { MhsMessageError } from './mhs-message';
import { findAll, parseXml, XmlError } from './xml';

/**
 * An ebXML message as an MHS sends it on the wire: a `multipart/related` MIME entity whose start part is the
 * ebXML envelope, followed by the HL7 payload and the attachments the envelope's Manifest names by Content-Id
 * (`cid:`). Attachments carried by other messages are named `mid:` and have no part. This turns it into the
 * MHS adaptor's inbound shape (`{ ebXML, payload, attachments, external_attachments }`), refusing anything
 * that does not add up: no boundary, no closing delimiter, a part the manifest does not name, a named part that
 * is missing, an encoding other than base64, 7bit, 8bit or binary.
 *
 * Hand-written rather than mailparser: mailparser reads a text/plain part as the message's body, not as an
 * attachment, and GP2GP attachments are often text/plain.
 */
const MAX_PARTS = 202;

function fail(message: string): never {
  throw new MhsMessageError(message);
}

interface Part {
  headers: Map<string, string>;
  body: string;
}

function headersOf(lines: string[]): Map<string, string> {
  const headers = new Map<string, string>();
  let last: string | undefined;
  for (const line of lines) {
    if (/^[ \t]/.test(line) && last) {
      headers.set(last, `${headers.get(last)} ${line.trim()}`);
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) fail(`a MIME header line without a name: ${line.slice(0, 40)}`);
    last = line.slice(0, colon).trim().toLowerCase();
    if (!/^[a-z0-9-]+$/.test(last)) fail('a MIME header with an invalid name');
    headers.set(last, line.slice(colon + 1).trim());
  }
  return headers;
}

/** `type/subtype; name=value; name="value"` into the type and its parameters (names lower-cased). */
export function contentTypeOf(value: string | undefined): { type: string; params: Map<string, string> } {
  const params = new Map<string, string>();
  if (!value) return { type: '', params };
  const [type, ...rest] = value.split(';');
  const pattern = /\s*([A-Za-z0-9_-]+)\s*=\s*("([^"]*)"|[^;\s]*)\s*/y;
  const text = rest.join(';');
  let at = 0;
  while (at < text.length) {
    pattern.lastIndex = at;
    const match = pattern.exec(text);
    if (!match) fail('a Content-Type parameter that cannot be read');
    params.set(match[1].toLowerCase(), match[3] ?? match[2]);
    at = pattern.lastIndex;
    if (text[at] === ';') at += 1;
  }
  return { type: type.trim().toLowerCase(), params };
}

function splitHead(text: string): { head: string[]; body: string } {
  const match = /\r?\n\r?\n/.exec(text);
  if (!match) fail('a MIME entity without a blank line after its headers');
  return { head: text.slice(0, match.index).split(/\r?\n/), body: text.slice(match.index + match[0].length) };
}

function parts(body: string, boundary: string): Part[] {
  const lines = body.split(/\r?\n/);
  const found: Part[] = [];
  let current: string[] | undefined;
  let closed = false;
  for (const line of lines) {
    const trimmed = line.trimEnd();
    if (trimmed === `--${boundary}--`) {
      if (current) found.push(partOf(current));
      closed = true;
      break;
    }
    if (trimmed === `--${boundary}`) {
      if (current) found.push(partOf(current));
      if (found.length >= MAX_PARTS) fail(`more than ${MAX_PARTS} MIME parts`);
      current = [];
      continue;
    }
    current?.push(line);
  }
  if (!closed) fail('the multipart body has no closing boundary');
  if (found.length === 0) fail('the multipart body has no parts');
  return found;
}

function partOf(lines: string[]): Part {
  const blank = lines.findIndex((line) => line === '');
  if (blank < 0) fail('a MIME part without a blank line after its headers');
  return { headers: headersOf(lines.slice(0, blank)), body: lines.slice(blank + 1).join('\r\n') };
}

const contentId = (value: string | undefined): string => (value ?? '').replace(/^<|>$/g, '').trim();

interface Reference {
  href: string;
  id: string | null;
  description: string;
  payload: boolean;
}

/** The MHS adaptor's inbound shape of a raw `multipart/related` ebXML message (headers included). */
export function mimeToMhsJson(raw: string): Record<string, unknown> {
  if (typeof raw !== 'string' || raw.length === 0) fail('the MIME message is empty');
  const { head, body } = splitHead(raw);
  const { type, params } = contentTypeOf(headersOf(head).get('content-type'));
  if (type !== 'multipart/related') fail('the MIME message is not multipart/related');
  const boundary = params.get('boundary');
  if (!boundary || boundary.length > 70) fail('the multipart/related message has no usable boundary');
  const all = parts(body, boundary);
  const start = params.get('start');
  const envelopePart = start
    ? all.find((part) => contentId(part.headers.get('content-id')) === contentId(start))
    : all[0];
  if (!envelopePart) fail('no MIME part is the start part the Content-Type names');
  let references: Reference[];
  try {
    references = findAll(parseXml(envelopePart.body), 'Reference').map((reference) => ({
      href: reference.attributes['href'] ?? '',
      id: reference.attributes['id'] ?? null,
      description: reference.children.find((child) => child.name === 'Description')?.text.trim() ?? '',
      payload: reference.children.some((child) => child.name === 'Payload'),
    }));
  } catch (error) {
    if (error instanceof XmlError) fail(`the ebXML header is not well-formed XML: ${error.message}`);
    throw error;
  }
  const byId = new Map(all.map((part) => [contentId(part.headers.get('content-id')), part]));
  const used = new Set<Part>([envelopePart]);
  const take = (href: string): Part => {
    const part = byId.get(href.slice(4));
    if (!part) fail(`the manifest names a part that is not in the message: ${href.slice(0, 80)}`);
    used.add(part);
    return part;
  };
  const payloadReference = references.find((reference) => reference.payload && reference.href.startsWith('cid:'));
  const payloadPart = payloadReference ? take(payloadReference.href) : all[1];
  if (!payloadPart) fail('the message has no HL7 payload part');
  used.add(payloadPart);
  const attachments = references
    .filter((reference) => reference !== payloadReference && reference.href.startsWith('cid:'))
    .map((reference) => {
      const part = take(reference.href);
      const encoding = (part.headers.get('content-transfer-encoding') ?? '7bit').toLowerCase();
      if (!['base64', '7bit', '8bit', 'binary'].includes(encoding)) {
        fail(`a part with a Content-Transfer-Encoding gp2gp does not take: ${encoding.slice(0, 20)}`);
      }
      return {
        content_type: contentTypeOf(part.headers.get('content-type')).type || 'application/octet-stream',
        is_base64: encoding === 'base64' ? 'true' : 'false',
        description: reference.description,
        payload: part.body,
      };
    });
  const externalAttachments = references
    .filter((reference) => reference.href.startsWith('mid:'))
    .map((reference) => {
      const messageId = reference.href.slice(4);
      const filename = /Filename="([^"]*)"/.exec(reference.description)?.[1] ?? null;
      return {
        document_id: reference.id ?? messageId,
        message_id: messageId,
        title: filename,
        description: reference.description,
      };
    });
  if (references.some((reference) => !/^(cid|mid):/.test(reference.href))) {
    fail('a manifest reference that is neither cid: nor mid:');
  }
  if (all.some((part) => !used.has(part))) fail('a MIME part the manifest does not name');
  return {
    ebXML: envelopePart.body,
    payload: payloadPart.body,
    attachments,
    external_attachments: externalAttachments,
  };
}
