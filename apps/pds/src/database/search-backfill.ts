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

/**
 * Fills `previous_emails` and `previous_phones` of the records that have a previous (`use: old`) contact.
 * `quotedSchema` is the schema as `migrationSchema` gives it.
 */
export async function backfillPreviousContacts(queryRunner: QueryRunner, quotedSchema: string): Promise<void> {
  const rows = (await queryRunner.query(
    `SELECT nhs_number, resource FROM ${quotedSchema}.patient
     WHERE jsonb_path_exists(resource, '$.telecom[*] ? (@.use == "old")')`,
  )) as { nhs_number: string; resource: Patient }[];
  for (const row of rows) {
    const { previousEmails, previousPhones } = searchRowsOf(row.resource).patient;
    await queryRunner.query(
      `UPDATE ${quotedSchema}.patient SET previous_emails = $2::text[], previous_phones = $3::text[] WHERE nhs_number = $1`,
      [row.nhs_number, previousEmails, previousPhones],
    );
  }
}
