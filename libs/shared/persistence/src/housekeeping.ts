import type { Pool } from 'pg';
import type { Logger } from '@platform/shared-logging';
import type { ServiceDatabase } from './database';

export interface Retention {
  /** How long a write's answer is kept for retries (longer than any client's retry window). */
  idempotencyHours: number;
  /** How long published outbox rows are kept for inspection. */
  publishedEventHours: number;
}

const EVERY_MS = 15 * 60 * 1000;

/** Deletes write answers and published events past their retention, every quarter of an hour. */
export class Housekeeping {
  private readonly pool: Pool;
  private readonly schema: string;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    database: ServiceDatabase,
    private readonly retention: Retention,
    private readonly logger: Logger,
  ) {
    this.pool = database.pool;
    this.schema = database.schema;
  }

  /** Called by Nest when the application has started (the method name is Nest's lifecycle hook). */
  onApplicationBootstrap(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      this.run().catch((error: unknown) => this.logger.warn({ err: error }, 'housekeeping failed; will retry'));
    }, EVERY_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  async run(): Promise<{ answers: number; events: number }> {
    const answers = await this.pool.query(
      `DELETE FROM "${this.schema}".idempotent_request WHERE created_at < now() - make_interval(hours => $1)`,
      [this.retention.idempotencyHours],
    );
    const events = await this.pool.query(
      `DELETE FROM "${this.schema}".outbox
       WHERE published_at IS NOT NULL AND published_at < now() - make_interval(hours => $1)`,
      [this.retention.publishedEventHours],
    );
    return { answers: answers.rowCount ?? 0, events: events.rowCount ?? 0 };
  }
}
