import type { MigrationInterface, QueryRunner } from 'typeorm';
import { migrationSchema } from '@platform/shared-persistence';

/**
 * A referral converted from an Advice and Guidance request (A027) names that request, so that every later version
 * of the referral keeps it in `supportingInfo`, not only the version the conversion wrote. Nullable, without a
 * default to fill: adding it does not rewrite the table.
 */
export class ReferralAdvice1796700000040 implements MigrationInterface {
  name = 'ReferralAdvice1796700000040';

  async up(queryRunner: QueryRunner): Promise<void> {
    const s = migrationSchema(queryRunner, 'ers');
    await queryRunner.query(
      `ALTER TABLE ${s}.referral ADD COLUMN advice_ubrn char(12) REFERENCES ${s}.advice_request (ubrn)`,
    );
    // The referrals converted before this column: each is named by its request's converted_ubrn.
    await queryRunner.query(
      `UPDATE ${s}.referral r SET advice_ubrn = a.ubrn FROM ${s}.advice_request a WHERE a.converted_ubrn = r.ubrn`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const s = migrationSchema(queryRunner, 'ers');
    await queryRunner.query(`ALTER TABLE ${s}.referral DROP COLUMN advice_ubrn`);
  }
}
