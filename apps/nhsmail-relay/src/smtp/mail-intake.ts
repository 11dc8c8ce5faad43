import { randomUUID } from 'node:crypto';
import { Writable, type Readable } from 'node:stream';
import { MailParser, type AddressObject, type HeaderValue } from 'mailparser';
import type { PoolClient } from 'pg';
import { NHSMAIL_EVENTS, type MessageAcceptedEvent } from '@platform/contracts-nhsmail';
import type { Outbox } from '@platform/shared-persistence';
import type { MessageHeaders, MessageMeta, MessageStore } from '../queue/message-store';
import { kickOutboxSoon } from '../queue/outbox-kick';
import { blockedAttachment } from './blocked-attachments';
import { smtpError } from './smtp-error';

export interface IntakeRequest {
  meta: MessageMeta;
  recipients: { address: string; local: boolean }[];
  /** A `Received:` trace line (without CRLF) put before the message. */
  trace?: string;
  maxBytes: number;
  /** Checked against the `From` header once it is read; a refusal message refuses the message (553 5.7.1). */
  checkFrom?: (addresses: string[]) => Promise<string | undefined>;
  /** Before the commit: extra work in the same transaction (a [secure] message's copy). */
  alsoInTransaction?: (transaction: PoolClient, headers: MessageHeaders) => Promise<void>;
}

function firstAddresses(value: HeaderValue | undefined): string[] {
  if (!value || typeof value !== 'object' || !('value' in value)) return [];
  const list = (value as AddressObject).value;
  return list.flatMap((entry) => (entry.address ? [entry.address.toLowerCase()] : []));
}

function headerText(value: HeaderValue | undefined): string | null {
  if (typeof value === 'string') return value.slice(0, 998);
  if (value && typeof value === 'object' && 'text' in value) return String((value as AddressObject).text).slice(0, 998);
  return null;
}

/**
 * Receives one message from the DATA stream: the bytes go to the durable spool in chunks while a streaming
 * MIME parse looks at the headers and every attachment (never the whole message in memory). The message is
 * committed (queued, deliveries, the accepted event) before this resolves, so the 250 that follows means
 * it is on disk; any refusal removes what was written and rejects with the SMTP reply to give.
 */
export async function receiveMessage(
  stream: Readable & { sizeExceeded?: boolean },
  request: IntakeRequest,
  store: MessageStore,
  outbox: Outbox,
): Promise<string> {
  const spool = store.spool(request.meta);
  let blocked: string | undefined;
  let malformed = false;
  let stored = 0;
  let tooBig = false;
  let headers: Map<string, HeaderValue> | undefined;

  if (request.trace) await spool.write(Buffer.from(`${request.trace}\r\n`, 'latin1'));
  const writer = new Writable({
    highWaterMark: 256 * 1024,
    write(chunk: Buffer, _encoding, done) {
      stored += chunk.length;
      if (stored > request.maxBytes) {
        tooBig = true;
        done();
        return;
      }
      spool.write(chunk).then(() => done(), done);
    },
  });
  const parser = new MailParser({
    skipHtmlToText: true,
    skipTextToHtml: true,
    skipImageLinks: true,
    skipTextLinks: true,
  });
  // Every part as a stream of its own, text parts too: mailparser otherwise gathers each inline text part
  // whole (a 35 MB text body would be held as a buffer and then a string). The relay needs only each part's
  // type and name (the blocked-attachment check sees every part, inline text included) and the top headers.
  (parser as unknown as { textTypes: string[] }).textTypes = [];
  parser.on('headers', (parsed: Map<string, HeaderValue>) => {
    headers ??= parsed;
  });
  parser.on(
    'data',
    (part: { type: string; filename?: string; contentType?: string; content?: Readable; release?: () => void }) => {
      if (part.type !== 'attachment') return;
      blocked ??= blockedAttachment(part.filename, part.contentType);
      part.content?.on('error', () => undefined);
      part.content?.on('end', () => part.release?.());
      part.content?.resume();
    },
  );

  const parsed = new Promise<void>((resolve) => {
    parser.on('end', () => resolve());
    parser.on('error', () => {
      malformed = true;
      resolve();
    });
  });
  const written = new Promise<void>((resolve, reject) => {
    writer.on('finish', () => resolve());
    writer.on('error', reject);
  });
  const ended = new Promise<void>((resolve) => stream.on('end', () => resolve()));
  stream.pipe(writer);
  stream.pipe(parser);
  let storageFailed: unknown;
  try {
    await written;
  } catch (error) {
    storageFailed = error;
    stream.unpipe(writer);
    stream.resume();
  }
  await ended;
  await parsed;

  const refuse = async (code: number, text: string): Promise<never> => {
    await spool.abort().catch(() => undefined);
    throw smtpError(code, text);
  };
  if (storageFailed) return refuse(451, '4.3.0 The message could not be stored; try again later');
  if (tooBig || stream.sizeExceeded) {
    return refuse(552, `5.3.4 Message too big: the limit is ${request.maxBytes} bytes`);
  }
  if (malformed) return refuse(554, '5.6.0 The message is not well-formed MIME and was not accepted');
  if (blocked) return refuse(550, `5.7.1 Message refused: ${blocked}`);
  const from = firstAddresses(headers?.get('from'));
  if (request.checkFrom) {
    const refusal = await request.checkFrom(from);
    if (refusal) return refuse(553, `5.7.1 ${refusal}`);
  }
  const messageHeaders: MessageHeaders = {
    messageId: headerText(headers?.get('message-id')),
    fromHeader: from[0] ?? null,
    subject: headerText(headers?.get('subject')),
  };
  const event: MessageAcceptedEvent = {
    messageId: request.meta.id,
    receivedVia: request.meta.receivedVia,
    recipients: request.recipients.length,
    sizeBytes: spool.size,
    occurredAt: new Date().toISOString(),
  };
  const also = request.alsoInTransaction;
  try {
    await spool.commit(
      messageHeaders,
      request.recipients,
      also ? (transaction) => also(transaction, messageHeaders) : undefined,
      { subject: NHSMAIL_EVENTS.messageAccepted, payload: event, requestId: request.meta.id },
    );
  } catch {
    return refuse(451, '4.3.0 The message could not be stored; try again later');
  }
  kickOutboxSoon(outbox);
  return request.meta.id;
}

export function newMessageId(): string {
  return randomUUID();
}
