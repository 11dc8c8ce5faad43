import type { MigrationInterface, QueryRunner } from 'typeorm';
import { migrationSchema } from '@platform/shared-persistence';

/**
 * Patients booking themselves: the attempts against each UBRN (the lockout holds across replicas because it
 * lives here), the sign-ins whose codes matched and wait for the year of birth, and the patients' sessions
 * (only a hash of the opaque token is kept).
 */
export class PatientAccess1796600000000 implements MigrationInterface {
  name = 'PatientAccess1796600000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const s = migrationSchema(queryRunner, 'ers');
    // Keyed by the UBRN as typed (12 digits), with no reference: unknown UBRNs are counted the same way.
    await queryRunner.query(`
      CREATE TABLE ${s}.patient_access_attempt (
        ubrn text PRIMARY KEY,
        attempts integer NOT NULL,
        last_attempt_at timestamptz NOT NULL,
        locked_until timestamptz
      )`);
    await queryRunner.query(`
      CREATE TABLE ${s}.patient_pending_sign_in (
        id uuid PRIMARY KEY,
        ubrn char(12) NOT NULL REFERENCES ${s}.referral (ubrn),
        expires_at timestamptz NOT NULL
      )`);
    await queryRunner.query(`
      CREATE TABLE ${s}.patient_session (
        token_hash bytea PRIMARY KEY,
        ubrn char(12) NOT NULL REFERENCES ${s}.referral (ubrn),
        csrf text NOT NULL,
        restricted boolean NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL
      )`);
    await queryRunner.query(`CREATE INDEX patient_session_expiry ON ${s}.patient_session (expires_at)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const s = migrationSchema(queryRunner, 'ers');
    await queryRunner.query(`DROP TABLE ${s}.patient_session`);
    await queryRunner.query(`DROP TABLE ${s}.patient_pending_sign_in`);
    await queryRunner.query(`DROP TABLE ${s}.patient_access_attempt`);
  }
}
