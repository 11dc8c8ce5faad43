import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Patients (the FHIR resource as jsonb beside the indexed columns) and the read audit trail. */
export class InitialSchema1764000000000 implements MigrationInterface {
  name = 'InitialSchema1764000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const schema = `"${queryRunner.connection.driver.schema ?? 'pds'}"`;
    await queryRunner.query(`
      CREATE TABLE ${schema}.patient (
        nhs_number char(10) PRIMARY KEY CHECK (nhs_number ~ '^[0-9]{10}$'),
        version integer NOT NULL CHECK (version > 0),
        resource jsonb NOT NULL,
        restricted boolean NOT NULL DEFAULT false,
        superseded_by char(10) REFERENCES ${schema}.patient (nhs_number),
        invalidated boolean NOT NULL DEFAULT false,
        updated_at timestamptz NOT NULL DEFAULT now(),
        CHECK (superseded_by IS NULL OR superseded_by <> nhs_number)
      )`);
    await queryRunner.query(`
      CREATE TABLE ${schema}.read_audit (
        id bigserial PRIMARY KEY,
        at timestamptz NOT NULL,
        nhs_number char(10) NOT NULL,
        action text NOT NULL,
        actor_id text NOT NULL,
        actor_username text,
        client_id text,
        organisation text,
        roles text[] NOT NULL,
        request_id text NOT NULL,
        correlation_id text
      )`);
    await queryRunner.query(`CREATE INDEX read_audit_patient_idx ON ${schema}.read_audit (nhs_number, at)`);
    await queryRunner.query(`CREATE INDEX read_audit_actor_idx ON ${schema}.read_audit (actor_id, at)`);
    await queryRunner.query(`CREATE INDEX read_audit_request_idx ON ${schema}.read_audit (request_id)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const schema = `"${queryRunner.connection.driver.schema ?? 'pds'}"`;
    await queryRunner.query(`DROP TABLE ${schema}.read_audit`);
    await queryRunner.query(`DROP TABLE ${schema}.patient`);
  }
}
