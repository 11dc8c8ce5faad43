import type { MigrationInterface, QueryRunner } from 'typeorm';
import { migrationSchema } from '@platform/shared-persistence';

/**
 * Where each event-notice durable consumer starts when it has to be made (notices/practice-notices.ts): the
 * moment the relay first followed that source, so a first deployment does not mail the events a stream already
 * held, and events published between that moment and the stream's creation are still mailed.
 */
export class NoticeConsumers1797100000000 implements MigrationInterface {
  name = 'NoticeConsumers1797100000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const schema = migrationSchema(queryRunner, 'nhsmail');
    await queryRunner.query(`
      CREATE TABLE ${schema}.notice_consumer (
        durable text PRIMARY KEY,
        start_at timestamptz NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const schema = migrationSchema(queryRunner, 'nhsmail');
    await queryRunner.query(`DROP TABLE ${schema}.notice_consumer`);
  }
}
