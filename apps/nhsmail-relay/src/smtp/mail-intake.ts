import { randomUUID } from 'node:crypto';
import { Writable, type Readable } from 'node:stream';
import type { PoolClient } from 'pg';
import { NHSMAIL_EVENTS, type MessageAcceptedEvent } from '@platform/contracts-nhsmail';
import type { Outbox } from '@platform/shared-persistence';
import { type MessageHeaders, type MessageMeta, type MessageStore } from '../queue/message-store';
import { checkMime } from './mime-check';
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

/**
 * Receives one message from the DATA stream: the bytes go to the durable spool in chunks while a streaming
 * MIME split (checkMime) reads the header blocks of the message and of every part, decoding no body (never
 * the whole message in memory). The message is
 * committed (queued, deliveries, the accepted event) before this resolves, so the 250 that follows means
 * it is on disk; any refusal removes what was written and rejects with the SMTP reply to give. A client that
 * goes away mid-DATA has what it sent removed at once, and this rejects (with a reply nobody reads).
 */
export async function receiveMessage(
  stream: Readable & { sizeExceeded?: boolean },
  request: IntakeRequest,
  store: MessageStore,
  outbox: Outbox,
): Promise<string> {
  const spool = store.spool(request.meta);
  let stored = 0;
  let tooBig = false;

  // A client that goes away mid-DATA: smtp-server destroys the stream (with an error when one is listened
  // for), so it closes without 'end' and the writer never finishes.
  let cutOff = false;
  const closedEarly = new Promise<void>((resolve) => {
    const gone = (): void => {
      if (stream.readableEnded) return;
      cutOff = true;
      resolve();
    };
    if (stream.destroyed) gone();
    stream.once('close', gone);
    stream.on('error', gone);
  });
  if (request.trace) await spool.write(Buffer.from(`${request.trace}\r\n`, 'latin1'));
  // The spool write in flight, so that an abort waits for it (a row inserted after the delete would stay).
  let writing: Promise<void> = Promise.resolve();
  const writer = new Writable({
    highWaterMark: 256 * 1024,
    write(chunk: Buffer, _encoding, done) {
      stored += chunk.length;
      if (stored > request.maxBytes) {
        tooBig = true;
        done();
        return;
      }
      writing = spool.write(chunk);
      writing.then(() => done(), done);
    },
  });
  const mime = checkMime();
  const written = new Promise<void>((resolve, reject) => {
    writer.on('finish', () => resolve());
    writer.on('error', reject);
  });
  const ended = new Promise<void>((resolve) => stream.on('end', () => resolve()));
  stream.pipe(writer);
  stream.pipe(mime.input);
  let storageFailed: unknown;
  try {
    await Promise.race([written, closedEarly]);
  } catch (error) {
    storageFailed = error;
    stream.unpipe(writer);
    stream.resume();
  }
  await Promise.race([ended, closedEarly]);
  if (cutOff) {
    stream.unpipe(writer);
    stream.unpipe(mime.input);
    writer.destroy(); // the chunks it still holds are never written
    mime.input.destroy();
    await writing.catch(() => undefined);
    await spool.abort().catch(() => undefined);
    // Nobody is left to read the reply: smtp-server drops it with the connection.
    throw smtpError(451, '4.4.2 The connection was closed before the message was received in full');
  }
  const { malformed, blocked, from, messageId, subject } = await mime.findings;

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
  if (request.checkFrom) {
    const refusal = await request.checkFrom(from);
    if (refusal) return refuse(553, `5.7.1 ${refusal}`);
  }
  const messageHeaders: MessageHeaders = { messageId, fromHeader: from[0] ?? null, subject };
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
  outbox.kickSoon();
  return request.meta.id;
}

export function newMessageId(): string {
  return randomUUID();
}
