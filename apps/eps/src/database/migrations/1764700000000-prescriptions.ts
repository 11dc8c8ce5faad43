import type { MigrationInterface, QueryRunner } from 'typeorm';
import { createWriteTables, migrationSchema } from '@platform/shared-persistence';

/**
 * Prescriptions as signed (the Bundle), with the columns the rules work on; their history; the prescribers'
 * public signing keys. One dispenser at a time is kept by the release itself: an UPDATE that only matches
 * a prescription still To Be Dispensed (0001), so of two pharmacies racing only one changes the row.
 */
export class Prescriptions1764700000000 implements MigrationInterface {
  name = 'Prescriptions1764700000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const schema = migrationSchema(queryRunner, 'eps');
    await queryRunner.query(`
      CREATE TABLE ${schema}.prescriber_key (
        sds_user_id text PRIMARY KEY,
        public_key_pem text NOT NULL,
        registered_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`
      CREATE TABLE ${schema}.prescription (
        short_form_id text PRIMARY KEY,
        long_form_id text NOT NULL UNIQUE,
        bundle jsonb NOT NULL,
        status text NOT NULL CHECK (status ~ '^000[1-8]$'),
        patient_nhs_number char(10) NOT NULL,
        prescriber_ods text NOT NULL,
        prescriber_sds_user_id text NOT NULL,
        nominated_pharmacy text,
        dispenser text,
        course_of_therapy text NOT NULL,
        item_ids text[] NOT NULL CHECK (cardinality(item_ids) BETWEEN 1 AND 4),
        cancelled_item_ids text[] NOT NULL DEFAULT '{}',
        cancellation_requested_item_ids text[] NOT NULL DEFAULT '{}',
        signature_failed_at timestamptz,
        expires_on date NOT NULL,
        issues_total integer NOT NULL DEFAULT 1 CHECK (issues_total >= 1),
        current_issue integer NOT NULL DEFAULT 1 CHECK (current_issue BETWEEN 1 AND issues_total),
        created_at timestamptz NOT NULL DEFAULT now(),
        released_at timestamptz,
        version integer NOT NULL DEFAULT 1,
        CONSTRAINT prescription_dispenser_when_released CHECK (status <> '0002' OR dispenser IS NOT NULL)
      )`);
    await queryRunner.query(
      `CREATE INDEX prescription_nominated_idx ON ${schema}.prescription (nominated_pharmacy, created_at, short_form_id)
       WHERE status = '0001' AND signature_failed_at IS NULL`,
    );
    await queryRunner.query(`CREATE INDEX prescription_patient_idx ON ${schema}.prescription (patient_nhs_number)`);
    await queryRunner.query(
      `CREATE INDEX prescription_expiry_idx ON ${schema}.prescription (expires_on) WHERE status IN ('0001', '0002')`,
    );
    await queryRunner.query(`
      CREATE TABLE ${schema}.prescription_event (
        sequence bigserial PRIMARY KEY,
        short_form_id text NOT NULL REFERENCES ${schema}.prescription (short_form_id),
        kind text NOT NULL,
        from_status text,
        to_status text,
        pharmacy text,
        detail text,
        actor text NOT NULL,
        actor_organisation text,
        request_id text NOT NULL,
        at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(
      `CREATE INDEX prescription_event_prescription_idx ON ${schema}.prescription_event (short_form_id, sequence)`,
    );
    await queryRunner.query(`
      CREATE TABLE ${schema}.dispense_notification (
        id text PRIMARY KEY,
        short_form_id text NOT NULL REFERENCES ${schema}.prescription (short_form_id),
        pharmacy text NOT NULL,
        status_before text NOT NULL,
        status_after text NOT NULL CHECK (status_after IN ('0003', '0006', '0007')),
        issue_number integer NOT NULL DEFAULT 1,
        bundle jsonb NOT NULL,
        replaces text REFERENCES ${schema}.dispense_notification (id),
        superseded_at timestamptz,
        withdrawn_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT clock_timestamp()
      )`);
    await queryRunner.query(
      `CREATE INDEX dispense_notification_prescription_idx ON ${schema}.dispense_notification (short_form_id, created_at)`,
    );
    // Repeat dispensing: an issue that moved on (the next one releasable) waits here for its claim.
    await queryRunner.query(`
      CREATE TABLE ${schema}.completed_issue (
        short_form_id text NOT NULL REFERENCES ${schema}.prescription (short_form_id),
        issue_number integer NOT NULL,
        status text NOT NULL CHECK (status IN ('0006', '0007', '0008')),
        dispenser text NOT NULL,
        completed_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (short_form_id, issue_number)
      )`);
    await createWriteTables(queryRunner, schema);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const schema = migrationSchema(queryRunner, 'eps');
    for (const table of [
      'outbox',
      'idempotent_request',
      'dispense_notification',
      'prescription_event',
      'prescription',
      'prescriber_key',
    ]) {
      await queryRunner.query(`DROP TABLE ${schema}.${table}`);
    }
  }
}
