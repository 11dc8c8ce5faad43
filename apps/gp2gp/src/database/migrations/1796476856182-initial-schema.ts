import type { MigrationInterface, QueryRunner } from 'typeorm';
import { createWriteTables, dropWriteTables, migrationSchema } from '@platform/shared-persistence';

/**
 * Record transfers: one row per conversation with its state (the NHS's names), its attachments with their
 * fragment index, each stored fragment (written after the fragment is in the object store, so a restarted
 * worker resumes after the last one), the log of every state a transfer passed through, and the audit of
 * every read of a record or attachment. Plus the write tables every service keeps (answers to writes, outbox).
 */
export class InitialSchema1796476856182 implements MigrationInterface {
  name = 'InitialSchema1796476856182';

  async up(queryRunner: QueryRunner): Promise<void> {
    const schema = migrationSchema(queryRunner, 'gp2gp');
    await queryRunner.query(`
      CREATE TABLE ${schema}.transfer (
        conversation_id uuid PRIMARY KEY,
        nhs_number text NOT NULL CHECK (nhs_number ~ '^[0-9]{10}$'),
        requesting_ods text NOT NULL,
        sending_ods text NOT NULL,
        sender_endpoint text,
        state text NOT NULL,
        reason_code text,
        reason_detail text,
        requested_by text NOT NULL,
        requested_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        extract_json text,
        ack_due_at timestamptz,
        resends integer NOT NULL DEFAULT 0,
        attempts integer NOT NULL DEFAULT 0,
        next_attempt_at timestamptz NOT NULL DEFAULT now(),
        lease_owner text,
        lease_until timestamptz,
        objects_purged boolean NOT NULL DEFAULT false
      )`);
    await queryRunner.query(
      `CREATE INDEX transfer_work_idx ON ${schema}.transfer (next_attempt_at)
         WHERE state IN ('REQUEST_RECEIVED', 'EHR_EXTRACT_REQUEST_ACCEPTED', 'EHR_EXTRACT_RECEIVED',
                         'CONTINUE_REQUEST_ACCEPTED', 'COPC_MESSAGE_RECEIVED')`,
    );
    await queryRunner.query(
      `CREATE INDEX transfer_ack_due_idx ON ${schema}.transfer (ack_due_at) WHERE state = 'EHR_EXTRACT_TRANSLATED'`,
    );
    await queryRunner.query(`CREATE INDEX transfer_requested_idx ON ${schema}.transfer (requested_at DESC)`);
    await queryRunner.query(`CREATE INDEX transfer_patient_idx ON ${schema}.transfer (nhs_number, requesting_ods)`);
    await queryRunner.query(`
      CREATE TABLE ${schema}.attachment (
        conversation_id uuid NOT NULL REFERENCES ${schema}.transfer (conversation_id) ON DELETE CASCADE,
        position integer NOT NULL,
        document_id text NOT NULL,
        source_url text NOT NULL,
        content_type text NOT NULL,
        title text,
        size bigint NOT NULL CHECK (size >= 0),
        fragment_count integer NOT NULL CHECK (fragment_count >= 1),
        sha256 text,
        verified boolean NOT NULL DEFAULT false,
        PRIMARY KEY (conversation_id, position)
      )`);
    await queryRunner.query(`
      CREATE TABLE ${schema}.fragment (
        conversation_id uuid NOT NULL,
        position integer NOT NULL,
        index integer NOT NULL,
        byte_offset bigint NOT NULL,
        size integer NOT NULL,
        sha256 text NOT NULL,
        object_name text NOT NULL,
        stored_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (conversation_id, position, index),
        FOREIGN KEY (conversation_id, position)
          REFERENCES ${schema}.attachment (conversation_id, position) ON DELETE CASCADE
      )`);
    await queryRunner.query(`
      CREATE TABLE ${schema}.transfer_log (
        id bigserial PRIMARY KEY,
        conversation_id uuid NOT NULL REFERENCES ${schema}.transfer (conversation_id) ON DELETE CASCADE,
        state text NOT NULL,
        at timestamptz NOT NULL DEFAULT now(),
        detail text
      )`);
    await queryRunner.query(`CREATE INDEX transfer_log_idx ON ${schema}.transfer_log (conversation_id, id)`);
    await queryRunner.query(`
      CREATE TABLE ${schema}.record_access (
        id bigserial PRIMARY KEY,
        at timestamptz NOT NULL DEFAULT now(),
        conversation_id uuid NOT NULL,
        nhs_number text NOT NULL,
        caller_id text NOT NULL,
        organisation text,
        action text NOT NULL,
        request_id text NOT NULL
      )`);
    await createWriteTables(queryRunner, schema);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const schema = migrationSchema(queryRunner, 'gp2gp');
    await dropWriteTables(queryRunner, schema);
    for (const table of ['record_access', 'transfer_log', 'fragment', 'attachment', 'transfer']) {
      await queryRunner.query(`DROP TABLE ${schema}.${table}`);
    }
  }
}
