import type { MigrationInterface, QueryRunner } from 'typeorm';
import { migrationSchema } from '@platform/shared-persistence';

/**
 * Advice and Guidance: a request from a referrer to exactly one service, numbered from the referrals' UBRN
 * sequence (one number space, never reused), versioned, and the conversation's messages in order.
 */
export class Advice1796600000002 implements MigrationInterface {
  name = 'Advice1796600000002';

  async up(queryRunner: QueryRunner): Promise<void> {
    const s = migrationSchema(queryRunner, 'ers');
    await queryRunner.query(`
      CREATE TABLE ${s}.advice_request (
        ubrn char(12) PRIMARY KEY CHECK (ubrn ~ '^[0-9]{12}$'),
        version integer NOT NULL DEFAULT 1,
        state text NOT NULL CHECK (state IN ('AWAITING_RESPONSE', 'RESPONDED', 'CONVERTED')),
        patient_nhs_number text NOT NULL,
        priority text NOT NULL,
        specialty text,
        search_criteria jsonb NOT NULL,
        referrer_ods text NOT NULL,
        referrer_user text NOT NULL,
        service_id bigint NOT NULL REFERENCES ${s}.healthcare_service (id),
        provider_ods text NOT NULL,
        conversion_authorised boolean NOT NULL,
        converted_ubrn char(12) REFERENCES ${s}.referral (ubrn),
        converting_request text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(
      `CREATE INDEX advice_request_worklist ON ${s}.advice_request (provider_ods, state, updated_at)`,
    );
    await queryRunner.query(`
      CREATE TABLE ${s}.advice_message (
        ubrn char(12) NOT NULL REFERENCES ${s}.advice_request (ubrn),
        position integer NOT NULL,
        sent_by_role text NOT NULL CHECK (sent_by_role IN ('REQUESTER', 'RESPONDER')),
        sender text NOT NULL,
        sender_ods text NOT NULL,
        text text NOT NULL,
        outcome text,
        sent_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (ubrn, position)
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const s = migrationSchema(queryRunner, 'ers');
    await queryRunner.query(`DROP TABLE ${s}.advice_message`);
    await queryRunner.query(`DROP TABLE ${s}.advice_request`);
  }
}
