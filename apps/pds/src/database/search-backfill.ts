import type { QueryRunner } from 'typeorm';
import type { Patient } from '@platform/contracts-pds';
import { searchRowsOf } from '../patients/search-rows';
import { searchRowStatements } from '../patients/search-rows.repository';

const BATCH = 500;

/** Calls `each` for every stored patient (or those `where` selects), in pages of BATCH by NHS number. */
async function forEachPatient(
  queryRunner: QueryRunner,
  schema: string,
  where: string,
  each: (nhsNumber: string, resource: Patient) => Promise<void>,
): Promise<void> {
  let after = '';
  for (;;) {
    const rows = (await queryRunner.query(
      `SELECT nhs_number, resource FROM "${schema}".patient WHERE nhs_number > $1${where ? ` AND ${where}` : ''}
       ORDER BY nhs_number LIMIT ${BATCH}`,
      [after],
    )) as { nhs_number: string; resource: Patient }[];
    for (const row of rows) await each(row.nhs_number, row.resource);
    const last = rows[rows.length - 1];
    if (!last || rows.length < BATCH) return;
    after = last.nhs_number;
  }
}

/**
 * Derives the search columns and rows of every stored patient from its resource (used by the search
 * migration, which runs before the previous-contact columns exist; their own migration fills them).
 */
export async function backfillSearchRows(queryRunner: QueryRunner, schema: string): Promise<void> {
  await forEachPatient(queryRunner, schema, '', async (nhsNumber, resource) => {
    const statements = searchRowStatements(schema, nhsNumber, searchRowsOf(resource), { previousContacts: false });
    for (const statement of statements) await queryRunner.query(statement.text, statement.values);
  });
}

/** Fills `previous_emails` and `previous_phones` of the records that have a previous (`use: old`) contact. */
export async function backfillPreviousContacts(queryRunner: QueryRunner, schema: string): Promise<void> {
  const hasOldContact = `jsonb_path_exists(resource, '$.telecom[*] ? (@.use == "old")')`;
  await forEachPatient(queryRunner, schema, hasOldContact, async (nhsNumber, resource) => {
    const { previousEmails, previousPhones } = searchRowsOf(resource).patient;
    await queryRunner.query(
      `UPDATE "${schema}".patient SET previous_emails = $2::text[], previous_phones = $3::text[] WHERE nhs_number = $1`,
      [nhsNumber, previousEmails, previousPhones],
    );
  });
}
