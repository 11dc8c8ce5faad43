import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import MailComposer from 'nodemailer/lib/mail-composer';
import type { PoolClient } from 'pg';
import type { SendMessageRequest, SentMessage } from '@platform/contracts-nhsmail';
import { PlatformError, type WireError } from '@platform/shared-errors';
import type { Caller } from '@platform/shared-nats';
import { Outbox } from '@platform/shared-persistence';
import { MailDomains } from '../mailboxes/mail-domains';
import { MailboxRepository } from '../mailboxes/mailbox.repository';
import { MessageStore } from '../queue/message-store';
import { newMessageId, receiveMessage } from '../smtp/mail-intake';
import { MailboxAccess } from './mailbox-access';

export const MAILBOX_SEND_SETTINGS = 'NHSMAIL_MAILBOX_SEND_SETTINGS';

export interface MailboxSendSettings {
  maxBytes: number;
  hostname: string;
  /** Tells the delivery worker there is work (as an SMTP accept does). */
  accepted: () => void;
}

const OPERATION = 'message.send';

/** Raised inside the queueing transaction when another request with the same X-Request-ID got there first. */
class AlreadySent extends Error {}

/** An SMTP refusal from the intake as the API's error. */
function apiErrorOf(error: unknown): PlatformError {
  const reply = error as { responseCode?: number; message?: string };
  const text = (reply.message ?? '').replace(/^\d\.\d\.\d\s*/, '');
  switch (reply.responseCode) {
    case 552:
      return new PlatformError('NHSMAIL_MESSAGE_TOO_LARGE', undefined, { diagnostics: text });
    case 550:
      return new PlatformError('NHSMAIL_BLOCKED_ATTACHMENT', undefined, { diagnostics: text });
    case 554:
      return new PlatformError('INVALID_VALUE', undefined, { diagnostics: text });
    case 553:
      return new PlatformError('NHSMAIL_MAILBOX_FORBIDDEN', undefined, { diagnostics: text });
    case undefined:
    default:
      return new PlatformError('REC_UNAVAILABLE', 'The message could not be queued; try again');
  }
}

/**
 * Sends from a mailbox through the API: composed into MIME with nodemailer's MailComposer and streamed into
 * the same intake as SMTP (the durable queue, the size limit and the blocked attachment types apply alike; the
 * From header is the mailbox, which the caller must own or be a member of). Once per (caller, X-Request-ID):
 * the answer is written in the very transaction that queues the message, so simultaneous retries queue it once
 * and all get the same answer.
 */
@Injectable()
export class SendMessage {
  constructor(
    private readonly access: MailboxAccess,
    private readonly mailboxes: MailboxRepository,
    private readonly domains: MailDomains,
    private readonly store: MessageStore,
    private readonly outbox: Outbox,
    @Inject(MAILBOX_SEND_SETTINGS) private readonly settings: MailboxSendSettings,
  ) {}

  async execute(request: SendMessageRequest, caller: Caller | undefined, requestId: string): Promise<SentMessage> {
    const callerId = caller?.id ?? 'anonymous';
    const hash = createHash('sha256').update(JSON.stringify(request)).digest('hex');
    const earlier = await this.earlier(callerId, requestId, hash);
    if (earlier) return earlier;
    const mailbox = await this.access.authorise(request.mailbox, caller);
    const recipients = [...new Set([...request.to, ...(request.cc ?? [])])];
    const local = recipients.filter((address) => this.domains.isLocal(address));
    const existing = await this.mailboxes.existing(local);
    const unknown = local.filter((address) => !existing.has(address));
    if (unknown.length > 0) {
      throw new PlatformError('NHSMAIL_UNKNOWN_RECIPIENT', undefined, {
        diagnostics: `${unknown.length} recipient(s) in the platform domains have no mailbox`,
      });
    }
    const id = newMessageId();
    const messageId = `<${id}@${this.settings.hostname}>`;
    const composer = new MailComposer({
      from: { name: mailbox.displayName, address: mailbox.address },
      to: request.to,
      ...(request.cc ? { cc: request.cc } : {}),
      subject: request.subject,
      messageId,
      date: new Date(),
      ...(request.text !== undefined ? { text: request.text } : {}),
      ...(request.html !== undefined ? { html: request.html } : {}),
      attachments: (request.attachments ?? []).map((attachment) => ({
        filename: attachment.filename,
        content: Buffer.from(attachment.contentBase64, 'base64'),
        ...(attachment.contentType ? { contentType: attachment.contentType } : {}),
      })),
    });
    const answer: SentMessage = { id, messageId, recipients: recipients.length, sizeBytes: 0 };
    try {
      await receiveMessage(
        composer.compile().createReadStream(),
        {
          meta: {
            id,
            envelopeFrom: mailbox.address,
            receivedVia: 'api',
            clientIp: null,
            authenticatedAs: caller?.username ?? callerId,
          },
          recipients: recipients.map((address) => ({ address, local: this.domains.isLocal(address) })),
          maxBytes: this.settings.maxBytes,
          checkFrom: (from) =>
            Promise.resolve(from.length === 1 && from[0] === mailbox.address ? undefined : 'From must be the mailbox'),
          alsoInTransaction: async (transaction) => {
            const size = await transaction.query<{ size: string }>(
              `SELECT coalesce(sum(length(data)), 0) AS size FROM ${this.store.schema}.message_chunk WHERE message = $1`,
              [id],
            );
            answer.sizeBytes = Number(size.rows[0]?.size ?? 0);
            await this.claim(transaction, callerId, requestId, hash, answer);
          },
        },
        this.store,
        this.outbox,
      );
    } catch (error) {
      const again = await this.earlier(callerId, requestId, hash);
      if (again) return again;
      throw apiErrorOf(error);
    }
    this.settings.accepted();
    return answer;
  }

  /** The answer kept for this request, inside the transaction that queues the message. */
  private async claim(
    transaction: PoolClient,
    callerId: string,
    requestId: string,
    hash: string,
    answer: SentMessage,
  ): Promise<void> {
    const claimed = await transaction.query(
      `INSERT INTO ${this.store.schema}.idempotent_request (caller_id, request_id, operation, request_hash, outcome)
       VALUES ($1, $2, $3, $4, $5) ON CONFLICT (caller_id, request_id) DO NOTHING`,
      [callerId, requestId, OPERATION, hash, JSON.stringify({ ok: answer })],
    );
    if (claimed.rowCount !== 1) throw new AlreadySent();
  }

  private async earlier(callerId: string, requestId: string, hash: string): Promise<SentMessage | undefined> {
    const result = await this.store.pool.query<{
      operation: string;
      request_hash: string;
      outcome: { ok?: SentMessage; error?: WireError } | null;
    }>(
      `SELECT operation, request_hash, outcome FROM ${this.store.schema}.idempotent_request
        WHERE caller_id = $1 AND request_id = $2`,
      [callerId, requestId],
    );
    const row = result.rows[0];
    if (!row) return undefined;
    if (row.operation !== OPERATION || row.request_hash !== hash) {
      throw new PlatformError('INVALID_VALUE', 'Provided value is invalid', {
        diagnostics: "Invalid value - this 'X-Request-ID' was already used for a different request",
      });
    }
    if (row.outcome?.ok) return row.outcome.ok;
    throw new PlatformError('REC_SERVER_ERROR', 'The earlier request with this X-Request-ID has no answer');
  }
}
