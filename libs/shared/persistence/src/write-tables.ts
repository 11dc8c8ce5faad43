import type { QueryRunner } from 'typeorm';

/**
 * The tables every service that takes writes keeps in its own schema: the answer to every write, keyed by
 * caller and X-Request-ID, and the transactional outbox. Migrations call this; it is part of their history,
 * so change it only by adding a new migration that alters the tables.
 */
export async function createWriteTables(queryRunner: QueryRunner, schema: string): Promise<void> {
  await queryRunner.query(`
    CREATE TABLE ${schema}.idempotent_request (
      caller_id text NOT NULL,
      request_id text NOT NULL,
      operation text NOT NULL,
      request_hash text NOT NULL,
      outcome jsonb,
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (caller_id, request_id)
    )`);
  await queryRunner.query(`CREATE INDEX idempotent_request_created_idx ON ${schema}.idempotent_request (created_at)`);
  await queryRunner.query(`
    CREATE TABLE ${schema}.outbox (
      id bigserial PRIMARY KEY,
      subject text NOT NULL,
      payload jsonb NOT NULL,
      headers jsonb NOT NULL DEFAULT '{}'::jsonb,
      created_at timestamptz NOT NULL DEFAULT now(),
      published_at timestamptz
    )`);
  await queryRunner.query(`CREATE INDEX outbox_unpublished_idx ON ${schema}.outbox (id) WHERE published_at IS NULL`);
}

export async function dropWriteTables(queryRunner: QueryRunner, schema: string): Promise<void> {
  await queryRunner.query(`DROP TABLE ${schema}.outbox`);
  await queryRunner.query(`DROP TABLE ${schema}.idempotent_request`);
}
