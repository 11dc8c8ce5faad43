import { Inject, Injectable } from '@nestjs/common';
import type { Coverage } from '@platform/contracts-pds';
import type { Pool, PoolClient } from 'pg';
import { PDS_DATABASE, type PdsDatabase } from '../database/database.provider';

/** The only code that reads and writes patients' EHIC cards (table `patient_coverage`). */
@Injectable()
export class CoverageRepository {
  private readonly pool: Pool;
  private readonly table: string;
  private readonly getStatement: string;

  constructor(@Inject(PDS_DATABASE) database: PdsDatabase) {
    this.pool = database.pool;
    this.table = `"${database.schema}".patient_coverage`;
    this.getStatement = `pds_coverage_get_${database.schema}`;
  }

  async coverageOf(nhsNumber: string): Promise<Coverage | undefined> {
    const result = await this.pool.query<{ resource: Coverage }>({
      name: this.getStatement,
      text: `SELECT resource FROM ${this.table} WHERE nhs_number = $1`,
      values: [nhsNumber],
    });
    return result.rows[0]?.resource;
  }

  /** Replaces the patient's card, in the caller's transaction (the one that writes the patient's next version). */
  async replace(transaction: PoolClient, nhsNumber: string, coverage: Coverage): Promise<void> {
    await transaction.query(
      `INSERT INTO ${this.table} (nhs_number, resource) VALUES ($1, $2)
       ON CONFLICT (nhs_number) DO UPDATE SET resource = EXCLUDED.resource, updated_at = now()`,
      [nhsNumber, JSON.stringify(coverage)],
    );
  }

  /** Seeding: the card of a patient who has none yet. */
  async insertMissing(nhsNumber: string, coverage: Coverage): Promise<number> {
    const result = await this.pool.query(
      `INSERT INTO ${this.table} (nhs_number, resource) VALUES ($1, $2) ON CONFLICT (nhs_number) DO NOTHING`,
      [nhsNumber, JSON.stringify(coverage)],
    );
    return result.rowCount ?? 0;
  }
}
