import type { MigrationInterface, QueryRunner } from 'typeorm';
import { migrationSchema } from '@platform/shared-persistence';

/**
 * A patient's European Health Insurance Card (the FHIR Coverage of POST /Coverage): at most one per patient,
 * written in the transaction that gives the patient's record its next version. A new, empty table: nothing
 * stored is rewritten.
 */
export class Coverage1765100000000 implements MigrationInterface {
  name = 'Coverage1765100000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const schema = migrationSchema(queryRunner, 'pds');
    await queryRunner.query(`CREATE TABLE ${schema}.patient_coverage (
      nhs_number text PRIMARY KEY,
      resource jsonb NOT NULL,
      updated_at timestamptz NOT NULL DEFAULT now()
    )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const schema = migrationSchema(queryRunner, 'pds');
    await queryRunner.query(`DROP TABLE ${schema}.patient_coverage`);
  }
}
