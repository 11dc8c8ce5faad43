import { headers as natsHeaders, JSONCodec, type JetStreamClient, type NatsConnection } from 'nats';
import type { Pool, PoolClient } from 'pg';
import type { CallContext } from '@platform/shared-nats';
import type { Logger } from '@platform/shared-logging';
import { prepared } from './prepared';
import { withTransaction } from './transaction';
import type { ServiceDatabase } from './database';

const codec = JSONCodec<unknown>();
const BATCH = 200;
const SWEEP_MS = 1000;
/** How long kickSoon waits for other kicks to join it, unless the outbox is given its own `foldMs`. */
const KICK_SOON_MS = 20;

export interface OutboxOptions {
  /**
   * How long kickSoon waits for the kicks of other commits to join it (default 20 ms): the longest an event
   * committed with kickSoon waits for its publication, for a pass every `foldMs` at most under load.
   */
  foldMs?: number;
}

/**
 * Creates a service's event stream, or brings its subjects up to date (NATS server 2.9 features only). List
 * the event subjects one by one: a wildcard such as `pds.patient.>` would also capture request subjects and
 * answer them with acks.
 */
export async function ensureEventStream(
  nats: NatsConnection,
  stream: string,
  subjects: readonly string[],
): Promise<void> {
  const manager = await nats.jetstreamManager();
  try {
    const info = await manager.streams.info(stream);
    if (subjects.some((subject) => !info.config.subjects.includes(subject))) {
      await manager.streams.update(stream, {
        ...info.config,
        subjects: [...new Set([...info.config.subjects, ...subjects])],
      });
    }
  } catch (error) {
    if ((error as { code?: string }).code !== '404') throw error;
    await manager.streams.add({ name: stream, subjects: [...subjects], duplicate_window: 120_000_000_000 });
  }
}

/**
 * The transactional outbox: an event is written in the same transaction as the change it describes, and a
 * relay publishes it to JetStream afterwards (at once after each commit, and by a sweep every second for
 * anything a crash left behind), up to 200 events at a time with their acks awaited together. JetStream's duplicate window drops a second publish of the same outbox row,
 * so a relay that dies between publishing and marking publishes nothing twice; replicas share the work with
 * SKIP LOCKED.
 */
export class Outbox {
  private readonly pool: Pool;
  private readonly table: string;
  private readonly jetstream: JetStreamClient;
  private timer: NodeJS.Timeout | undefined;
  private soon: { timer: NodeJS.Timeout; done: Promise<void>; fire: () => void } | undefined;
  private relaying: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private readonly foldMs: number;

  /** `service` names the outbox's rows in JetStream message IDs (`<service>-outbox-<id>`), so they never collide. */
  constructor(
    database: ServiceDatabase,
    nats: NatsConnection,
    private readonly logger: Logger,
    private readonly service: string,
    options: OutboxOptions = {},
  ) {
    this.foldMs = options.foldMs ?? KICK_SOON_MS;
    this.pool = database.pool;
    this.table = `"${database.schema}".outbox`;
    this.jetstream = nats.jetstream();
  }

  async append(transaction: PoolClient, subject: string, payload: unknown, context: CallContext): Promise<void> {
    const headers: Record<string, string> = { 'X-Request-ID': context.requestId };
    if (context.correlationId) headers['X-Correlation-ID'] = context.correlationId;
    await transaction.query(`INSERT INTO ${this.table} (subject, payload, headers) VALUES ($1, $2, $3)`, [
      subject,
      JSON.stringify(payload),
      JSON.stringify(headers),
    ]);
  }

  /** Nest's lifecycle hook: starts the relay. */
  onApplicationBootstrap(): void {
    // A hybrid app (HTTP + NATS) can run bootstrap hooks twice: start one sweep only.
    if (this.timer || this.stopped) return;
    this.timer = setInterval(() => this.kick(), SWEEP_MS);
    this.timer.unref();
    this.kick();
  }

  /** Stops the sweep and waits for a relay in progress (before the pool closes). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    if (this.soon) {
      clearTimeout(this.soon.timer);
      this.soon.fire();
      this.soon = undefined;
    }
    await this.idle();
  }

  /** Publishes whatever is waiting, now; overlapping calls fold into one more pass. */
  kick(): void {
    if (this.stopped) return;
    if (this.relaying) {
      this.again = true;
      return;
    }
    this.relaying = this.relay()
      .catch((error: unknown) => this.logger.warn({ err: error }, 'outbox relay failed; will retry'))
      .finally(() => {
        this.relaying = undefined;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  /**
   * Publishes soon rather than at once: the kicks of every commit within the outbox's `foldMs` fold into one
   * relay pass (one transaction reading and marking all their events, one round of JetStream acks) instead of
   * a pass each, for a service that commits events many times a second. The events are committed already; only
   * their publication waits, by at most `foldMs` (and the sweep publishes them within a second whatever happens).
   */
  kickSoon(): void {
    if (this.stopped || this.soon) return;
    let fire = (): void => undefined;
    const done = new Promise<void>((resolve) => (fire = resolve));
    const timer = setTimeout(() => {
      this.soon = undefined;
      fire();
      this.kick();
    }, this.foldMs);
    timer.unref();
    this.soon = { timer, done, fire };
  }

  /** Resolves when nothing is being relayed or waiting to be (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.soon || this.relaying) {
      if (this.soon) await this.soon.done;
      if (this.relaying) await this.relaying;
    }
  }

  private async relay(): Promise<void> {
    for (;;) {
      const published = await withTransaction(this.pool, async (client) => {
        const rows = await client.query<{
          id: string;
          subject: string;
          payload: unknown;
          headers: Record<string, string>;
        }>(
          prepared(
            `SELECT id, subject, payload, headers FROM ${this.table} WHERE published_at IS NULL
             ORDER BY id LIMIT ${BATCH} FOR UPDATE SKIP LOCKED`,
            [],
          ),
        );
        // The batch's publishes go out together and their acks are awaited together (one round trip to
        // JetStream for the batch, not one per event). They leave in order on the one connection, so JetStream
        // stores them in order; if one fails, the batch is rolled back and published again, and the
        // duplicate window drops the copies already stored (a later event may then be stored before it).
        await Promise.all(
          rows.rows.map((row) => {
            const h = natsHeaders();
            for (const [name, value] of Object.entries(row.headers)) h.set(name, value);
            return this.jetstream.publish(row.subject, codec.encode(row.payload), {
              msgID: `${this.service}-outbox-${row.id}`,
              headers: h,
            });
          }),
        );
        if (rows.rows.length > 0) {
          await client.query(
            prepared(`UPDATE ${this.table} SET published_at = now() WHERE id = ANY($1::bigint[])`, [
              rows.rows.map((row) => row.id),
            ]),
          );
        }
        return rows.rows.length;
      });
      if (published < BATCH) return;
    }
  }
}
