import type { MigrationInterface, QueryRunner } from 'typeorm';
import { migrationSchema } from '@platform/shared-persistence';
import { backfillPreviousContacts } from '../search-backfill';

/**
 * Previous (`use: old`) e-mail addresses and phone numbers, for searches with `_history`. Only records that
 * have such a contact are rewritten, with the same derivation as every write (`searchRowsOf`).
 *
 * Upgrading a populated store reads every resource once (a JSON path test on each, paged), inside the
 * migration's transaction, which holds the patient table after the ALTER: reads by replicas of the previous
 * version wait until it commits, and other services' migrations wait behind the migration lock
 * (apps/pds/README.md, "Upgrading", gives the time measured at 1M patients).
 */
export class PreviousContacts1764900000000 implements MigrationInterface {
  name = 'PreviousContacts1764900000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const schema = migrationSchema(queryRunner, 'pds');
    await queryRunner.query(`ALTER TABLE ${schema}.patient
      ADD COLUMN previous_emails text[] NOT NULL DEFAULT '{}',
      ADD COLUMN previous_phones text[] NOT NULL DEFAULT '{}'`);
    await backfillPreviousContacts(queryRunner, queryRunner.connection.driver.schema ?? 'pds');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const schema = migrationSchema(queryRunner, 'pds');
    await queryRunner.query(`ALTER TABLE ${schema}.patient DROP COLUMN previous_emails, DROP COLUMN previous_phones`);
  }
}
