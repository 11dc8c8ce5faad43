import type { MigrationInterface, QueryRunner } from 'typeorm';
import { migrationSchema } from '@platform/shared-persistence';

/** The referral states as the NHS names them (eRS-ReferralState-1). */
export const REFERRAL_STATES = [
  'NOT_BOOKED',
  'BOOKED',
  'DEFERRED_TO_PROVIDER',
  'AWAITING_TRIAGE',
  'TRIAGE_RESPONSE',
  'ACCEPTED',
  'REJECTED',
  'CANCELLED_REFERRAL',
  'APPT_CANCELLED_BY_PATIENT',
  'APPT_CANCELLED_BY_PROVIDER',
  'APPT_CANCELLED_BY_REFERRER',
  'DID_NOT_ATTEND',
] as const;

/**
 * The e-Referral Service's store: the postcode table (distance in PostgreSQL with cube/earthdistance), the
 * directory (healthcare services, their versions, schedules and slots), referrals with their shortlist,
 * every version of each (the state history and versioned reads), and appointments.
 *
 * A slot is booked at most once by the database: `appointment_one_booking_per_slot` is unique over the
 * booked appointments of a slot, and booking also flips the slot with a conditional UPDATE.
 */
export class Referrals1796500000000 implements MigrationInterface {
  name = 'Referrals1796500000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const s = migrationSchema(queryRunner, 'ers');
    await queryRunner.query('CREATE EXTENSION IF NOT EXISTS cube SCHEMA public');
    await queryRunner.query('CREATE EXTENSION IF NOT EXISTS earthdistance SCHEMA public');
    await queryRunner.query(`DROP TABLE IF EXISTS ${s}.item`);
    await queryRunner.query(`
      CREATE TABLE ${s}.postcode (
        postcode text PRIMARY KEY CHECK (postcode ~ '^[A-Z]{1,2}[0-9][A-Z0-9]? [0-9][A-Z]{2}$'),
        latitude double precision NOT NULL CHECK (latitude BETWEEN -90 AND 90),
        longitude double precision NOT NULL CHECK (longitude BETWEEN -180 AND 180),
        position public.cube NOT NULL
      )`);
    await queryRunner.query(`
      CREATE TABLE ${s}.healthcare_service (
        id bigint PRIMARY KEY CHECK (id > 0),
        version integer NOT NULL DEFAULT 1,
        ods_code text NOT NULL,
        name text NOT NULL,
        specialty text NOT NULL,
        clinic_types text[] NOT NULL DEFAULT '{}',
        priorities text[] NOT NULL,
        bookable_type text NOT NULL CHECK (bookable_type IN ('DIRECTLY_BOOKABLE', 'INDIRECTLY_BOOKABLE')),
        triage boolean NOT NULL DEFAULT false,
        postcode text NOT NULL,
        latitude double precision NOT NULL,
        longitude double precision NOT NULL,
        position public.cube NOT NULL,
        indicative_wait_days integer NOT NULL CHECK (indicative_wait_days >= 0),
        min_age_years integer CHECK (min_age_years >= 0),
        max_age_years integer CHECK (max_age_years >= 0),
        gender_treated text NOT NULL CHECK (gender_treated IN ('MALE_AND_FEMALE', 'MALE', 'FEMALE')),
        clinicians jsonb NOT NULL DEFAULT '[]',
        active boolean NOT NULL DEFAULT true,
        resource jsonb NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(
      `CREATE INDEX healthcare_service_position ON ${s}.healthcare_service USING gist (position)`,
    );
    await queryRunner.query(`CREATE INDEX healthcare_service_specialty ON ${s}.healthcare_service (specialty)`);
    await queryRunner.query(`CREATE INDEX healthcare_service_ods ON ${s}.healthcare_service (ods_code)`);
    await queryRunner.query(`
      CREATE TABLE ${s}.healthcare_service_version (
        service_id bigint NOT NULL REFERENCES ${s}.healthcare_service (id),
        version integer NOT NULL,
        resource jsonb NOT NULL,
        published_by text NOT NULL,
        published_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (service_id, version)
      )`);
    await queryRunner.query(`
      CREATE TABLE ${s}.schedule (
        id text PRIMARY KEY,
        service_id bigint NOT NULL REFERENCES ${s}.healthcare_service (id),
        clinician text,
        resource jsonb NOT NULL
      )`);
    await queryRunner.query(`CREATE SEQUENCE ${s}.slot_id START 100000000`);
    await queryRunner.query(`
      CREATE TABLE ${s}.slot (
        id bigint PRIMARY KEY DEFAULT nextval('${s}.slot_id'),
        schedule_id text NOT NULL REFERENCES ${s}.schedule (id),
        service_id bigint NOT NULL REFERENCES ${s}.healthcare_service (id),
        start_at timestamptz NOT NULL,
        end_at timestamptz NOT NULL,
        appointment_type text NOT NULL DEFAULT 'ROUTINE',
        status text NOT NULL DEFAULT 'free' CHECK (status IN ('free', 'busy')),
        CHECK (end_at > start_at)
      )`);
    await queryRunner.query(`CREATE INDEX slot_free ON ${s}.slot (service_id, start_at) WHERE status = 'free'`);
    // UBRNs come from a sequence: never reused, even for a create that rolled back.
    await queryRunner.query(`CREATE SEQUENCE ${s}.ubrn MINVALUE 100000000000 MAXVALUE 999999999999 START 100000000000`);
    await queryRunner.query(`
      CREATE TABLE ${s}.referral (
        ubrn char(12) PRIMARY KEY CHECK (ubrn ~ '^[0-9]{12}$'),
        version integer NOT NULL DEFAULT 1,
        state text NOT NULL CHECK (state IN (${REFERRAL_STATES.map((state) => `'${state}'`).join(', ')})),
        patient_nhs_number text NOT NULL,
        priority text NOT NULL,
        specialty text,
        clinic_type text,
        referrer_ods text NOT NULL,
        referrer_user text NOT NULL,
        access_code text NOT NULL,
        service_id bigint REFERENCES ${s}.healthcare_service (id),
        provider_ods text,
        appointment_id bigint,
        search_criteria jsonb NOT NULL,
        pathway_start timestamptz,
        request_kind text NOT NULL DEFAULT 'REFERRAL' CHECK (request_kind IN ('REFERRAL', 'ADVICE_AND_GUIDANCE')),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(
      `CREATE INDEX referral_worklist ON ${s}.referral (provider_ods, state, updated_at) WHERE provider_ods IS NOT NULL`,
    );
    await queryRunner.query(`
      CREATE TABLE ${s}.referral_shortlist (
        ubrn char(12) NOT NULL REFERENCES ${s}.referral (ubrn),
        position smallint NOT NULL CHECK (position BETWEEN 1 AND 20),
        service_id bigint NOT NULL REFERENCES ${s}.healthcare_service (id),
        PRIMARY KEY (ubrn, service_id),
        UNIQUE (ubrn, position)
      )`);
    await queryRunner.query(`
      CREATE TABLE ${s}.referral_version (
        ubrn char(12) NOT NULL REFERENCES ${s}.referral (ubrn),
        version integer NOT NULL,
        state text NOT NULL,
        action text NOT NULL,
        reason text,
        comment text,
        resource jsonb NOT NULL,
        changed_by text NOT NULL,
        changed_by_ods text,
        changed_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (ubrn, version)
      )`);
    await queryRunner.query(`CREATE SEQUENCE ${s}.appointment_id START 100000`);
    await queryRunner.query(`
      CREATE TABLE ${s}.appointment (
        id bigint PRIMARY KEY DEFAULT nextval('${s}.appointment_id'),
        ubrn char(12) NOT NULL REFERENCES ${s}.referral (ubrn),
        version integer NOT NULL DEFAULT 1,
        service_id bigint NOT NULL REFERENCES ${s}.healthcare_service (id),
        slot_id bigint REFERENCES ${s}.slot (id),
        status text NOT NULL CHECK (status IN ('booked', 'proposed', 'cancelled')),
        resource jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(
      `CREATE UNIQUE INDEX appointment_one_booking_per_slot ON ${s}.appointment (slot_id) WHERE status = 'booked'`,
    );
    await queryRunner.query(`CREATE INDEX appointment_ubrn ON ${s}.appointment (ubrn)`);
    await queryRunner.query(`
      CREATE TABLE ${s}.appointment_version (
        appointment_id bigint NOT NULL REFERENCES ${s}.appointment (id),
        version integer NOT NULL,
        resource jsonb NOT NULL,
        PRIMARY KEY (appointment_id, version)
      )`);
    // Every read of a referral (it names its patient) is recorded: who, for which organisation, which referral.
    await queryRunner.query(`
      CREATE TABLE ${s}.read_audit (
        at timestamptz NOT NULL DEFAULT now(),
        ubrn text NOT NULL,
        action text NOT NULL,
        actor_id text NOT NULL,
        organisation text,
        business_function text,
        request_id text NOT NULL,
        correlation_id text
      )`);
    await queryRunner.query(`CREATE INDEX read_audit_ubrn ON ${s}.read_audit (ubrn, at)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const s = migrationSchema(queryRunner, 'ers');
    for (const table of [
      'read_audit',
      'appointment_version',
      'appointment',
      'referral_version',
      'referral_shortlist',
      'referral',
      'slot',
      'schedule',
      'healthcare_service_version',
      'healthcare_service',
      'postcode',
    ]) {
      await queryRunner.query(`DROP TABLE ${s}.${table}`);
    }
    for (const sequence of ['appointment_id', 'ubrn', 'slot_id'])
      await queryRunner.query(`DROP SEQUENCE ${s}.${sequence}`);
    await queryRunner.query(`
      CREATE TABLE ${s}.item (
        id uuid PRIMARY KEY, name text NOT NULL, description text, version integer NOT NULL DEFAULT 1,
        created_by text NOT NULL, created_at timestamptz NOT NULL DEFAULT now()
      )`);
  }
}
