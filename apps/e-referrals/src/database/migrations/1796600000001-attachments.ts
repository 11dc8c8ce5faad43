import type { MigrationInterface, QueryRunner } from 'typeorm';
import { migrationSchema } from '@platform/shared-persistence';

/**
 * Attachments (A020) kept in PostgreSQL as bytea: at most 5 MB each, stored in the transaction that records
 * who uploaded them and the event, backed up and retained with the referrals they belong to. The referral
 * letter set of each referral (A012) is a separate table, replaced as a whole.
 */
export class Attachments1796600000001 implements MigrationInterface {
  name = 'Attachments1796600000001';

  async up(queryRunner: QueryRunner): Promise<void> {
    const s = migrationSchema(queryRunner, 'ers');
    await queryRunner.query(`
      CREATE TABLE ${s}.attachment (
        id uuid PRIMARY KEY,
        ubrn char(12) REFERENCES ${s}.referral (ubrn),
        file_name text NOT NULL,
        content_type text NOT NULL,
        size integer NOT NULL CHECK (size BETWEEN 1 AND 5242880),
        sha256 bytea NOT NULL,
        content bytea NOT NULL,
        uploaded_by text NOT NULL,
        uploaded_by_ods text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    // Large values are stored out of line already; no compression: PDFs and images are compressed.
    await queryRunner.query(`ALTER TABLE ${s}.attachment ALTER COLUMN content SET STORAGE EXTERNAL`);
    await queryRunner.query(`CREATE INDEX attachment_ubrn ON ${s}.attachment (ubrn) WHERE ubrn IS NOT NULL`);
    await queryRunner.query(`
      CREATE TABLE ${s}.referral_letter (
        ubrn char(12) NOT NULL REFERENCES ${s}.referral (ubrn),
        attachment_id uuid NOT NULL REFERENCES ${s}.attachment (id),
        position smallint NOT NULL,
        description text,
        PRIMARY KEY (ubrn, attachment_id)
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const s = migrationSchema(queryRunner, 'ers');
    await queryRunner.query(`DROP TABLE ${s}.referral_letter`);
    await queryRunner.query(`DROP TABLE ${s}.attachment`);
  }
}
