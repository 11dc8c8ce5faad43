import { dropSchema, testDatabaseUrl, uniqueName } from '@platform/shared-testing';
import type { ServiceDatabase } from '@platform/shared-persistence';
import { openRegistryDatabase } from '../database/database';
import { seedSandboxEstate } from '../sandbox/sandbox-estate';
import { loadEstate } from './estate-loader';

describe('loading a generated estate (real PostgreSQL)', () => {
  const schema = uniqueName('n3_estate');
  let database: ServiceDatabase;

  beforeAll(async () => {
    database = await openRegistryDatabase({ url: testDatabaseUrl(), schema, poolSize: 2 });
  });

  afterAll(async () => {
    await database.dataSource.destroy();
    await dropSchema(testDatabaseUrl(), schema);
  });

  it('loads organisations, connections and blocks beside the sandbox estate, continuing its ids', async () => {
    await seedSandboxEstate(database);
    const loaded = await loadEstate(database, { connections: 3000, seed: 1 });
    expect(loaded).toMatchObject({ organisations: 2400, connections: 3000 });
    const counts = await database.pool.query<{ connections: number; blocks: number; held: number }>(
      `SELECT (SELECT count(*)::int FROM "${schema}".connection) AS connections,
              (SELECT count(*)::int FROM "${schema}".ip_allocation) AS blocks,
              (SELECT count(DISTINCT connection_id)::int FROM "${schema}".ip_allocation) AS held`,
    );
    expect(counts.rows[0]?.connections).toBe(3007);
    expect(counts.rows[0]?.blocks).toBe(loaded.blocks + 8);
    const next = await database.pool.query<{ id: string }>(
      `INSERT INTO "${schema}".connection (ods_code, supplier, bandwidth_mbps, access_type, availability_target, contract_start, status)
       VALUES ('Z00001', 'BT', 10, 'fttc', 99.5, '2026-01-01', 'ordered') RETURNING id`,
    );
    expect(next.rows[0]?.id).toBe('N3C0003008');
  });

  it('refuses to load a second estate into the same schema', async () => {
    await expect(loadEstate(database, { connections: 10, seed: 2 })).rejects.toThrow(
      /already holds a generated estate/,
    );
  });
});
