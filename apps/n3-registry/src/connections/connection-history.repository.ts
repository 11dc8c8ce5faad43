import { Inject, Injectable } from '@nestjs/common';
import type { Pool, PoolClient } from 'pg';
import type { ConnectionEvent, ConnectionStatus } from '@platform/contracts-n3';
import type { ServiceDatabase } from '@platform/shared-persistence';
import { N3_DATABASE } from '../database/database';

/** A history entry to write: what `ConnectionEvent` reads back, before the database numbers and dates it. */
export type EventRecord = Omit<ConnectionEvent, 'sequence' | 'at'>;

/** A connection's history: every change, with who made it, in order. */
@Injectable()
export class ConnectionHistoryRepository {
  private readonly pool: Pool;
  private readonly schema: string;

  constructor(@Inject(N3_DATABASE) database: ServiceDatabase) {
    this.pool = database.pool;
    this.schema = `"${database.schema}"`;
  }

  async append(transaction: PoolClient, event: EventRecord): Promise<void> {
    await transaction.query(
      `INSERT INTO ${this.schema}.connection_event
         (connection_id, kind, from_status, to_status, detail, actor, actor_organisation, request_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [
        event.connectionId,
        event.kind,
        event.fromStatus,
        event.toStatus,
        event.detail,
        event.actor,
        event.actorOrganisation,
        event.requestId,
      ],
    );
  }

  async list(id: string, page: { limit: number; offset: number }): Promise<ConnectionEvent[]> {
    const result = await this.pool.query<{
      sequence: string;
      connection_id: string;
      kind: string;
      from_status: ConnectionStatus | null;
      to_status: ConnectionStatus | null;
      detail: string | null;
      actor: string;
      actor_organisation: string | null;
      request_id: string;
      at: Date;
    }>(`SELECT * FROM ${this.schema}.connection_event WHERE connection_id = $1 ORDER BY sequence LIMIT $2 OFFSET $3`, [
      id,
      page.limit,
      page.offset,
    ]);
    return result.rows.map((row) => ({
      sequence: Number(row.sequence),
      connectionId: row.connection_id,
      kind: row.kind,
      fromStatus: row.from_status,
      toStatus: row.to_status,
      detail: row.detail,
      actor: row.actor,
      actorOrganisation: row.actor_organisation,
      requestId: row.request_id,
      at: row.at.toISOString(),
    }));
  }
}
