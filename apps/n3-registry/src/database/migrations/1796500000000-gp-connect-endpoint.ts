import type { MigrationInterface, QueryRunner } from 'typeorm';
import { migrationSchema } from '@platform/shared-persistence';

/**
 * Each organisation's GP Connect endpoint (the base address of its clinical system's GP Connect provider,
 * which SDS holds per ODS code nationally): GP2GP fetches a patient's record from the previous practice's.
 * Only http(s) addresses; null where the organisation has none. ODS extracts do not carry it, so imports leave it.
 */
export class GpConnectEndpoint1796500000000 implements MigrationInterface {
  name = 'GpConnectEndpoint1796500000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const schema = migrationSchema(queryRunner, 'n3');
    await queryRunner.query(
      `ALTER TABLE ${schema}.organisation ADD COLUMN gp_connect_endpoint text
         CHECK (gp_connect_endpoint ~ '^https?://\\S+$' AND length(gp_connect_endpoint) <= 508)`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const schema = migrationSchema(queryRunner, 'n3');
    await queryRunner.query(`ALTER TABLE ${schema}.organisation DROP COLUMN gp_connect_endpoint`);
  }
}
