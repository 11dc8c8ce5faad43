import { Inject, Injectable } from '@nestjs/common';
import type { Pool } from 'pg';
import type { CallContext } from '@platform/shared-nats';
import { PDS_DATABASE, type PdsDatabase } from '../database/database.provider';

/** One access to one patient record: who, for which organisation, which patient, when, and why. */
export interface ReadAuditEntry {
  at: Date;
  nhsNumber: string;
  action: string;
  actorId: string;
  actorUsername?: string;
  clientId?: string;
  organisation?: string;
  roles: string[];
  requestId: string;
  correlationId?: string;
}

/** The audit entry for one access by the caller of a NATS request. */
export function readAuditEntry(
  nhsNumber: string,
  action: string,
  context: CallContext,
  at = new Date(),
): ReadAuditEntry {
  const caller = context.caller;
  return {
    at,
    nhsNumber,
    action,
    actorId: caller?.id ?? 'anonymous',
    actorUsername: caller?.username,
    clientId: caller?.clientId,
    organisation: caller?.organisation,
    roles: caller?.roles ?? [],
    requestId: context.requestId,
    correlationId: context.correlationId,
  };
}

interface Waiting {
  entry: ReadAuditEntry;
  resolve: () => void;
  reject: (error: unknown) => void;
}

const MAX_BATCH = 500;

/**
 * The read audit trail, written with group commit: a read waits until its entry is committed, but all the
 * reads that arrive while one INSERT is in flight share the next one. Under load that turns hundreds of
 * single-row commits into a few multi-row ones; at rest each entry is written at once.
 */
@Injectable()
export class ReadAuditRepository {
  private readonly pool: Pool;
  private readonly table: string;
  private readonly insertStatement: string;
  private queue: Waiting[] = [];
  private draining: Promise<void> | undefined;

  constructor(@Inject(PDS_DATABASE) database: PdsDatabase) {
    this.pool = database.pool;
    this.table = `"${database.schema}".read_audit`;
    this.insertStatement = `pds_read_audit_insert_${database.schema}`;
  }

  record(entry: ReadAuditEntry): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ entry, resolve, reject });
      this.draining ??= this.drain();
    });
  }

  async entriesFor(nhsNumber: string): Promise<ReadAuditEntry[]> {
    const result = await this.pool.query<{
      at: Date;
      nhs_number: string;
      action: string;
      actor_id: string;
      actor_username: string | null;
      client_id: string | null;
      organisation: string | null;
      roles: string[];
      request_id: string;
      correlation_id: string | null;
    }>(`SELECT * FROM ${this.table} WHERE nhs_number = $1 ORDER BY id`, [nhsNumber]);
    return result.rows.map((row) => ({
      at: row.at,
      nhsNumber: row.nhs_number,
      action: row.action,
      actorId: row.actor_id,
      actorUsername: row.actor_username ?? undefined,
      clientId: row.client_id ?? undefined,
      organisation: row.organisation ?? undefined,
      roles: row.roles,
      requestId: row.request_id,
      correlationId: row.correlation_id ?? undefined,
    }));
  }

  /** Resolves when every entry recorded so far has been written (or has failed). */
  async flushed(): Promise<void> {
    while (this.draining) await this.draining;
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, MAX_BATCH);
        try {
          await this.insert(batch.map((waiting) => waiting.entry));
          for (const waiting of batch) waiting.resolve();
        } catch (error) {
          for (const waiting of batch) waiting.reject(error);
        }
      }
    } finally {
      this.draining = undefined;
    }
  }

  private async insert(entries: ReadAuditEntry[]): Promise<void> {
    const column = <K extends keyof ReadAuditEntry>(key: K): (ReadAuditEntry[K] | null)[] =>
      entries.map((entry) => entry[key] ?? null);
    await this.pool.query({
      name: this.insertStatement,
      text: `INSERT INTO ${this.table}
         (at, nhs_number, action, actor_id, actor_username, client_id, organisation, roles, request_id, correlation_id)
       SELECT at, nhs_number, action, actor_id, actor_username, client_id, organisation,
              string_to_array(roles, ','), request_id, correlation_id
       FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                   $8::text[], $9::text[], $10::text[])
         AS t(at, nhs_number, action, actor_id, actor_username, client_id, organisation, roles, request_id, correlation_id)`,
      values: [
        column('at'),
        column('nhsNumber'),
        column('action'),
        column('actorId'),
        column('actorUsername'),
        column('clientId'),
        column('organisation'),
        entries.map((entry) => entry.roles.join(',')),
        column('requestId'),
        column('correlationId'),
      ],
    });
  }
}
