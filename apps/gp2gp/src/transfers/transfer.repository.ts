import { Inject, Injectable } from '@nestjs/common';
import type { Pool, PoolClient } from 'pg';
import {
  REASONS,
  WORKING_STATES,
  type ListTransfersRequest,
  type ReasonCode,
  type TransferPage,
  type TransferReason,
  type TransferState,
  type TransferStatus,
} from '@platform/contracts-gp2gp';
import { GP2GP_DATABASE, type Gp2gpDatabase } from '../database/database.provider';

export interface TransferRow {
  conversation_id: string;
  nhs_number: string;
  requesting_ods: string;
  sending_ods: string;
  sender_endpoint: string | null;
  state: TransferState;
  reason_code: ReasonCode | null;
  reason_detail: string | null;
  requested_by: string;
  requested_at: Date;
  updated_at: Date;
  extract_json: string | null;
  ack_due_at: Date | null;
  resends: number;
  attempts: number;
}

export interface AttachmentRow {
  conversation_id: string;
  position: number;
  document_id: string;
  source_url: string;
  content_type: string;
  title: string | null;
  size: string;
  fragment_count: number;
  sha256: string | null;
  verified: boolean;
}

export interface FragmentRow {
  position: number;
  index: number;
  byte_offset: string;
  size: number;
  sha256: string;
  object_name: string;
}

export interface NewAttachment {
  position: number;
  documentId: string;
  sourceUrl: string;
  contentType: string;
  title: string | null;
  size: number;
  fragmentCount: number;
}

type Db = Pool | PoolClient;

export function reasonOf(code: ReasonCode | null): TransferReason | null {
  if (!code) return null;
  const reason = REASONS[code];
  return { code, display: reason.display, httpStatus: reason.httpStatus };
}

/** The only code that reads and writes transfers, their attachments, fragments, log and access audit. */
@Injectable()
export class TransferRepository {
  readonly pool: Pool;
  private readonly schema: string;

  constructor(@Inject(GP2GP_DATABASE) database: Gp2gpDatabase) {
    this.pool = database.pool;
    this.schema = `"${database.schema}"`;
  }

  tableName(name: string): string {
    return `${this.schema}.${name}`;
  }

  async find(conversationId: string, db: Db = this.pool, lock = false): Promise<TransferRow | undefined> {
    const result = await db.query<TransferRow>(
      `SELECT * FROM ${this.tableName('transfer')} WHERE conversation_id = $1 ${lock ? 'FOR UPDATE' : ''}`,
      [conversationId],
    );
    return result.rows[0];
  }

  /** Inserts a new transfer; undefined when the conversation already exists (a racing start won). */
  async insert(
    db: Db,
    transfer: {
      conversationId: string;
      nhsNumber: string;
      requestingOds: string;
      sendingOds: string;
      senderEndpoint: string | null;
      state: TransferState;
      reasonCode: ReasonCode | null;
      reasonDetail: string | null;
      requestedBy: string;
    },
  ): Promise<TransferRow | undefined> {
    const result = await db.query<TransferRow>(
      `INSERT INTO ${this.tableName('transfer')} (conversation_id, nhs_number, requesting_ods, sending_ods,
         sender_endpoint, state, reason_code, reason_detail, requested_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (conversation_id) DO NOTHING RETURNING *`,
      [
        transfer.conversationId,
        transfer.nhsNumber,
        transfer.requestingOds,
        transfer.sendingOds,
        transfer.senderEndpoint,
        transfer.state,
        transfer.reasonCode,
        transfer.reasonDetail,
        transfer.requestedBy,
      ],
    );
    return result.rows[0];
  }

  async log(db: Db, conversationId: string, state: TransferState, detail: string | null = null): Promise<void> {
    await db.query(
      `INSERT INTO ${this.tableName('transfer_log')} (conversation_id, state, detail) VALUES ($1, $2, $3)`,
      [conversationId, state, detail],
    );
  }

  /**
   * Moves a transfer from one of `from` to `to` (compare and set: a repeated or late step finds the state
   * already moved on and changes nothing), logging the step. Answers whether it moved.
   */
  async transition(
    db: Db,
    conversationId: string,
    from: readonly TransferState[],
    to: TransferState,
    options: {
      detail?: string | null;
      reasonCode?: ReasonCode | null;
      extractJson?: string;
      ackDueHours?: number;
      owner?: string;
    } = {},
  ): Promise<boolean> {
    const sets = ['state = $3', 'updated_at = now()', 'attempts = 0'];
    const values: unknown[] = [conversationId, from, to];
    if (options.reasonCode !== undefined) {
      values.push(options.reasonCode, options.detail ?? null);
      sets.push(`reason_code = $${values.length - 1}`, `reason_detail = $${values.length}`);
    }
    if (options.extractJson !== undefined) {
      values.push(options.extractJson);
      sets.push(`extract_json = $${values.length}`);
    }
    if (options.ackDueHours !== undefined) {
      values.push(options.ackDueHours);
      sets.push(`ack_due_at = now() + make_interval(hours => $${values.length})`);
    }
    let guard = '';
    if (options.owner) {
      values.push(options.owner);
      guard = `AND lease_owner = $${values.length}`;
    }
    const result = await db.query(
      `UPDATE ${this.tableName('transfer')} SET ${sets.join(', ')}
       WHERE conversation_id = $1 AND state = ANY($2::text[]) ${guard}`,
      values,
    );
    if (!result.rowCount) return false;
    await this.log(db, conversationId, to, options.detail ?? null);
    return true;
  }

  /**
   * Claims one transfer with work to do whose lease is free or lapsed (its worker died), for `leaseMs`, under
   * `owner`: a token of this one claim, so that a run which lost its lease (taken over, even by the same
   * worker) finds every write guarded by it refused. Transfers in `exclude` (the ones this worker is moving
   * now) are never claimed, even when their lease has lapsed.
   */
  async claim(owner: string, leaseMs: number, exclude: readonly string[] = []): Promise<TransferRow | undefined> {
    const result = await this.pool.query<TransferRow>(
      `UPDATE ${this.tableName('transfer')} SET lease_owner = $1, lease_until = now() + make_interval(secs => $2 / 1000.0)
       WHERE conversation_id = (
         SELECT conversation_id FROM ${this.tableName('transfer')}
         WHERE state = ANY($3::text[]) AND next_attempt_at <= now() AND (lease_until IS NULL OR lease_until < now())
           AND conversation_id <> ALL($4::uuid[])
         ORDER BY next_attempt_at LIMIT 1 FOR UPDATE SKIP LOCKED)
       RETURNING *`,
      [owner, leaseMs, WORKING_STATES, exclude],
    );
    return result.rows[0];
  }

  /** Extends the claim; false when another claim has taken the transfer over (this run must stop). */
  async renew(conversationId: string, owner: string, leaseMs: number): Promise<boolean> {
    const result = await this.pool.query(
      `UPDATE ${this.tableName('transfer')} SET lease_until = now() + make_interval(secs => $3 / 1000.0)
       WHERE conversation_id = $1 AND lease_owner = $2`,
      [conversationId, owner, leaseMs],
    );
    return (result.rowCount ?? 0) > 0;
  }

  async release(conversationId: string, owner: string): Promise<void> {
    await this.pool.query(
      `UPDATE ${this.tableName('transfer')} SET lease_owner = NULL, lease_until = NULL
       WHERE conversation_id = $1 AND lease_owner = $2`,
      [conversationId, owner],
    );
  }

  /**
   * A step failed for a reason that may pass: try again after `delayMs`; answers the attempts so far (0 when the
   * claim was lost). The attempt that reaches `maxAttempts` keeps the lease, for its run to fail the transfer.
   */
  async retryLater(
    conversationId: string,
    owner: string,
    delayMs: number,
    detail: string,
    maxAttempts: number,
  ): Promise<number> {
    const result = await this.pool.query<{ attempts: number }>(
      `UPDATE ${this.tableName('transfer')} SET attempts = attempts + 1,
         lease_owner = CASE WHEN attempts + 1 >= $5 THEN lease_owner END,
         lease_until = CASE WHEN attempts + 1 >= $5 THEN lease_until END,
         next_attempt_at = now() + make_interval(secs => $3 / 1000.0), reason_detail = $4
       WHERE conversation_id = $1 AND lease_owner = $2 RETURNING attempts`,
      [conversationId, owner, delayMs, detail, maxAttempts],
    );
    return result.rows[0]?.attempts ?? 0;
  }

  async insertAttachments(db: Db, conversationId: string, attachments: NewAttachment[]): Promise<void> {
    for (const attachment of attachments) {
      await db.query(
        `INSERT INTO ${this.tableName('attachment')} (conversation_id, position, document_id, source_url, content_type,
           title, size, fragment_count) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (conversation_id, position) DO NOTHING`,
        [
          conversationId,
          attachment.position,
          attachment.documentId,
          attachment.sourceUrl,
          attachment.contentType,
          attachment.title,
          attachment.size,
          attachment.fragmentCount,
        ],
      );
    }
  }

  async attachments(conversationId: string, db: Db = this.pool): Promise<AttachmentRow[]> {
    const result = await db.query<AttachmentRow>(
      `SELECT * FROM ${this.tableName('attachment')} WHERE conversation_id = $1 ORDER BY position`,
      [conversationId],
    );
    return result.rows;
  }

  async attachment(conversationId: string, position: number): Promise<AttachmentRow | undefined> {
    const result = await this.pool.query<AttachmentRow>(
      `SELECT * FROM ${this.tableName('attachment')} WHERE conversation_id = $1 AND position = $2`,
      [conversationId, position],
    );
    return result.rows[0];
  }

  async fragments(conversationId: string, position?: number): Promise<FragmentRow[]> {
    const result = await this.pool.query<FragmentRow>(
      `SELECT position, index, byte_offset, size, sha256, object_name FROM ${this.tableName('fragment')}
       WHERE conversation_id = $1 AND ($2::int IS NULL OR position = $2) ORDER BY position, index`,
      [conversationId, position ?? null],
    );
    return result.rows;
  }

  /**
   * Records a stored fragment once (a repeat after a crash finds it recorded and adds nothing), while `owner`
   * holds the transfer's lease (the lease row is locked until the insert is done); false when it does not.
   */
  async recordFragment(
    conversationId: string,
    owner: string,
    fragment: { position: number; index: number; offset: number; size: number; sha256: string; objectName: string },
  ): Promise<boolean> {
    const result = await this.pool.query<{ held: number }>(
      `WITH lease AS (
         SELECT conversation_id FROM ${this.tableName('transfer')} WHERE conversation_id = $1 AND lease_owner = $8 FOR SHARE
       ), recorded AS (
         INSERT INTO ${this.tableName('fragment')} (conversation_id, position, index, byte_offset, size, sha256, object_name)
         SELECT $1, $2::int, $3::int, $4::bigint, $5::int, $6::text, $7::text FROM lease ON CONFLICT (conversation_id, position, index) DO NOTHING
       )
       SELECT count(*)::int AS held FROM lease`,
      [
        conversationId,
        fragment.position,
        fragment.index,
        fragment.offset,
        fragment.size,
        fragment.sha256,
        fragment.objectName,
        owner,
      ],
    );
    return result.rows[0].held > 0;
  }

  /** Records an attachment's SHA-256 while `owner` holds the transfer's lease; false when it does not. */
  async completeAttachment(conversationId: string, owner: string, position: number, sha256: string): Promise<boolean> {
    const result = await this.pool.query(
      `UPDATE ${this.tableName('attachment')} SET sha256 = $3 WHERE conversation_id = $1 AND position = $2
         AND EXISTS (SELECT 1 FROM ${this.tableName('transfer')} WHERE conversation_id = $1 AND lease_owner = $4 FOR SHARE)`,
      [conversationId, position, sha256, owner],
    );
    return (result.rowCount ?? 0) > 0;
  }

  /** Marks an attachment checked while `owner` holds the transfer's lease; false when it does not. */
  async markVerified(conversationId: string, owner: string, position: number): Promise<boolean> {
    const result = await this.pool.query(
      `UPDATE ${this.tableName('attachment')} SET verified = true WHERE conversation_id = $1 AND position = $2
         AND EXISTS (SELECT 1 FROM ${this.tableName('transfer')} WHERE conversation_id = $1 AND lease_owner = $3 FOR SHARE)`,
      [conversationId, position, owner],
    );
    return (result.rowCount ?? 0) > 0;
  }

  /** Forgets a transfer's attachments and fragments (a resend starts again), in the caller's transaction. */
  async clearAttachments(db: Db, conversationId: string): Promise<void> {
    await db.query(`DELETE FROM ${this.tableName('attachment')} WHERE conversation_id = $1`, [conversationId]);
  }

  async resetForResend(db: Db, conversationId: string, senderEndpoint: string | null): Promise<void> {
    await db.query(
      `UPDATE ${this.tableName('transfer')} SET state = 'EHR_EXTRACT_REQUEST_ACCEPTED', reason_code = NULL,
         reason_detail = NULL, extract_json = NULL, ack_due_at = NULL, resends = resends + 1, attempts = 0,
         next_attempt_at = now(), lease_owner = NULL, lease_until = NULL, updated_at = now(),
         sender_endpoint = $2, objects_purged = false
       WHERE conversation_id = $1`,
      [conversationId, senderEndpoint],
    );
  }

  /** Closed transfers whose fragments are still stored (completed, or failed: nothing will read them). */
  async unpurged(limit: number): Promise<{ conversation_id: string }[]> {
    const result = await this.pool.query<{ conversation_id: string }>(
      `SELECT conversation_id FROM ${this.tableName('transfer')}
       WHERE NOT objects_purged AND state IN ('MIGRATION_COMPLETED', 'EHR_EXTRACT_NEGATIVE_ACK_FAILED_TO_INTEGRATE',
         'ERROR_REQUEST_TIMEOUT', 'ERROR_LRG_MSG_REASSEMBLY_FAILURE', 'ERROR_LRG_MSG_ATTACHMENTS_NOT_RECEIVED',
         'ERROR_LRG_MSG_GENERAL_FAILURE', 'EHR_GENERAL_PROCESSING_ERROR', 'EHR_EXTRACT_REQUEST_NEGATIVE_ACK')
       LIMIT $1`,
      [limit],
    );
    return result.rows;
  }

  async markPurged(conversationId: string): Promise<void> {
    await this.pool.query(`UPDATE ${this.tableName('transfer')} SET objects_purged = true WHERE conversation_id = $1`, [
      conversationId,
    ]);
  }

  /** Records who read a patient's record or attachment (BRIEF section 3: every read of a record is audited). */
  async audit(
    db: Db,
    entry: {
      conversationId: string;
      nhsNumber: string;
      callerId: string;
      organisation: string | null;
      action: string;
      requestId: string;
    },
  ): Promise<void> {
    await db.query(
      `INSERT INTO ${this.tableName('record_access')} (conversation_id, nhs_number, caller_id, organisation, action, request_id)
       VALUES ($1, $2, $3, $4, $5, $6)`,
      [entry.conversationId, entry.nhsNumber, entry.callerId, entry.organisation, entry.action, entry.requestId],
    );
  }

  async status(conversationId: string): Promise<TransferStatus | undefined> {
    const transfer = await this.find(conversationId);
    if (!transfer) return undefined;
    const [attachments, fragments, log] = await Promise.all([
      this.attachments(conversationId),
      this.pool.query<{ position: number; n: number }>(
        `SELECT position, count(*)::int AS n FROM ${this.tableName('fragment')} WHERE conversation_id = $1 GROUP BY position`,
        [conversationId],
      ),
      this.pool.query<{ state: TransferState; at: Date; detail: string | null }>(
        `SELECT state, at, detail FROM ${this.tableName('transfer_log')} WHERE conversation_id = $1 ORDER BY id`,
        [conversationId],
      ),
    ]);
    const stored = new Map(fragments.rows.map((row) => [row.position, row.n]));
    return {
      conversationId: transfer.conversation_id,
      state: transfer.state,
      requestingOds: transfer.requesting_ods,
      sendingOds: transfer.sending_ods,
      reason: reasonOf(transfer.reason_code),
      requestedAt: transfer.requested_at.toISOString(),
      updatedAt: transfer.updated_at.toISOString(),
      ackDueAt: transfer.ack_due_at?.toISOString() ?? null,
      resends: transfer.resends,
      attachments: attachments.map((attachment) => ({
        position: attachment.position,
        contentType: attachment.content_type,
        size: Number(attachment.size),
        fragments: attachment.fragment_count,
        fragmentsStored: stored.get(attachment.position) ?? 0,
        sha256: attachment.sha256,
        verified: attachment.verified,
      })),
      log: log.rows.map((row) => ({ state: row.state, at: row.at.toISOString(), detail: row.detail })),
    };
  }

  async list(filter: ListTransfersRequest): Promise<TransferPage> {
    const where: string[] = [];
    const values: unknown[] = [];
    const add = (clause: string, value: unknown): void => {
      values.push(value);
      where.push(clause.replace('?', `$${values.length}`));
    };
    if (filter.state) add('state = ?', filter.state);
    if (filter.requestingOds) add('requesting_ods = ?', filter.requestingOds);
    if (filter.sendingOds) add('sending_ods = ?', filter.sendingOds);
    if (filter.since) add('requested_at >= ?::timestamptz', filter.since);
    values.push(filter.limit + 1, filter.offset);
    const result = await this.pool.query<TransferRow>(
      `SELECT * FROM ${this.tableName('transfer')} ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY requested_at DESC, conversation_id LIMIT $${values.length - 1} OFFSET $${values.length}`,
      values,
    );
    const items = result.rows.slice(0, filter.limit).map((row) => ({
      conversationId: row.conversation_id,
      state: row.state,
      requestingOds: row.requesting_ods,
      sendingOds: row.sending_ods,
      reasonCode: row.reason_code,
      requestedAt: row.requested_at.toISOString(),
      updatedAt: row.updated_at.toISOString(),
    }));
    return result.rows.length > filter.limit ? { items, nextOffset: filter.offset + filter.limit } : { items };
  }
}
