import { createHash, createPublicKey } from 'node:crypto';
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { migrationSchema } from '@platform/shared-persistence';

const MIGRATED_BY = 'migration:1765000000000';

/** As signing/key-fingerprint.ts computes it (kept here as it was when this migration was written). */
function keyFingerprint(publicKeyPem: string): string {
  const der = createPublicKey(publicKeyPem).export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('hex');
}

/**
 * Prescriber keys in versions. A prescriber keeps every key registered for them (by fingerprint, with who
 * registered it, when and in which request); the current key is the one registered last, the order kept by
 * `prescriber_key_registration`, which is also the audit trail of every registration. A prescription
 * remembers the fingerprint of the key that verified it at creation, and release verifies it with that
 * key again, so rotating a key no longer fails the prescriber's unreleased prescriptions. Existing keys
 * become each prescriber's first (and current) version; existing prescriptions remember that key.
 */
export class PrescriberKeyVersions1765000000000 implements MigrationInterface {
  name = 'PrescriberKeyVersions1765000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const schema = migrationSchema(queryRunner, 'eps');
    await queryRunner.query(`
      ALTER TABLE ${schema}.prescriber_key
        ADD COLUMN fingerprint text,
        ADD COLUMN registered_by text,
        ADD COLUMN request_id text,
        ADD COLUMN revoked_at timestamptz`);
    const existing = (await queryRunner.query(`SELECT sds_user_id, public_key_pem FROM ${schema}.prescriber_key`)) as {
      sds_user_id: string;
      public_key_pem: string;
    }[];
    for (const row of existing) {
      await queryRunner.query(
        `UPDATE ${schema}.prescriber_key SET fingerprint = $2, registered_by = $3, request_id = $3 WHERE sds_user_id = $1`,
        [row.sds_user_id, keyFingerprint(row.public_key_pem), MIGRATED_BY],
      );
    }
    await queryRunner.query(`
      ALTER TABLE ${schema}.prescriber_key
        DROP CONSTRAINT prescriber_key_pkey,
        ALTER COLUMN fingerprint SET NOT NULL,
        ALTER COLUMN registered_by SET NOT NULL,
        ALTER COLUMN request_id SET NOT NULL,
        ADD CONSTRAINT prescriber_key_fingerprint_hex CHECK (fingerprint ~ '^[0-9a-f]{64}$'),
        ADD PRIMARY KEY (sds_user_id, fingerprint)`);
    await queryRunner.query(`
      CREATE TABLE ${schema}.prescriber_key_registration (
        sequence bigserial PRIMARY KEY,
        sds_user_id text NOT NULL,
        fingerprint text NOT NULL,
        previous_fingerprint text,
        registered_by text NOT NULL,
        registered_by_organisation text,
        request_id text NOT NULL,
        registered_at timestamptz NOT NULL DEFAULT now(),
        FOREIGN KEY (sds_user_id, fingerprint) REFERENCES ${schema}.prescriber_key (sds_user_id, fingerprint)
      )`);
    await queryRunner.query(
      `CREATE INDEX prescriber_key_registration_prescriber_idx ON ${schema}.prescriber_key_registration (sds_user_id, sequence)`,
    );
    await queryRunner.query(
      `INSERT INTO ${schema}.prescriber_key_registration (sds_user_id, fingerprint, registered_by, request_id, registered_at)
       SELECT sds_user_id, fingerprint, registered_by, request_id, registered_at FROM ${schema}.prescriber_key
       ORDER BY registered_at, sds_user_id`,
    );
    await queryRunner.query(`ALTER TABLE ${schema}.prescription ADD COLUMN prescriber_key_fingerprint text`);
    // Until now a prescriber had one key, the one that verified their prescriptions: remember it.
    await queryRunner.query(
      `UPDATE ${schema}.prescription p SET prescriber_key_fingerprint = k.fingerprint
       FROM ${schema}.prescriber_key k WHERE k.sds_user_id = p.prescriber_sds_user_id`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const schema = migrationSchema(queryRunner, 'eps');
    await queryRunner.query(`ALTER TABLE ${schema}.prescription DROP COLUMN prescriber_key_fingerprint`);
    // Back to one key per prescriber: the current one (the last registered).
    await queryRunner.query(
      `DELETE FROM ${schema}.prescriber_key k WHERE (k.sds_user_id, k.fingerprint) NOT IN (
         SELECT DISTINCT ON (sds_user_id) sds_user_id, fingerprint FROM ${schema}.prescriber_key_registration
         ORDER BY sds_user_id, sequence DESC)`,
    );
    await queryRunner.query(`DROP TABLE ${schema}.prescriber_key_registration`);
    await queryRunner.query(`
      ALTER TABLE ${schema}.prescriber_key
        DROP CONSTRAINT prescriber_key_pkey,
        DROP CONSTRAINT prescriber_key_fingerprint_hex,
        DROP COLUMN fingerprint,
        DROP COLUMN registered_by,
        DROP COLUMN request_id,
        DROP COLUMN revoked_at,
        ADD PRIMARY KEY (sds_user_id)`);
  }
}
