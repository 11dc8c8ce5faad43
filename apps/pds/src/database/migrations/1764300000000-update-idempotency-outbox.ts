import type { MigrationInterface, QueryRunner } from 'typeorm';
import { createWriteTables, dropWriteTables, migrationSchema } from '@platform/shared-persistence';

/**
 * Writes: the answer to every write request, keyed by caller and X-Request-ID (a retry gets the first answer
 * and changes nothing), and the transactional outbox from which events reach JetStream.
 */
export class UpdateIdempotencyOutbox1764300000000 implements MigrationInterface {
  name = 'UpdateIdempotencyOutbox1764300000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await createWriteTables(queryRunner, migrationSchema(queryRunner, 'pds'));
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await dropWriteTables(queryRunner, migrationSchema(queryRunner, 'pds'));
  }
}
