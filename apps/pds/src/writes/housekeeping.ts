import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import type { Pool } from 'pg';
import type { Logger } from '@platform/shared-logging';
import { PDS_DATABASE, type PdsDatabase } from '../database/database.provider';
import { PDS_LOGGER } from '../events/outbox';

export const PDS_RETENTION = Symbol('PDS_RETENTION');

export interface Retention {
  /** How long a write's answer is kept for retries (longer than any client's retry window). */
  idempotencyHours: number;
  /** How long published outbox rows are kept for inspection. */
  publishedEventHours: number;
}

const EVERY_MS = 15 * 60 * 1000;

/** Deletes write answers and published events past their retention, every quarter of an hour. */
@Injectable()
export class Housekeeping implements OnApplicationBootstrap {
  private readonly pool: Pool;
  private readonly schema: string;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    @Inject(PDS_DATABASE) database: PdsDatabase,
    @Inject(PDS_RETENTION) private readonly retention: Retention,
    @Inject(PDS_LOGGER) private readonly logger: Logger,
  ) {
    this.pool = database.pool;
    this.schema = database.schema;
  }

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
