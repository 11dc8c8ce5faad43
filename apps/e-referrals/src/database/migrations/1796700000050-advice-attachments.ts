import type { MigrationInterface, QueryRunner } from 'typeorm';
import { migrationSchema } from '@platform/shared-persistence';

/**
 * A027's attachments. A file uploaded (A020) with an Advice and Guidance request's UBRN as its
 * NHSD-eRS-Referral-ID names that request (`advice_ubrn`; `ubrn` stays the referral's, as the two are different
 * tables). A referral's attachments are of the NHS's eRS-AttachmentType-1: the referrer's letters (A012) and, on a
 * referral converted from a request, the provider's files for its admin team (PROVIDER) and its guidance response
 * files (GUIDANCE_RESPONSE). Both columns are added without a rewrite: one nullable, one with a constant default.
 */
export class AdviceAttachments1796700000050 implements MigrationInterface {
  name = 'AdviceAttachments1796700000050';

  async up(queryRunner: QueryRunner): Promise<void> {
    const s = migrationSchema(queryRunner, 'ers');
    await queryRunner.query(
      `ALTER TABLE ${s}.attachment ADD COLUMN advice_ubrn char(12) REFERENCES ${s}.advice_request (ubrn)`,
    );
    await queryRunner.query(
      `CREATE INDEX attachment_advice_ubrn ON ${s}.attachment (advice_ubrn) WHERE advice_ubrn IS NOT NULL`,
    );
    await queryRunner.query(
      `ALTER TABLE ${s}.referral_letter ADD COLUMN type text NOT NULL DEFAULT 'REFERRER'
         CONSTRAINT referral_letter_type CHECK (type IN ('REFERRER', 'PROVIDER', 'GUIDANCE_RESPONSE'))`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const s = migrationSchema(queryRunner, 'ers');
    await queryRunner.query(`ALTER TABLE ${s}.referral_letter DROP COLUMN type`);
    await queryRunner.query(`ALTER TABLE ${s}.attachment DROP COLUMN advice_ubrn`);
  }
}
