import { Inject, Injectable } from '@nestjs/common';
import type { Pool, PoolClient } from 'pg';
import { NHSMAIL_RELAY_DATABASE, type NhsmailRelayDatabase } from '../database/database.provider';

/** Bytes kept in memory before they go to a chunk row: a small message is one row, written at commit. */
export const CHUNK_BYTES = 256 * 1024;

export interface MessageMeta {
  id: string;
  envelopeFrom: string;
  receivedVia: 'submission' | 'relay' | 'api' | 'system';
  clientIp: string | null;
  authenticatedAs: string | null;
  kind?: 'mail' | 'bounce' | 'delay-notice';
}

export interface MessageHeaders {
  messageId: string | null;
  fromHeader: string | null;
  subject: string | null;
}

export interface StoredMessage extends MessageMeta, MessageHeaders {
  sizeBytes: number;
  receivedAt: Date;
}

/**
 * A message being received: its bytes go to chunk rows of CHUNK_BYTES as they arrive (never one buffer),
 * under a message row in state `receiving` that no worker delivers. `commit` writes the last chunk, the
 * deliveries and anything else given (an event) in one transaction and flips the message to `queued`: the
 * moment after which the relay may answer 250. `abort` removes what was written.
 */
export class Spool {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private seq = 0;
  private rowWritten = false;
  size = 0;

  constructor(
    private readonly pool: Pool,
    private readonly schema: string,
    readonly meta: MessageMeta,
  ) {}

  async write(chunk: Buffer): Promise<void> {
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    this.size += chunk.length;
    if (this.pendingBytes >= CHUNK_BYTES) await this.flush(this.pool);
  }

  private async flush(client: Pool | PoolClient): Promise<void> {
    if (!this.rowWritten) {
      await this.insertRow(client, 'receiving');
      this.rowWritten = true;
    }
    if (this.pendingBytes === 0) return;
    const data = Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    await client.query(`INSERT INTO ${this.schema}.message_chunk (message, seq, data) VALUES ($1, $2, $3)`, [
      this.meta.id,
      this.seq,
      data,
    ]);
    this.seq += 1;
  }

  private async insertRow(client: Pool | PoolClient, state: 'receiving' | 'queued'): Promise<void> {
    await client.query(
      `INSERT INTO ${this.schema}.message (id, state, envelope_from, received_via, client_ip, authenticated_as, kind)
       VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [
        this.meta.id,
        state,
        this.meta.envelopeFrom,
        this.meta.receivedVia,
        this.meta.clientIp,
        this.meta.authenticatedAs,
        this.meta.kind ?? 'mail',
      ],
    );
  }

  /** The last chunk, the headers, the deliveries (and `also`, in the same transaction), then `queued`. */
  async commit(
    headers: MessageHeaders,
    recipients: { address: string; local: boolean }[],
    also?: (transaction: PoolClient) => Promise<void>,
  ): Promise<void> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      await this.flush(client);
      await client.query(
        `UPDATE ${this.schema}.message SET state = 'queued', message_id = $2, from_header = $3, subject = $4, size_bytes = $5
          WHERE id = $1`,
        [this.meta.id, headers.messageId, headers.fromHeader, headers.subject, this.size],
      );
      await client.query(
        `INSERT INTO ${this.schema}.delivery (message, recipient, local)
         SELECT $1, r.address, r.local FROM unnest($2::text[], $3::boolean[]) AS r(address, local) ON CONFLICT DO NOTHING`,
        [this.meta.id, recipients.map((r) => r.address), recipients.map((r) => r.local)],
      );
      await also?.(client);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  async abort(): Promise<void> {
    this.pending = [];
    this.pendingBytes = 0;
    if (this.rowWritten) {
      await this.pool.query(`DELETE FROM ${this.schema}.message WHERE id = $1 AND state = 'receiving'`, [this.meta.id]);
    }
  }
}

interface MessageRow {
  id: string;
  envelope_from: string;
  received_via: MessageMeta['receivedVia'];
  client_ip: string | null;
  authenticated_as: string | null;
  kind: 'mail' | 'bounce' | 'delay-notice';
  message_id: string | null;
  from_header: string | null;
  subject: string | null;
  size_bytes: string;
  received_at: Date;
}

/** The only code that reads and writes stored messages and their chunks. */
@Injectable()
export class MessageStore {
  readonly pool: Pool;
  readonly schema: string;

  constructor(@Inject(NHSMAIL_RELAY_DATABASE) database: NhsmailRelayDatabase) {
    this.pool = database.pool;
    this.schema = `"${database.schema}"`;
  }

  spool(meta: MessageMeta): Spool {
    return new Spool(this.pool, this.schema, meta);
  }

  async find(id: string): Promise<StoredMessage | undefined> {
    const result = await this.pool.query<MessageRow>(
      `SELECT id, envelope_from, received_via, client_ip, authenticated_as, kind, message_id, from_header, subject,
              size_bytes, received_at FROM ${this.schema}.message WHERE id = $1 AND state = 'queued'`,
      [id],
    );
    const row = result.rows[0];
    if (!row) return undefined;
    return {
      id: row.id,
      envelopeFrom: row.envelope_from,
      receivedVia: row.received_via,
      clientIp: row.client_ip,
      authenticatedAs: row.authenticated_as,
      kind: row.kind,
      messageId: row.message_id,
      fromHeader: row.from_header,
      subject: row.subject,
      sizeBytes: Number(row.size_bytes),
      receivedAt: row.received_at,
    };
  }

  /** A message's bytes, a few chunks per query, in order. */
  async *content(id: string): AsyncGenerator<Buffer> {
    for (let seq = 0; ; seq += 4) {
      const result = await this.pool.query<{ data: Buffer }>(
        `SELECT data FROM ${this.schema}.message_chunk WHERE message = $1 AND seq >= $2 AND seq < $3 ORDER BY seq`,
        [id, seq, seq + 4],
      );
      for (const row of result.rows) yield row.data;
      if (result.rows.length < 4) return;
    }
  }

  /** The header block (up to the first blank line, at most 64 KiB), for a bounce's text/rfc822-headers. */
  async headerBlock(id: string): Promise<string> {
    const result = await this.pool.query<{ data: Buffer }>(
      `SELECT substring(data from 1 for 65536) AS data FROM ${this.schema}.message_chunk WHERE message = $1 AND seq = 0`,
      [id],
    );
    const text = result.rows[0]?.data.toString('latin1') ?? '';
    const end = text.search(/\r?\n\r?\n/);
    return end >= 0 ? text.slice(0, end) : text;
  }

  /** A message the relay makes itself (a bounce, a delay notice), queued inside the caller's transaction. */
  async insertGenerated(
    transaction: PoolClient,
    meta: MessageMeta,
    headers: MessageHeaders,
    raw: Buffer,
    recipients: { address: string; local: boolean }[],
  ): Promise<void> {
    await transaction.query(
      `INSERT INTO ${this.schema}.message (id, state, envelope_from, received_via, client_ip, authenticated_as, kind,
                                           message_id, from_header, subject, size_bytes)
       VALUES ($1, 'queued', $2, $3, NULL, NULL, $4, $5, $6, $7, $8)`,
      [
        meta.id,
        meta.envelopeFrom,
        meta.receivedVia,
        meta.kind ?? 'mail',
        headers.messageId,
        headers.fromHeader,
        headers.subject,
        raw.length,
      ],
    );
    await transaction.query(`INSERT INTO ${this.schema}.message_chunk (message, seq, data) VALUES ($1, 0, $2)`, [
      meta.id,
      raw,
    ]);
    await transaction.query(
      `INSERT INTO ${this.schema}.delivery (message, recipient, local)
       SELECT $1, r.address, r.local FROM unnest($2::text[], $3::boolean[]) AS r(address, local)`,
      [meta.id, recipients.map((r) => r.address), recipients.map((r) => r.local)],
    );
  }

  /** Messages abandoned mid-DATA (a client or the relay died) older than `minutes`. */
  async sweepAbandoned(minutes: number): Promise<number> {
    const result = await this.pool.query(
      `DELETE FROM ${this.schema}.message WHERE state = 'receiving' AND received_at < now() - make_interval(mins => $1)`,
      [minutes],
    );
    return result.rowCount ?? 0;
  }
}
