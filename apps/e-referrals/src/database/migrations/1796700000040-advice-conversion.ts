import type { MigrationInterface, QueryRunner } from 'typeorm';
import { migrationSchema } from '@platform/shared-persistence';

/**
 * A027 converts an Advice and Guidance request in one write under the request's row lock, so the column that
 * marked a conversion in progress (`converting_request`) has nothing left to hold.
 */
export class AdviceConversion1796700000040 implements MigrationInterface {
  name = 'AdviceConversion1796700000040';

  async up(queryRunner: QueryRunner): Promise<void> {
    const s = migrationSchema(queryRunner, 'ers');
    await queryRunner.query(`ALTER TABLE ${s}.advice_request DROP COLUMN converting_request`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const s = migrationSchema(queryRunner, 'ers');
    await queryRunner.query(`ALTER TABLE ${s}.advice_request ADD COLUMN converting_request text`);
  }
}
