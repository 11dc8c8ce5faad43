import { Inject, Injectable } from '@nestjs/common';
import type { Pool } from 'pg';
import type { CallContext } from '@platform/shared-nats';
import { connectionsLike } from '@platform/shared-persistence';
import { PDS_DATABASE, type PdsDatabase } from '../database/database.provider';
import type { StoredPatient } from '../patients/patient-record';
// The statement below reads the patient's row as well as writing the audit entry, so that a read is answered
// only once its entry is committed, in one round trip. The audit repository owns that statement; the row it
// reads is the patients folder's, imported from the module patients exports for this (patient-row.ts) rather
// than copied here or borrowed from the patient repository.
import { PATIENT_COLUMNS, toStored, type PatientRow } from '../patients/patient-row';

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

/**
 * The group-commit statement: writes every entry of a batch and reads the rows of the patients being read
 * ($11, compared as `bpchar` so that the primary key serves it), in one round trip and one commit.
 */
export function auditedReadStatement(schema: string): string {
  const table = (name: string): string => `"${schema}".${name}`;
  return `WITH audit AS (
         INSERT INTO ${table('read_audit')}
           (at, nhs_number, action, actor_id, actor_username, client_id, organisation, roles, request_id, correlation_id)
         SELECT at, nhs_number, action, actor_id, actor_username, client_id, organisation,
                string_to_array(roles, ','), request_id, correlation_id
         FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                     $8::text[], $9::text[], $10::text[])
           AS t(at, nhs_number, action, actor_id, actor_username, client_id, organisation, roles, request_id, correlation_id)
       )
       SELECT ${PATIENT_COLUMNS} FROM ${table('patient')} WHERE nhs_number = ANY ($11::bpchar[])`;
}

interface Waiting {
  entry: ReadAuditEntry;
  /** Also read this patient's row in the statement that writes the entry. */
  read: boolean;
  resolve: (row: StoredPatient | undefined) => void;
  reject: (error: unknown) => void;
}

const MAX_BATCH = 500;
/**
 * Statements in flight at once: a read arriving while one is out does not wait for it to come back. Also the
 * size of the writer's own pool (one connection per statement in flight), which the service opens beside its
 * shared pool of PDS_DB_POOL_SIZE.
 */
export const MAX_IN_FLIGHT = 2;
/** The writer's sessions in pg_stat_activity: `<the service's application_name> read audit`. */
export const READ_AUDIT_PURPOSE = 'read audit';

/**
 * The read audit trail, written with group commit, and the reads it records. Entries that arrive while a
 * statement is in flight share the next one; a read's entry is written in the same statement that reads the
 * patient's row (`WITH audit AS (INSERT ...) SELECT ... WHERE nhs_number = ANY (...)`), so a read is answered
 * only once its audit entry is committed, and under load many reads cost one round trip and one commit
 * between them. At rest each statement carries one entry.
 *
 * The statements run on connections of the writer's own (MAX_IN_FLIGHT of them, connected as the service's
 * pool is), never on the shared pool's: a write's answer (a create, a PATCH, a POST /Coverage) is audited
 * after its transaction, and its entry must not queue for a connection behind requests waiting for the
 * shared pool, where it could run past the acquire timeout while those requests wait in turn. `close()` ends
 * them at shutdown.
 */
@Injectable()
export class ReadAuditRepository {
  private readonly pool: Pool;
  /** The group commit's own connections. */
  private readonly writer: Pool;
  private readonly table: string;
  private readonly statement: string;
  private readonly text: string;
  private queue: Waiting[] = [];
  private inFlight = 0;
  private idle: (() => void)[] = [];

  constructor(@Inject(PDS_DATABASE) database: PdsDatabase) {
    this.pool = database.pool;
    this.writer = connectionsLike(database.pool, { max: MAX_IN_FLIGHT, purpose: READ_AUDIT_PURPOSE });
    this.table = `"${database.schema}".read_audit`;
    this.statement = `pds_read_audit_${database.schema}`;
    this.text = auditedReadStatement(database.schema);
  }

  /** Writes an access that has already read what it shows (a search result); resolves once committed. */
  async record(entry: ReadAuditEntry): Promise<void> {
    await this.enqueue(entry, false);
  }

  /** Reads the patient of `entry.nhsNumber` and writes the entry, in one statement; resolves once committed. */
  recordRead(entry: ReadAuditEntry): Promise<StoredPatient | undefined> {
    return this.enqueue(entry, true);
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
  flushed(): Promise<void> {
    if (this.inFlight === 0 && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  /** At shutdown, once nothing more can be recorded: waits for the last entries, then ends the connections. */
  async close(): Promise<void> {
    await this.flushed();
    await this.writer.end();
  }

  private enqueue(entry: ReadAuditEntry, read: boolean): Promise<StoredPatient | undefined> {
    return new Promise((resolve, reject) => {
      this.queue.push({ entry, read, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.inFlight < MAX_IN_FLIGHT && this.queue.length > 0) {
      const batch = this.queue.splice(0, MAX_BATCH);
      this.inFlight += 1;
      void this.write(batch).finally(() => {
        this.inFlight -= 1;
        this.pump();
        if (this.inFlight === 0 && this.queue.length === 0) for (const resolve of this.idle.splice(0)) resolve();
      });
    }
  }

  private async write(batch: Waiting[]): Promise<void> {
    try {
      const rows = await this.insert(batch);
      const byNhsNumber = new Map(rows.map((row) => [row.nhs_number, toStored(row)]));
      for (const waiting of batch) waiting.resolve(waiting.read ? byNhsNumber.get(waiting.entry.nhsNumber) : undefined);
    } catch (error) {
      for (const waiting of batch) waiting.reject(error);
    }
  }

  private async insert(batch: Waiting[]): Promise<PatientRow[]> {
    const entries = batch.map((waiting) => waiting.entry);
    const column = <K extends keyof ReadAuditEntry>(key: K): (ReadAuditEntry[K] | null)[] =>
      entries.map((entry) => entry[key] ?? null);
    const reads = [...new Set(batch.filter((waiting) => waiting.read).map((waiting) => waiting.entry.nhsNumber))];
    const result = await this.writer.query<PatientRow>({
      name: this.statement,
      text: this.text,
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
        reads,
      ],
    });
    return result.rows;
  }
}
