import { Inject, Injectable } from '@nestjs/common';
import type { Pool, PoolClient } from 'pg';
import type {
  AttachmentPiece,
  ListMessagesRequest,
  MessageContent,
  MessagePage,
  MessageSummary,
} from '@platform/contracts-nhsmail';
import { PlatformError } from '@platform/shared-errors';
import { withTransaction } from '@platform/shared-persistence';
import { NHSMAIL_RELAY_DATABASE, type NhsmailRelayDatabase } from '../database/database.provider';
import { MessageStore } from '../queue/message-store';
import { addressesOf, walkMessage } from './message-walk';

interface SummaryRow {
  id: string;
  message: string;
  seen: boolean;
  delivered_at: Date;
  from_header: string | null;
  subject: string | null;
  size_bytes: string;
  total?: string;
}

function toSummary(row: SummaryRow): MessageSummary {
  return {
    id: row.id,
    from: row.from_header,
    subject: row.subject,
    sizeBytes: Number(row.size_bytes),
    seen: row.seen,
    deliveredAt: row.delivered_at.toISOString(),
  };
}

/** `%`, `_` and `\` taken literally in ILIKE. */
function literal(text: string): string {
  return text.replace(/[\\%_]/g, (character) => `\\${character}`);
}

/** The largest body text or HTML the API returns (longer ones are cut; the attachments stay downloadable). */
const MAX_BODY_CHARS = 2 * 1024 * 1024;

/** An attachment piece: 512 KiB is about 700 KB of base64, under NATS's 1 MB message. */
const PIECE_BYTES = 512 * 1024;

/**
 * What a mailbox holds, through the API: pages of summaries, a message read from its chunks with mailparser
 * (every read audited: who, which mailbox, which message, when; never content or addresses in logs), flags
 * and deletion. The caller's right to the mailbox is checked before any of these (MailboxAccess).
 */
@Injectable()
export class MailboxMessages {
  private readonly pool: Pool;
  private readonly schema: string;

  constructor(
    @Inject(NHSMAIL_RELAY_DATABASE) database: NhsmailRelayDatabase,
    private readonly store: MessageStore,
  ) {
    this.pool = database.pool;
    this.schema = `"${database.schema}"`;
  }

  async list(request: ListMessagesRequest): Promise<MessagePage> {
    const limit = request.limit ?? 50;
    const offset = request.offset ?? 0;
    const result = await this.pool.query<SummaryRow>(
      `SELECT mm.id, mm.message, mm.seen, mm.delivered_at, m.from_header, m.subject, m.size_bytes,
              count(*) OVER () AS total
         FROM ${this.schema}.mailbox_message mm JOIN ${this.schema}.message m ON m.id = mm.message
        WHERE mm.mailbox = $1
          AND ($2::boolean IS NOT TRUE OR NOT mm.seen)
          AND ($3::text IS NULL OR m.subject ILIKE '%' || $3 || '%')
          AND ($4::text IS NULL OR m.from_header ILIKE '%' || $4 || '%')
          AND ($5::timestamptz IS NULL OR mm.delivered_at >= $5)
          AND ($6::timestamptz IS NULL OR mm.delivered_at <= $6)
        ORDER BY mm.delivered_at DESC, mm.id
        LIMIT $7 OFFSET $8`,
      [
        request.mailbox,
        request.unreadOnly ?? false,
        request.subject === undefined ? null : literal(request.subject),
        request.from === undefined ? null : literal(request.from.toLowerCase()),
        request.since ?? null,
        request.until ?? null,
        limit,
        offset,
      ],
    );
    const unread = await this.pool.query<{ count: string }>(
      `SELECT count(*) FROM ${this.schema}.mailbox_message WHERE mailbox = $1 AND NOT seen`,
      [request.mailbox],
    );
    let total = Number(result.rows[0]?.total ?? 0);
    if (result.rows.length === 0 && offset > 0) {
      const counted = await this.pool.query<{ count: string }>(
        `SELECT count(*) FROM ${this.schema}.mailbox_message WHERE mailbox = $1`,
        [request.mailbox],
      );
      total = Number(counted.rows[0]?.count ?? 0);
    }
    return { messages: result.rows.map(toSummary), unread: Number(unread.rows[0]?.count ?? 0), total, offset, limit };
  }

  private async summary(mailbox: string, id: string, client: Pool | PoolClient = this.pool): Promise<SummaryRow> {
    const result = await client.query<SummaryRow>(
      `SELECT mm.id, mm.message, mm.seen, mm.delivered_at, m.from_header, m.subject, m.size_bytes
         FROM ${this.schema}.mailbox_message mm JOIN ${this.schema}.message m ON m.id = mm.message
        WHERE mm.mailbox = $1 AND mm.id = $2`,
      [mailbox, id],
    );
    const row = result.rows[0];
    if (!row) throw new PlatformError('NHSMAIL_MESSAGE_NOT_FOUND');
    return row;
  }

  /** Reads the stored message (streamed through mailparser), then (in one transaction) records the read and marks it seen. */
  async read(mailbox: string, id: string, reader: string, requestId: string): Promise<MessageContent> {
    const row = await this.summary(mailbox, id);
    const walked = await walkMessage(this.store.content(row.message));
    await this.audit(mailbox, id, reader, 'read', requestId, true);
    const messageId = walked.headers.get('message-id');
    const date = walked.headers.get('date');
    return {
      ...toSummary(row),
      seen: true,
      messageId: typeof messageId === 'string' ? messageId : null,
      to: addressesOf(walked.headers.get('to')),
      cc: addressesOf(walked.headers.get('cc')),
      date: date instanceof Date && !Number.isNaN(date.getTime()) ? date.toISOString() : null,
      headers: walked.headerLines.map((line) => ({
        name: line.key,
        value: line.line.slice(line.line.indexOf(':') + 1).trim(),
      })),
      text: walked.text === null ? null : walked.text.slice(0, MAX_BODY_CHARS),
      html: walked.html === null ? null : walked.html.slice(0, MAX_BODY_CHARS),
      attachments: walked.attachments,
    };
  }

  /**
   * One piece of attachment `index` from `offset`: the message is streamed again for each piece and only that
   * piece is kept (at most PIECE_BYTES in memory). The first piece is audited.
   */
  async attachmentPiece(
    mailbox: string,
    id: string,
    index: number,
    offset: number,
    reader: string,
    requestId: string,
  ): Promise<AttachmentPiece> {
    const row = await this.summary(mailbox, id);
    const walked = await walkMessage(this.store.content(row.message), { index, offset, max: PIECE_BYTES });
    const attachment = walked.attachments[index];
    if (!attachment || offset > attachment.sizeBytes) {
      throw new PlatformError('NHSMAIL_MESSAGE_NOT_FOUND', 'No such attachment');
    }
    if (offset === 0) await this.audit(mailbox, id, reader, `attachment ${index}`, requestId, false);
    const data = walked.piece ?? Buffer.alloc(0);
    const end = offset + data.length;
    return {
      filename: attachment.filename,
      contentType: attachment.contentType,
      sizeBytes: attachment.sizeBytes,
      offset,
      data: data.toString('base64'),
      next: end < attachment.sizeBytes ? end : null,
    };
  }

  /** Who read which message of which mailbox, when (and with which request); optionally marks it seen. */
  async audit(
    mailbox: string,
    id: string,
    reader: string,
    what: string,
    requestId: string,
    markSeen: boolean,
  ): Promise<void> {
    await withTransaction(this.pool, async (transaction) => {
      await transaction.query(
        `INSERT INTO ${this.schema}.message_read_audit (mailbox, message, reader, what, request_id) VALUES ($1, $2, $3, $4, $5)`,
        [mailbox, id, reader, what, requestId],
      );
      if (markSeen) {
        await transaction.query(
          `UPDATE ${this.schema}.mailbox_message SET seen = true WHERE mailbox = $1 AND id = $2 AND NOT seen`,
          [mailbox, id],
        );
      }
    });
  }

  async mark(
    mailbox: string,
    id: string,
    seen: boolean,
    client: Pool | PoolClient = this.pool,
  ): Promise<MessageSummary> {
    const result = await client.query(
      `UPDATE ${this.schema}.mailbox_message SET seen = $3 WHERE mailbox = $1 AND id = $2`,
      [mailbox, id, seen],
    );
    if (result.rowCount !== 1) throw new PlatformError('NHSMAIL_MESSAGE_NOT_FOUND');
    return toSummary(await this.summary(mailbox, id, client));
  }

  async delete(mailbox: string, id: string, client: Pool | PoolClient = this.pool): Promise<{ deleted: true }> {
    const result = await client.query(`DELETE FROM ${this.schema}.mailbox_message WHERE mailbox = $1 AND id = $2`, [
      mailbox,
      id,
    ]);
    if (result.rowCount !== 1) throw new PlatformError('NHSMAIL_MESSAGE_NOT_FOUND');
    return { deleted: true };
  }
}
