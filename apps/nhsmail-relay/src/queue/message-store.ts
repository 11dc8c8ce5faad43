import { Inject, Injectable } from '@nestjs/common';
import type { CustomTypesConfig, Pool, PoolClient, QueryConfig } from 'pg';
import { connectionsLike, prepared, withTransaction } from '@platform/shared-persistence';
import { NHSMAIL_RELAY_DATABASE, type NhsmailRelayDatabase } from '../database/database.provider';
import { Batches } from './batches';

/** Results in binary format with every column as the bytes PostgreSQL sent (for bytea columns: their content). */
const RAW_BYTES: CustomTypesConfig = {
  getTypeParser: ((_oid: number, format?: string) =>
    format === 'binary' ? (value: Buffer) => value : (value: string) => value) as CustomTypesConfig['getTypeParser'],
};

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
 * The relay's outbox's `foldMs`: its events are published at most this long after their commit, the kicks of
 * every commit within it folding into one outbox pass (four statements). At the outbox's default of 20 ms the nhsmail benchmark's load
 * made a pass for about every seven messages; at 100 ms, one for about every seventeen.
 */
export const EVENT_FOLD_MS = 100;

/** An event for the service's transactional outbox, written with the message (as Outbox.append writes it). */
export interface QueuedEvent {
  subject: string;
  payload: unknown;
  requestId: string;
}

/** A delivery row as a worker holds it while it delivers: leased to that worker, `attempts` counting this one. */
export interface LeasedDelivery {
  id: string;
  message: string;
  recipient: string;
  local: boolean;
  attempts: number;
  created_at: Date;
  delay_notified: boolean;
}

/** A delivery leased in the statement that queued its message, handed over with the message's bytes. */
export interface HandedDelivery {
  row: LeasedDelivery;
  message: StoredMessage;
  /** The whole message (it was one chunk); absent for a local delivery, which needs no bytes. */
  content?: Buffer;
}

/**
 * The delivery worker, as the group commit sees it. Before a group is written the group commit asks it for
 * room; the deliveries it grants are leased to it in the group's own statement (`owner`, `leaseSeconds`, as a
 * claim leases them) and handed over once that statement has committed, with the bytes still in memory: no
 * claim, no read back. Room unused (a failed statement, a recipient named twice) is given back; deliveries
 * written without a lease are announced with `queued`, for the worker's next claim.
 */
export interface DeliveryTaker {
  readonly owner: string;
  readonly leaseSeconds: number;
  reserve(wanted: number): number;
  take(handed: HandedDelivery[]): void;
  release(count: number): void;
  queued(): void;
}

/** Leases to write with a group's deliveries: `leased[i]` for its i-th delivery (in writeCommits' order). */
interface Leases {
  owner: string;
  seconds: number;
  leased: boolean[];
}

/** A delivery row writeCommits leased, as its statement returned it. */
interface LeasedRow {
  id: string;
  message: string;
  recipient: string;
  local: boolean;
  created_at: Date;
}

/** Everything one message's commit writes. */
interface PendingCommit {
  meta: MessageMeta;
  headers: MessageHeaders;
  recipients: { address: string; local: boolean }[];
  /** Its `receiving` row (and earlier chunks) already written: the row is updated, not inserted. */
  rowWritten: boolean;
  sizeBytes: number;
  lastChunk: { seq: number; data: Buffer } | null;
  event: QueuedEvent | null;
}

/**
 * Writes the commits of several messages with one statement (data-modifying CTEs over arrays): new messages
 * inserted as `queued`, messages already receiving flipped to `queued`, their last chunks, their deliveries
 * and their events. A message whose `receiving` row is gone (swept) fails the statement on the foreign keys
 * of its deliveries, and a count check inside the statement fails it for anything else (a cast of its text
 * to integer, evaluated per run, PostgreSQL's only way to raise an error from plain SQL). One statement is one
 * transaction of its own (atomic, one WAL flush) when sent outside BEGIN, as the group commit sends it;
 * inside a caller's transaction a failure rolls that back whole.
 */
export async function writeCommits(
  client: Pool | PoolClient,
  schema: string,
  commits: PendingCommit[],
  leases?: Leases,
): Promise<LeasedRow[]> {
  const chunks = commits.filter((commit) => commit.lastChunk);
  const deliveries = commits.flatMap((commit) =>
    commit.recipients.map((recipient) => ({ message: commit.meta.id, ...recipient })),
  );
  const events = commits.flatMap((commit) => (commit.event ? [commit.event] : []));
  // Prepared: planning this statement of five CTEs cost about as much as running it for one message.
  const result = await client.query<{ queued: string } & Partial<LeasedRow>>(
    prepared(
      `WITH input AS (
       SELECT * FROM unnest($1::uuid[], $2::boolean[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                            $8::text[], $9::text[], $10::text[], $11::bigint[])
         AS i(id, fresh, envelope_from, received_via, client_ip, authenticated_as, kind, message_id, from_header,
              subject, size_bytes)
     ), inserted AS (
       INSERT INTO ${schema}.message (id, state, envelope_from, received_via, client_ip, authenticated_as, kind,
                                      message_id, from_header, subject, size_bytes)
       SELECT id, 'queued', envelope_from, received_via, client_ip, authenticated_as, kind, message_id, from_header,
              subject, size_bytes
         FROM input WHERE fresh
       RETURNING 1
     ), updated AS (
       UPDATE ${schema}.message m
          SET state = 'queued', message_id = i.message_id, from_header = i.from_header, subject = i.subject,
              size_bytes = i.size_bytes
         FROM input i
        WHERE m.id = i.id AND NOT i.fresh AND m.state = 'receiving'
       RETURNING 1
     ), chunks AS (
       INSERT INTO ${schema}.message_chunk (message, seq, data)
       SELECT * FROM unnest($12::uuid[], $13::integer[], $14::bytea[])
       RETURNING 1
     ), deliveries AS (
       INSERT INTO ${schema}.delivery (message, recipient, local, attempts, lease_owner, lease_until)
       SELECT message, recipient, local, CASE WHEN leased THEN 1 ELSE 0 END, CASE WHEN leased THEN $22 END,
              CASE WHEN leased THEN now() + make_interval(secs => $23) END
         FROM unnest($15::uuid[], $16::text[], $17::boolean[], $24::boolean[]) AS d(message, recipient, local, leased)
       ON CONFLICT DO NOTHING
       RETURNING id, message, recipient, local, created_at, lease_owner IS NOT NULL AS leased
     ), events AS (
       INSERT INTO ${schema}.outbox (subject, payload, headers)
       SELECT subject, payload::jsonb, headers::jsonb FROM unnest($18::text[], $19::text[], $20::text[])
         AS e(subject, payload, headers)
       RETURNING 1
     )
     SELECT CASE WHEN q.n = $21::bigint THEN q.n
                 ELSE ('only ' || q.n || ' of ' || $21::bigint || ' messages were still receiving')::integer END AS queued,
            l.id, l.message, l.recipient, l.local, l.created_at
       FROM (SELECT (SELECT count(*) FROM inserted) + (SELECT count(*) FROM updated) AS n) q
       LEFT JOIN (SELECT * FROM deliveries WHERE leased) l ON true`,
      [
        commits.map((commit) => commit.meta.id),
        commits.map((commit) => !commit.rowWritten),
        commits.map((commit) => commit.meta.envelopeFrom),
        commits.map((commit) => commit.meta.receivedVia),
        commits.map((commit) => commit.meta.clientIp),
        commits.map((commit) => commit.meta.authenticatedAs),
        commits.map((commit) => commit.meta.kind ?? 'mail'),
        commits.map((commit) => commit.headers.messageId),
        commits.map((commit) => commit.headers.fromHeader),
        commits.map((commit) => commit.headers.subject),
        commits.map((commit) => commit.sizeBytes),
        chunks.map((commit) => commit.meta.id),
        chunks.map((commit) => commit.lastChunk?.seq ?? 0),
        chunks.map((commit) => commit.lastChunk?.data ?? Buffer.alloc(0)),
        deliveries.map((delivery) => delivery.message),
        deliveries.map((delivery) => delivery.address),
        deliveries.map((delivery) => delivery.local),
        events.map((event) => event.subject),
        events.map((event) => JSON.stringify(event.payload)),
        events.map((event) => JSON.stringify({ 'X-Request-ID': event.requestId })),
        commits.length,
        leases?.owner ?? null,
        leases?.seconds ?? 0,
        deliveries.map((_delivery, i) => leases?.leased[i] ?? false),
      ],
    ),
  );
  const queued = Number(result.rows[0]?.queued ?? 0);
  if (queued !== commits.length) {
    throw new Error(`${commits.length - queued} of ${commits.length} messages were no longer receiving`);
  }
  return result.rows.filter((row): row is { queued: string } & LeasedRow => row.id !== null && row.id !== undefined);
}

/** At most this many bytes of last chunks in one group (the statement carries them hex-encoded). */
const GROUP_BYTES = 4 * 1024 * 1024;
const GROUP_MESSAGES = 500;
/**
 * Groups written at once. One: the messages that reach their commit while a group is written go together in
 * the next. Two (while one waited for its WAL flush the next went) halved the messages per group under the
 * nhsmail benchmark's load, at a statement each, and the relay's database work per message was the larger for it.
 */
export const GROUP_PARALLEL = 1;

/**
 * Group commit: messages that reach their commit while earlier groups are being written wait, and are then
 * written together as one statement (writeCommits: one transaction, one round trip, one WAL flush) instead of
 * one transaction each (Batches). At most `parallel` groups are in flight, each on a connection of the group
 * commit's own (never queued behind delivery work on the service's pool). A group that fails fails every
 * message in it (each answers 451 and the client retries); nothing of a failed group stays, as it is one
 * statement. A message's promise resolves only after its group has committed.
 */
export class GroupCommit extends Batches<PendingCommit> {
  /** The delivery worker the group's deliveries are handed to, once it has started (see DeliveryTaker). */
  taker?: DeliveryTaker;

  constructor(
    private readonly connections: Pool,
    private readonly schema: string,
    parallel = 2,
  ) {
    super((commits) => this.writeGroup(commits), {
      parallel,
      maxItems: GROUP_MESSAGES,
      maxSize: GROUP_BYTES,
      size: (commit) => commit.lastChunk?.data.length ?? 0,
    });
  }

  /** Closes the group commit's own connections: once the SMTP listeners have stopped, nothing is left to commit. */
  async close(): Promise<void> {
    await this.connections.end();
  }

  /**
   * One group's statement, with as many of its deliveries leased to the worker as it has room for. Only a
   * message that is one chunk, all of it in this statement, is handed over: its bytes are the chunk in memory.
   */
  private async writeGroup(commits: PendingCommit[]): Promise<void> {
    const taker = this.taker;
    if (!taker) {
      await writeCommits(this.connections, this.schema, commits);
      return;
    }
    const whole = (commit: PendingCommit): boolean => !commit.rowWritten && (commit.lastChunk?.seq ?? 0) === 0;
    const eligible = commits.reduce((n, commit) => n + (whole(commit) ? commit.recipients.length : 0), 0);
    const granted = eligible > 0 ? taker.reserve(eligible) : 0;
    let left = granted;
    const leased = commits.flatMap((commit) =>
      commit.recipients.map(() => {
        if (left === 0 || !whole(commit)) return false;
        left -= 1;
        return true;
      }),
    );
    let rows: LeasedRow[];
    try {
      rows = await writeCommits(this.connections, this.schema, commits, {
        owner: taker.owner,
        seconds: taker.leaseSeconds,
        leased,
      });
    } catch (error) {
      taker.release(granted);
      throw error;
    }
    const byId = new Map(commits.map((commit) => [commit.meta.id, commit]));
    const handed = rows.map((row): HandedDelivery => {
      const commit = byId.get(row.message) as PendingCommit;
      return {
        row: { ...row, attempts: 1, delay_notified: false },
        message: {
          ...commit.meta,
          kind: commit.meta.kind ?? 'mail',
          ...commit.headers,
          sizeBytes: commit.sizeBytes,
          receivedAt: row.created_at,
        },
        ...(row.local ? {} : { content: commit.lastChunk?.data ?? Buffer.alloc(0) }),
      };
    });
    taker.release(granted - handed.length);
    if (handed.length > 0) taker.take(handed);
    if (granted < leased.length) taker.queued();
  }
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
    private readonly group?: GroupCommit,
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

  /**
   * The last chunk, the headers, the deliveries and the event, then `queued`: durable when this resolves.
   * Without `also`, the message joins the store's group commit (one transaction, one WAL flush, for every
   * message that reaches this point while the previous group is being written); with `also`, it has a
   * transaction of its own in which `also` runs after the message's rows are written.
   */
  async commit(
    headers: MessageHeaders,
    recipients: { address: string; local: boolean }[],
    also?: (transaction: PoolClient) => Promise<void>,
    event?: QueuedEvent,
  ): Promise<void> {
    const pending: PendingCommit = {
      meta: this.meta,
      headers,
      recipients,
      rowWritten: this.rowWritten,
      sizeBytes: this.size,
      lastChunk: this.pendingBytes > 0 ? { seq: this.seq, data: Buffer.concat(this.pending, this.pendingBytes) } : null,
      event: event ?? null,
    };
    this.pending = [];
    this.pendingBytes = 0;
    if (!also && this.group) {
      await this.group.submit(pending);
    } else {
      await withTransaction(this.pool, async (client) => {
        await writeCommits(client, this.schema, [pending]);
        await also?.(client);
      });
      this.group?.taker?.queued();
    }
    this.rowWritten = true;
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

/** The columns of `message` a StoredMessage is read from, for a query that reads them with other rows (`m`). */
export const STORED_MESSAGE_COLUMNS = `m.envelope_from, m.received_via, m.client_ip, m.authenticated_as, m.kind,
  m.message_id, m.from_header, m.subject, m.size_bytes, m.received_at`;

/** A queued message read with STORED_MESSAGE_COLUMNS (and its id). */
export function storedMessageOf(row: MessageRow): StoredMessage {
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

export type StoredMessageRow = Omit<MessageRow, 'id'>;

/** The only code that reads and writes stored messages and their chunks. */
@Injectable()
export class MessageStore {
  readonly pool: Pool;
  readonly schema: string;

  /** The group commit of every spool of this store (see GroupCommit). */
  readonly group: GroupCommit;

  constructor(@Inject(NHSMAIL_RELAY_DATABASE) database: NhsmailRelayDatabase) {
    this.pool = database.pool;
    this.schema = `"${database.schema}"`;
    this.group = new GroupCommit(
      connectionsLike(this.pool, { max: GROUP_PARALLEL, purpose: 'group commit' }),
      this.schema,
      GROUP_PARALLEL,
    );
  }

  /** At shutdown, after the SMTP listeners: the group commit's connections. */
  close(): Promise<void> {
    return this.group.close();
  }

  spool(meta: MessageMeta): Spool {
    return new Spool(this.pool, this.schema, meta, this.group);
  }

  async find(id: string): Promise<StoredMessage | undefined> {
    const result = await this.pool.query<MessageRow>(
      `SELECT m.id, ${STORED_MESSAGE_COLUMNS} FROM ${this.schema}.message m WHERE m.id = $1 AND m.state = 'queued'`,
      [id],
    );
    const row = result.rows[0];
    return row ? storedMessageOf(row) : undefined;
  }

  /**
   * A message's bytes, a few chunks per query, in order. The chunks come in PostgreSQL's binary format: as text
   * a bytea is hex, so each 256 KiB chunk arrived as a 512 KiB string (garbage on the V8 heap, a large object
   * each, piling up until a full collection) before it was decoded.
   */
  async *content(id: string): AsyncGenerator<Buffer> {
    for (let seq = 0; ; seq += 4) {
      // pg takes `binary` per query (its types declare it only for the client).
      const query: QueryConfig & { binary: boolean } = {
        text: `SELECT data FROM ${this.schema}.message_chunk WHERE message = $1 AND seq >= $2 AND seq < $3 ORDER BY seq`,
        values: [id, seq, seq + 4],
        binary: true,
        types: RAW_BYTES,
      };
      const result = await this.pool.query<{ data: Buffer }>(query);
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
