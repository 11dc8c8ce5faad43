import type { MigrationInterface, QueryRunner } from 'typeorm';
import { migrationSchema } from '@platform/shared-persistence';

/**
 * Transfers from legacy (HL7 V3 / MHS) practices: one row per conversation with its state (the NHS's names),
 * every MHS message received (its ebXML MessageId, so that a duplicate changes nothing), every part a message
 * carried (an attachment's bytes in the object store, a fragment index, or a COPC that carried nothing), the
 * documents the EHR extract names with their reassembled size and SHA-256, and the audit of every read of the
 * record. Independent of the FHIR transfer tables.
 */
export class LegacyTransfers1796600000000 implements MigrationInterface {
  name = 'LegacyTransfers1796600000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const schema = migrationSchema(queryRunner, 'gp2gp');
    await queryRunner.query(`
      CREATE TABLE ${schema}.legacy_transfer (
        conversation_id uuid PRIMARY KEY,
        requesting_ods text NOT NULL,
        sending_ods text NOT NULL,
        state text NOT NULL,
        reason_code text,
        reason_detail text,
        opened_by text NOT NULL,
        nhs_number text,
        extract_message_id text,
        extract_payload text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`
      CREATE TABLE ${schema}.legacy_message (
        conversation_id uuid NOT NULL REFERENCES ${schema}.legacy_transfer (conversation_id) ON DELETE CASCADE,
        message_id text NOT NULL,
        action text NOT NULL,
        received_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (conversation_id, message_id)
      )`);
    await queryRunner.query(`
      CREATE TABLE ${schema}.legacy_part (
        conversation_id uuid NOT NULL REFERENCES ${schema}.legacy_transfer (conversation_id) ON DELETE CASCADE,
        part_id text NOT NULL,
        kind text NOT NULL CHECK (kind IN ('content', 'index', 'empty', 'corrupt')),
        object_name text,
        size bigint,
        sha256 text,
        fragment_ids text[],
        PRIMARY KEY (conversation_id, part_id)
      )`);
    await queryRunner.query(`
      CREATE TABLE ${schema}.legacy_document (
        conversation_id uuid NOT NULL REFERENCES ${schema}.legacy_transfer (conversation_id) ON DELETE CASCADE,
        position integer NOT NULL,
        document_id text NOT NULL,
        part_id text NOT NULL,
        title text,
        content_type text NOT NULL,
        compressed boolean NOT NULL,
        object_name text,
        size bigint,
        sha256 text,
        PRIMARY KEY (conversation_id, position)
      )`);
    await queryRunner.query(`
      CREATE TABLE ${schema}.legacy_record_access (
        id bigserial PRIMARY KEY,
        at timestamptz NOT NULL DEFAULT now(),
        conversation_id uuid NOT NULL,
        nhs_number text,
        caller_id text NOT NULL,
        organisation text,
        action text NOT NULL,
        request_id text NOT NULL
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const schema = migrationSchema(queryRunner, 'gp2gp');
    for (const table of [
      'legacy_record_access',
      'legacy_document',
      'legacy_part',
      'legacy_message',
      'legacy_transfer',
    ]) {
      await queryRunner.query(`DROP TABLE ${schema}.${table}`);
    }
  }
}
