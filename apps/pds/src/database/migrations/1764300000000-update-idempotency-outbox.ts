import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Writes: the answer to every write request, keyed by caller and X-Request-ID (a retry gets the first answer
 * and changes nothing), and the transactional outbox from which events reach JetStream.
 */
export class UpdateIdempotencyOutbox1764300000000 implements MigrationInterface {
  name = 'UpdateIdempotencyOutbox1764300000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const schema = `"${queryRunner.connection.driver.schema ?? 'pds'}"`;
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

  async down(queryRunner: QueryRunner): Promise<void> {
    const schema = `"${queryRunner.connection.driver.schema ?? 'pds'}"`;
    await queryRunner.query(`DROP TABLE ${schema}.outbox`);
    await queryRunner.query(`DROP TABLE ${schema}.idempotent_request`);
  }
}
