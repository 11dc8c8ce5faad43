import type { QueryRunner } from 'typeorm';
import type { Patient } from '@platform/contracts-pds';
import { searchRowsOf } from '../search/search-rows';
import { searchRowStatements } from '../search/search-rows.repository';

const BATCH = 500;

/** Derives the search columns and rows of every stored patient from its resource (used by a migration). */
export async function backfillSearchRows(queryRunner: QueryRunner, schema: string): Promise<void> {
  let after = '';
  for (;;) {
    const rows = (await queryRunner.query(
      `SELECT nhs_number, resource FROM "${schema}".patient WHERE nhs_number > $1 ORDER BY nhs_number LIMIT ${BATCH}`,
      [after],
    )) as { nhs_number: string; resource: Patient }[];
    for (const row of rows) {
      for (const statement of searchRowStatements(schema, row.nhs_number, searchRowsOf(row.resource))) {
        await queryRunner.query(statement.text, statement.values);
      }
    }
    const last = rows[rows.length - 1];
    if (!last || rows.length < BATCH) return;
    after = last.nhs_number;
  }
}
