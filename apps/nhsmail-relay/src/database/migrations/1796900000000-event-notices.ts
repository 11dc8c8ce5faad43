import type { MigrationInterface, QueryRunner } from 'typeorm';
import { migrationSchema } from '@platform/shared-persistence';

/**
 * Platform events turned into mail (notices/practice-notices.ts): one row per event, keyed by the event's
 * JetStream message ID, written in the transaction that queues the notice, so a redelivered event mails once.
 */
export class EventNotices1796900000000 implements MigrationInterface {
  name = 'EventNotices1796900000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const schema = migrationSchema(queryRunner, 'nhsmail');
    await queryRunner.query(`
      CREATE TABLE ${schema}.event_notice (
        event_id text PRIMARY KEY,
        subject text NOT NULL,
        mailbox text NOT NULL REFERENCES ${schema}.mailbox (address),
        message uuid NOT NULL REFERENCES ${schema}.message (id) ON DELETE CASCADE,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const schema = migrationSchema(queryRunner, 'nhsmail');
    await queryRunner.query(`DROP TABLE ${schema}.event_notice`);
  }
}
