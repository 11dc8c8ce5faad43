import type { MigrationInterface, QueryRunner } from 'typeorm';
import { migrationSchema } from '@platform/shared-persistence';

/**
 * NHSD-eRS-On-Behalf-Of-User-ID: the provider clinician a SERVICE_PROVIDER_CLINICIAN_ADMIN acted on behalf of,
 * beside the admin who acted: in the referral's history (each version), in an Advice and Guidance conversation's
 * messages and in the read audit.
 */
export class OnBehalfOf1796700000020 implements MigrationInterface {
  name = 'OnBehalfOf1796700000020';

  async up(queryRunner: QueryRunner): Promise<void> {
    const s = migrationSchema(queryRunner, 'ers');
    await queryRunner.query(`ALTER TABLE ${s}.referral_version ADD COLUMN on_behalf_of text`);
    await queryRunner.query(`ALTER TABLE ${s}.advice_message ADD COLUMN on_behalf_of text`);
    await queryRunner.query(`ALTER TABLE ${s}.read_audit ADD COLUMN on_behalf_of text`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const s = migrationSchema(queryRunner, 'ers');
    await queryRunner.query(`ALTER TABLE ${s}.read_audit DROP COLUMN on_behalf_of`);
    await queryRunner.query(`ALTER TABLE ${s}.advice_message DROP COLUMN on_behalf_of`);
    await queryRunner.query(`ALTER TABLE ${s}.referral_version DROP COLUMN on_behalf_of`);
  }
}
