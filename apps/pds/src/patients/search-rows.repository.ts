import { Inject, Injectable } from '@nestjs/common';
import type { Patient } from '@platform/contracts-pds';
import { PDS_DATABASE, type PdsDatabase } from '../database/database.provider';
import { searchRowsOf, type SearchRows } from './search-rows';

export interface SqlStatement {
  text: string;
  values: unknown[];
}

/** Anything that runs a parameterised statement: a pg client inside a transaction, or a migration's query runner. */
export interface StatementRunner {
  query(text: string, values: unknown[]): Promise<unknown>;
}

/**
 * The statements that make a patient's search columns and rows say what `rows` says: the patient row's
 * columns are updated and its name and address rows replaced. Run them inside the transaction that writes
 * the resource.
 */
export function searchRowStatements(
  schema: string,
  nhsNumber: string,
  rows: SearchRows,
  options: { previousContacts?: boolean } = {},
): SqlStatement[] {
  const table = (name: string): string => `"${schema}".${name}`;
  const { patient } = rows;
  // The search migration's backfill runs before the previous-contact columns exist (a later migration).
  const previous = options.previousContacts ?? true;
  const statements: SqlStatement[] = [
    {
      text: `UPDATE ${table('patient')}
             SET gender = $2, birth_date = $3::date, death_date = $4::date, gp_ods = $5, emails = $6::text[], phones = $7::text[]${
               previous ? ', previous_emails = $8::text[], previous_phones = $9::text[]' : ''
             }
             WHERE nhs_number = $1`,
      values: [
        nhsNumber,
        patient.gender,
        patient.birthDate,
        patient.deathDate,
        patient.gpOds,
        patient.emails,
        patient.phones,
        ...(previous ? [patient.previousEmails, patient.previousPhones] : []),
      ],
    },
    { text: `DELETE FROM ${table('patient_name')} WHERE nhs_number = $1`, values: [nhsNumber] },
    { text: `DELETE FROM ${table('patient_address')} WHERE nhs_number = $1`, values: [nhsNumber] },
  ];
  if (rows.names.length > 0) {
    statements.push({
      text: `INSERT INTO ${table('patient_name')}
               (nhs_number, seq, family, given, family_norm, given_norm, birth_date, current)
             SELECT $1, r.seq, r.family, ARRAY(SELECT jsonb_array_elements_text(r.given)), r.family_norm,
                    ARRAY(SELECT jsonb_array_elements_text(r.given_norm)), r.birth_date, r.current
             FROM jsonb_to_recordset($2::jsonb)
               AS r(seq integer, family text, given jsonb, family_norm text, given_norm jsonb, birth_date date, current boolean)`,
      values: [
        nhsNumber,
        JSON.stringify(
          rows.names.map((name, seq) => ({
            seq,
            family: name.family,
            given: name.given,
            family_norm: name.familyNorm,
            given_norm: name.givenNorm,
            birth_date: name.birthDate,
            current: name.current,
          })),
        ),
      ],
    });
  }
  if (rows.addresses.length > 0) {
    statements.push({
      text: `INSERT INTO ${table('patient_address')} (nhs_number, seq, postcode_norm, current)
             SELECT $1, r.seq, r.postcode_norm, r.current
             FROM jsonb_to_recordset($2::jsonb) AS r(seq integer, postcode_norm text, current boolean)`,
      values: [
        nhsNumber,
        JSON.stringify(
          rows.addresses.map((address, seq) => ({
            seq,
            postcode_norm: address.postcodeNorm,
            current: address.current,
          })),
        ),
      ],
    });
  }
  return statements;
}

/** Keeps the search tables in step with the stored resources. */
@Injectable()
export class SearchRowsRepository {
  private readonly schema: string;

  constructor(@Inject(PDS_DATABASE) database: Pick<PdsDatabase, 'schema'>) {
    this.schema = database.schema;
  }

  /**
   * Replaces the search columns and rows of one patient with those derived from `resource`, on the given
   * client (inside the caller's transaction, so the search never disagrees with the stored resource).
   * The patient row must exist.
   */
  async replaceSearchRows(client: StatementRunner, nhsNumber: string, resource: Patient): Promise<void> {
    for (const statement of searchRowStatements(this.schema, nhsNumber, searchRowsOf(resource))) {
      await client.query(statement.text, statement.values);
    }
  }
}
