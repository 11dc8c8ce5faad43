import type { MigrationInterface, QueryRunner } from 'typeorm';
import { migrationSchema } from '@platform/shared-persistence';

/**
 * `[secure]` mail: a message's encrypted copy (AES-256-GCM per chunk, the key's id kept so keys can rotate),
 * one link per outside recipient (only the SHA-256 of its token is kept), the one-time code and its limits on
 * the link row (checked under the row's lock), and the short sessions a correct code opens.
 */
export class SecureMail1796700000000 implements MigrationInterface {
  name = 'SecureMail1796700000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const schema = migrationSchema(queryRunner, 'nhsmail');
    await queryRunner.query(`
      CREATE TABLE ${schema}.secure_message (
        message uuid PRIMARY KEY REFERENCES ${schema}.message (id) ON DELETE CASCADE,
        key_id text NOT NULL,
        size_bytes bigint NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`
      CREATE TABLE ${schema}.secure_chunk (
        message uuid NOT NULL REFERENCES ${schema}.secure_message (message) ON DELETE CASCADE,
        seq integer NOT NULL,
        iv bytea NOT NULL,
        tag bytea NOT NULL,
        data bytea NOT NULL,
        PRIMARY KEY (message, seq)
      )`);
    await queryRunner.query(`
      CREATE TABLE ${schema}.secure_link (
        id uuid PRIMARY KEY,
        token_hash bytea NOT NULL UNIQUE,
        message uuid NOT NULL REFERENCES ${schema}.secure_message (message) ON DELETE CASCADE,
        recipient text NOT NULL,
        expires_at timestamptz NOT NULL,
        code_hash bytea,
        code_expires_at timestamptz,
        codes_sent integer NOT NULL DEFAULT 0,
        failed_codes integer NOT NULL DEFAULT 0,
        created_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (message, recipient)
      )`);
    await queryRunner.query(`
      CREATE TABLE ${schema}.secure_session (
        token_hash bytea PRIMARY KEY,
        link uuid NOT NULL REFERENCES ${schema}.secure_link (id) ON DELETE CASCADE,
        expires_at timestamptz NOT NULL
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const schema = migrationSchema(queryRunner, 'nhsmail');
    for (const table of ['secure_session', 'secure_link', 'secure_chunk', 'secure_message']) {
      await queryRunner.query(`DROP TABLE ${schema}.${table}`);
    }
  }
}
