import { Inject, Injectable } from '@nestjs/common';
import type { Pool, PoolClient } from 'pg';
import type { PrescriptionEvent } from '@platform/contracts-eps';
import type { ServiceDatabase } from '@platform/shared-persistence';
import { EPS_DATABASE } from '../database/database';

/** A history entry to write: what `PrescriptionEvent` reads back (before the database dates it), with its keys. */
export type EventRecord = Omit<PrescriptionEvent, 'at'> & { shortFormId: string; requestId: string };

/** A prescription's history: every change, with who made it and why, in order. */
@Injectable()
export class PrescriptionHistoryRepository {
  private readonly pool: Pool;
  private readonly schema: string;

  constructor(@Inject(EPS_DATABASE) database: ServiceDatabase) {
    this.pool = database.pool;
    this.schema = `"${database.schema}"`;
  }

  async append(transaction: PoolClient, event: EventRecord): Promise<void> {
    await transaction.query(
      `INSERT INTO ${this.schema}.prescription_event
         (short_form_id, kind, from_status, to_status, pharmacy, detail, actor, actor_organisation, request_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [
        event.shortFormId,
        event.kind,
        event.fromStatus,
        event.toStatus,
        event.pharmacy,
        event.detail,
        event.actor,
        event.actorOrganisation,
        event.requestId,
      ],
    );
  }

  async list(shortFormId: string): Promise<PrescriptionEvent[]> {
    const result = await this.pool.query<{
      kind: string;
      from_status: string | null;
      to_status: string | null;
      pharmacy: string | null;
      detail: string | null;
      actor: string;
      actor_organisation: string | null;
      at: Date;
    }>(`SELECT * FROM ${this.schema}.prescription_event WHERE short_form_id = $1 ORDER BY sequence`, [shortFormId]);
    return result.rows.map((row) => ({
      kind: row.kind,
      fromStatus: row.from_status,
      toStatus: row.to_status,
      pharmacy: row.pharmacy,
      detail: row.detail,
      actor: row.actor,
      actorOrganisation: row.actor_organisation,
      at: row.at.toISOString(),
    }));
  }
}
