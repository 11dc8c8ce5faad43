import { Inject, Injectable } from '@nestjs/common';
import type { RelatedPerson } from '@platform/contracts-pds';
import { nhsNumberCheckDigit } from '@platform/shared-identifiers';
import { withTransaction } from '@platform/shared-persistence';
import type { Pool, PoolClient } from 'pg';
import { PDS_DATABASE, type PdsDatabase } from '../database/database.provider';
import { SearchRowsRepository } from './search-rows.repository';
import { normalisedResource, type PatientRecord, type StoredPatient } from './patient-record';
import { PATIENT_COLUMNS, toStored, type PatientRow } from './patient-row';

/** The only code that reads and writes patients. */
@Injectable()
export class PatientRepository {
  private readonly pool: Pool;
  private readonly table: string;
  private readonly getStatement: string;
  private readonly relatedTable: string;
  private readonly relatedStatement: string;
  /** Keeps the search columns and rows in step with each resource written (inside the same transaction). */
  private readonly searchRows: SearchRowsRepository;
  private readonly schema: string;

  constructor(@Inject(PDS_DATABASE) database: PdsDatabase) {
    this.pool = database.pool;
    this.table = `"${database.schema}".patient`;
    this.getStatement = `pds_patient_get_${database.schema}`;
    this.relatedTable = `"${database.schema}".related_person`;
    this.relatedStatement = `pds_related_person_list_${database.schema}`;
    this.searchRows = new SearchRowsRepository(database);
    this.schema = database.schema;
  }

  /** The resource comes back as text: the read path passes it on without parsing it. */
  async findByNhsNumber(nhsNumber: string): Promise<StoredPatient | undefined> {
    const result = await this.pool.query<PatientRow>({
      name: this.getStatement,
      text: `SELECT ${PATIENT_COLUMNS} FROM ${this.table} WHERE nhs_number = $1`,
      values: [nhsNumber],
    });
    const row = result.rows[0];
    return row ? toStored(row) : undefined;
  }

  /** The record, locked until the transaction ends: concurrent writers of one patient queue here. */
  async lockForUpdate(transaction: PoolClient, nhsNumber: string): Promise<StoredPatient | undefined> {
    const result = await transaction.query<PatientRow>(
      `SELECT ${PATIENT_COLUMNS} FROM ${this.table} WHERE nhs_number = $1 FOR UPDATE`,
      [nhsNumber],
    );
    const row = result.rows[0];
    return row ? toStored(row) : undefined;
  }

  /**
   * A new NHS number: the next body from the service's sequence with its modulus 11 check digit (bodies
   * whose check digit would be 10 are skipped, as are any already held, e.g. by an imported population).
   */
  async allocateNhsNumber(transaction: PoolClient): Promise<string> {
    for (;;) {
      const result = await transaction.query<{ body: number }>(
        `SELECT nextval('"${this.schema}".nhs_number_body')::int AS body`,
      );
      const body = String(result.rows[0]?.body);
      const check = nhsNumberCheckDigit(body);
      if (check === null) continue;
      const nhsNumber = `${body}${check}`;
      const taken = await transaction.query(`SELECT 1 FROM ${this.table} WHERE nhs_number = $1`, [nhsNumber]);
      if (taken.rowCount === 0) return nhsNumber;
    }
  }

  /** Stores a new record (normalised) and its search rows in the caller's transaction. */
  async insertNew(transaction: PoolClient, record: PatientRecord): Promise<void> {
    const resource = normalisedResource(record);
    await transaction.query(
      `INSERT INTO ${this.table} (nhs_number, version, resource, restricted) VALUES ($1, $2, $3, $4)`,
      [record.nhsNumber, record.version, JSON.stringify(resource), record.restricted],
    );
    await this.searchRows.replaceSearchRows(transaction, record.nhsNumber, resource);
  }

  /** Writes a new version of a record (normalised), and its search rows, in the caller's transaction. */
  async saveVersion(transaction: PoolClient, record: PatientRecord): Promise<void> {
    const resource = normalisedResource(record);
    await transaction.query(
      `UPDATE ${this.table} SET version = $2, resource = $3, restricted = $4, updated_at = now() WHERE nhs_number = $1`,
      [record.nhsNumber, record.version, JSON.stringify(resource), record.restricted],
    );
    await this.searchRows.replaceSearchRows(transaction, record.nhsNumber, resource);
  }

  async relatedPersons(nhsNumber: string): Promise<RelatedPerson[]> {
    const result = await this.pool.query<{ resource: RelatedPerson }>({
      name: this.relatedStatement,
      text: `SELECT resource FROM ${this.relatedTable} WHERE nhs_number = $1 ORDER BY position, id`,
      values: [nhsNumber],
    });
    return result.rows.map((row) => row.resource);
  }

  /** Seeding: adds the related people a patient does not have yet, keeping the given order. */
  async insertMissingRelatedPersons(nhsNumber: string, people: RelatedPerson[]): Promise<number> {
    let inserted = 0;
    for (const [position, person] of people.entries()) {
      const result = await this.pool.query(
        `INSERT INTO ${this.relatedTable} (nhs_number, id, position, resource) VALUES ($1, $2, $3, $4)
         ON CONFLICT (nhs_number, id) DO NOTHING`,
        [nhsNumber, person.id, position, JSON.stringify(person)],
      );
      inserted += result.rowCount ?? 0;
    }
    return inserted;
  }

  /**
   * Inserts records that are not there yet (seeding): a record already stored, perhaps updated since, is left
   * alone. Superseded links must point at records in the same call or already stored.
   */
  async insertMissing(records: PatientRecord[]): Promise<number> {
    const ordered = [...records].sort((a, b) => Number(a.supersededBy !== null) - Number(b.supersededBy !== null));
    return withTransaction(this.pool, async (client) => {
      let inserted = 0;
      for (const record of ordered) {
        const result = await client.query(
          `INSERT INTO ${this.table} (nhs_number, version, resource, restricted, superseded_by, invalidated)
           VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (nhs_number) DO NOTHING`,
          [
            record.nhsNumber,
            record.version,
            JSON.stringify(normalisedResource(record)),
            record.restricted,
            record.supersededBy,
            record.invalidated,
          ],
        );
        if (result.rowCount) await this.searchRows.replaceSearchRows(client, record.nhsNumber, record.resource);
        inserted += result.rowCount ?? 0;
      }
      return inserted;
    });
  }
}
