import type { MigrationInterface, QueryRunner } from 'typeorm';
import { createWriteTables, dropWriteTables, migrationSchema } from '@platform/shared-persistence';

/**
 * The example items, and the write tables every service that takes writes keeps: the answer to every write,
 * keyed by caller and X-Request-ID, and the transactional outbox from which events reach JetStream.
 */
export class InitialSchema1796476866197 implements MigrationInterface {
  name = 'InitialSchema1796476866197';

  async up(queryRunner: QueryRunner): Promise<void> {
    const schema = migrationSchema(queryRunner, 'nhsmail');
    await queryRunner.query(`
      CREATE TABLE ${schema}.item (
        id uuid PRIMARY KEY,
        name text NOT NULL,
        description text,
        version integer NOT NULL DEFAULT 1,
        created_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await createWriteTables(queryRunner, schema);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const schema = migrationSchema(queryRunner, 'nhsmail');
    await dropWriteTables(queryRunner, schema);
    await queryRunner.query(`DROP TABLE ${schema}.item`);
  }
}
