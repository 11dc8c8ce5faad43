import { Readable } from 'node:stream';
import { MailParser, type AddressObject, type HeaderValue } from 'mailparser';
import type { MessageAttachment } from '@platform/contracts-nhsmail';

/** What a walk over a stored message finds: headers, bodies, the attachment list, and one piece if asked. */
export interface WalkedMessage {
  headers: Map<string, HeaderValue>;
  headerLines: { key: string; line: string }[];
  text: string | null;
  html: string | null;
  attachments: MessageAttachment[];
  /** The bytes of the piece asked for (attachment `want.index` from `want.offset`, at most `want.max`). */
  piece?: Buffer;
}

interface MailPart {
  type: 'text' | 'attachment';
  text?: string;
  html?: string | false;
  filename?: string;
  contentType?: string;
  content?: Readable;
  release?: () => void;
}

/**
 * Streams a message through mailparser: attachment bytes are counted as they pass and never kept, except the
 * one piece asked for, so a 35 MB message is read in about one chunk's memory plus its text.
 */
export function walkMessage(
  source: AsyncIterable<Buffer>,
  want?: { index: number; offset: number; max: number },
): Promise<WalkedMessage> {
  return new Promise((resolve, reject) => {
    const parser = new MailParser({ skipImageLinks: true, skipTextLinks: true, skipTextToHtml: true });
    const walked: WalkedMessage = { headers: new Map(), headerLines: [], text: null, html: null, attachments: [] };
    const pieces: Buffer[] = [];
    parser.on('headers', (headers: Map<string, HeaderValue>) => {
      walked.headers = headers;
    });
    parser.on('headerLines', (lines: { key: string; line: string }[]) => {
      walked.headerLines = lines;
    });
    parser.on('data', (part: MailPart) => {
      if (part.type === 'text') {
        walked.text = part.text ?? null;
        walked.html = typeof part.html === 'string' ? part.html : null;
        return;
      }
      const index = walked.attachments.length;
      const entry: MessageAttachment = {
        index,
        filename: part.filename ?? null,
        contentType: part.contentType ?? 'application/octet-stream',
        sizeBytes: 0,
      };
      walked.attachments.push(entry);
      const collect = want?.index === index;
      part.content?.on('data', (chunk: Buffer) => {
        const start = entry.sizeBytes;
        entry.sizeBytes += chunk.length;
        if (!collect || !want) return;
        const from = Math.max(want.offset, start);
        const to = Math.min(want.offset + want.max, entry.sizeBytes);
        if (to > from) pieces.push(chunk.subarray(from - start, to - start));
      });
      part.content?.on('end', () => part.release?.());
      part.content?.on('error', () => part.release?.());
    });
    parser.on('end', () => {
      if (want) walked.piece = Buffer.concat(pieces);
      resolve(walked);
    });
    parser.on('error', reject);
    Readable.from(source).on('error', reject).pipe(parser);
  });
}

export function addressesOf(value: HeaderValue | undefined): string[] {
  if (!value || typeof value !== 'object' || !('value' in value)) return [];
  return (value as AddressObject).value.flatMap((entry) => (entry.address ? [entry.address] : []));
}
