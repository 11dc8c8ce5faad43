import { generateKeyPairSync } from 'node:crypto';
import { openServiceDatabase } from '@platform/shared-persistence';
import { dropSchema, testDatabaseUrl, uniqueName } from '@platform/shared-testing';
import { keyFingerprint } from '../signing/key-fingerprint';
import { MIGRATIONS } from './database';
import { Prescriptions1764700000000 } from './migrations/1764700000000-prescriptions';

describe('migration 1765000000000: prescriber keys in versions', () => {
  const schema = uniqueName('eps_test_key_versions');
  const url = testDatabaseUrl();

  afterAll(async () => {
    await dropSchema(url, schema);
  });

  it("makes each existing key its prescriber's first and current version, and existing prescriptions remember it", async () => {
    const { publicKey } = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    });
    const before = await openServiceDatabase({
      url,
      schema,
      poolSize: 1,
      migrations: [Prescriptions1764700000000],
      applicationName: 'eps-test',
    });
    try {
      await before.pool.query(
        `INSERT INTO "${schema}".prescriber_key (sds_user_id, public_key_pem, registered_at)
         VALUES ('555086689106', $1, '2025-01-02T03:04:05Z')`,
        [publicKey],
      );
      await before.pool.query(
        `INSERT INTO "${schema}".prescription (short_form_id, long_form_id, bundle, status, patient_nhs_number,
           prescriber_ods, prescriber_sds_user_id, course_of_therapy, item_ids, expires_on)
         VALUES ('A1B2C3-A83008-D4E5FZ', 'long-1', '{}', '0001', '9000000009', 'A83008', '555086689106', 'acute',
           '{item-1}', current_date + 30),
                ('A1B2C3-A83008-D4E5F0', 'long-2', '{}', '0001', '9000000009', 'A83008', '999999999', 'acute',
           '{item-1}', current_date + 30)`,
      );
    } finally {
      await before.dataSource.destroy();
    }

    const after = await openServiceDatabase({
      url,
      schema,
      poolSize: 1,
      migrations: MIGRATIONS,
      applicationName: 'eps-test',
    });
    try {
      const keys = await after.pool.query(
        `SELECT sds_user_id, fingerprint, registered_by, request_id, revoked_at FROM "${schema}".prescriber_key`,
      );
      expect(keys.rows).toEqual([
        {
          sds_user_id: '555086689106',
          fingerprint: keyFingerprint(publicKey),
          registered_by: 'migration:1765000000000',
          request_id: 'migration:1765000000000',
          revoked_at: null,
        },
      ]);
      const registrations = await after.pool.query(
        `SELECT sds_user_id, fingerprint, previous_fingerprint, registered_at FROM "${schema}".prescriber_key_registration`,
      );
      expect(registrations.rows).toEqual([
        {
          sds_user_id: '555086689106',
          fingerprint: keyFingerprint(publicKey),
          previous_fingerprint: null,
          registered_at: new Date('2025-01-02T03:04:05Z'),
        },
      ]);
      const prescriptions = await after.pool.query(
        `SELECT prescriber_sds_user_id, prescriber_key_fingerprint FROM "${schema}".prescription ORDER BY long_form_id`,
      );
      expect(prescriptions.rows).toEqual([
        { prescriber_sds_user_id: '555086689106', prescriber_key_fingerprint: keyFingerprint(publicKey) },
        { prescriber_sds_user_id: '999999999', prescriber_key_fingerprint: null },
      ]);
    } finally {
      await after.dataSource.destroy();
    }
  });
});
