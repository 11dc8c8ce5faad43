import type { Transform, Writable } from 'node:stream';
import { domainToUnicode } from 'node:url';
import { Splitter, type MimeNode, type SplitterChunk } from '@zone-eu/mailsplit';
import libmime from 'libmime';
import addressparser from 'nodemailer/lib/addressparser';
import { blockedAttachment } from './blocked-attachments';

/** What the DATA check needs to know about a message's MIME. */
export interface MimeFindings {
  /** The splitter gave up on the structure (a header block over 1 MiB, more than 1,000 parts). */
  malformed: boolean;
  /** Why the first refused part is refused (see blocked-attachments). */
  blocked?: string;
  /** The addresses of the top-level `From` header (its first one), lower case; groups name none. */
  from: string[];
  /** The first non-empty top-level `Message-ID`, in angle brackets. */
  messageId: string | null;
  /** The first non-empty top-level `Subject`, encoded words decoded, at most 998 characters. */
  subject: string | null;
}

export interface MimeCheck {
  /** Write the message here (bytes as they arrived). */
  input: Writable;
  /** Settles once the input has ended and been split, or the splitter failed (`malformed`); never rejects. */
  findings: Promise<MimeFindings>;
}

// An RFC 2047 encoded word.
const ENCODED_WORD = /=\?[^?]+\?[BbQq]\?[^?]*\?=/;
const HEADER_TEXT_LIMIT = 998;

/** A header line's value, unfolded and trimmed; raw 8-bit bytes read as UTF-8. */
function headerValue(line: string): string {
  const value = String(libmime.decodeHeader(line).value || '').trim();
  return Buffer.from(value, 'binary').toString();
}

function decodeWords(value: string): string {
  try {
    return libmime.decodeWords(value);
  } catch {
    return value; // an unknown charset: kept as it is
  }
}

/**
 * The mailbox addresses of an address header. An encoded word decodes into a display name only: one in the
 * address counts when it decodes to a plain local@domain and drops the address otherwise (RFC 2047 section 5).
 * A punycode domain is given in Unicode.
 */
export function headerAddresses(value: string): string[] {
  return addressparser(value).flatMap((entry) => {
    let address = entry.address ?? '';
    if (address && ENCODED_WORD.test(address)) {
      const decoded = decodeWords(address);
      address = /^[^\s@]+@[^\s@]+$/.test(decoded) && !decoded.includes('=?') ? decoded : '';
    }
    if (/@xn--/.test(address)) {
      const at = address.lastIndexOf('@');
      const domain = domainToUnicode(address.slice(at + 1));
      if (domain) address = address.slice(0, at + 1) + domain;
    }
    return address ? [address.toLowerCase()] : [];
  });
}

/** The top-level From, Subject and Message-ID, each the first occurrence that carries a value. */
function readTopHeaders(node: MimeNode, findings: MimeFindings): void {
  let fromSeen = false;
  for (const { key, line } of node.headers ? node.headers.getList() : []) {
    if (key === 'from' && !fromSeen) {
      fromSeen = true;
      findings.from = headerAddresses(headerValue(line));
    } else if (key === 'subject' && findings.subject === null) {
      const subject = decodeWords(headerValue(line));
      if (subject) findings.subject = subject.slice(0, HEADER_TEXT_LIMIT);
    } else if (key === 'message-id' && findings.messageId === null) {
      const id = decodeWords(headerValue(line));
      if (id)
        findings.messageId = `${id.startsWith('<') ? '' : '<'}${id}${id.endsWith('>') ? '' : '>'}`.slice(
          0,
          HEADER_TEXT_LIMIT,
        );
    }
  }
}

/**
 * A name parameter of a part's header (Content-Disposition `filename`, Content-Type `name`), decoded as the
 * splitter decodes the one it keeps: RFC 2231 by the parser, else encoded words, comments dropped.
 */
function headerParam(node: MimeNode, header: string, param: string): string | undefined {
  const value = node.headers ? node.headers.getFirst(header) : '';
  if (!value) return undefined;
  const parsed = libmime.parseHeaderValue(value, { stripComments: true });
  const raw = parsed.params[param];
  if (!raw) return undefined;
  return parsed.decodedParams?.includes(param) ? raw : decodeWords(raw);
}

/**
 * Why a part is refused, if it is. Every part counts, inline text included, by every name it carries (the
 * Content-Disposition filename and the Content-Type name, each decoded: a part is refused if either is blocked)
 * and, for a leaf, its declared type (an application/octet-stream one: also the type each name implies). A
 * multipart container has no content of its own; an embedded message/rfc822 that the splitter opened (any not
 * marked attachment, 7bit/8bit/binary) is checked through its own parts, any other one as a single part.
 */
function partRefusal(node: MimeNode): string | undefined {
  const declared = node.contentType || (node.root ? 'text/plain' : '');
  const container = declared.startsWith('multipart/') || (declared === 'message/rfc822' && !!node.messageNode);
  const names = [
    ...new Set(
      [
        node.filename,
        headerParam(node, 'content-disposition', 'filename'),
        headerParam(node, 'content-type', 'name'),
      ].filter((name): name is string => !!name),
    ),
  ];
  const typeOf = (name: string | undefined): string | undefined =>
    container
      ? undefined
      : (declared === 'application/octet-stream' && name ? libmime.detectMimeType(name) || declared : declared) ||
        undefined;
  for (const name of names) {
    const refusal = blockedAttachment(name, typeOf(name));
    if (refusal) return refusal;
  }
  return names.length === 0 ? blockedAttachment(undefined, typeOf(undefined)) : undefined;
}

/** Forwarded messages are checked inside forwarded messages this deep; a deeper one is refused as malformed. */
export const MAX_EMBEDDED_DEPTH = 8;

/**
 * Splits a message's MIME as it streams (@zone-eu/mailsplit) without decoding any body: part contents pass
 * through and are dropped, only the header blocks are read (an embedded message's included). Decides what
 * receiveMessage refuses on (malformed MIME, a blocked part) and reads the top-level From, Subject and Message-ID.
 * An embedded message the splitter does not open (one marked attachment, or base64 or quoted-printable
 * encoded) is decoded as it streams (the part's own decoder) into a check of its own, to MAX_EMBEDDED_DEPTH:
 * what that check refuses, the message is refused for.
 */
export function checkMime(depth = 0): MimeCheck {
  // defaultInlineEmbedded: a message/rfc822 part is opened unless marked attachment (a forwarded message
  // usually has no Content-Disposition at all); one marked attachment stays a single part.
  const splitter = new Splitter({ defaultInlineEmbedded: true });
  const findings: MimeFindings = { malformed: false, from: [], messageId: null, subject: null };
  const inner: Promise<MimeFindings>[] = [];
  /** The embedded message whose body is being decoded into its own check. */
  let sealed: { node: MimeNode; decoder: Transform } | undefined;
  const endSealed = (): void => {
    sealed?.decoder.end();
    sealed = undefined;
  };
  let first = true;
  splitter.on('data', (chunk: SplitterChunk) => {
    if (chunk.type === 'body') {
      if (sealed && chunk.node === sealed.node) sealed.decoder.write(chunk.value);
      return;
    }
    if (chunk.type !== 'node') return;
    endSealed();
    if (first) {
      first = false;
      readTopHeaders(chunk, findings);
    }
    findings.blocked ??= partRefusal(chunk);
    if (chunk.contentType === 'message/rfc822' && !chunk.messageNode) {
      if (depth >= MAX_EMBEDDED_DEPTH) {
        findings.malformed = true;
        return;
      }
      const check = checkMime(depth + 1);
      const decoder = chunk.getDecoder() as Transform;
      decoder.on('error', () => check.input.destroy(new Error('the embedded message could not be decoded')));
      decoder.pipe(check.input);
      sealed = { node: chunk, decoder };
      inner.push(check.findings);
    }
  });
  // mailsplit types the splitter with its 'data' event only; it is a Transform and has the others as well.
  const stream = splitter as unknown as Transform;
  const split = new Promise<void>((resolve) => {
    stream.once('end', () => {
      endSealed();
      resolve();
    });
    stream.on('error', () => {
      findings.malformed = true;
      endSealed();
      resolve();
    });
  });
  const settled = split.then(async () => {
    for (const found of await Promise.all(inner)) {
      if (found.malformed) findings.malformed = true;
      findings.blocked ??= found.blocked;
    }
    return findings;
  });
  return { input: stream, findings: settled };
}
