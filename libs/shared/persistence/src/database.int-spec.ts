import { Client } from 'pg';
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { testDatabaseUrl, uniqueName } from '@platform/shared-testing';
import { migrationSchema, openServiceDatabase, type ServiceDatabase } from './database';

/** What every service's first migration does: extensions first, then its own tables. */
class NeedsExtensions implements MigrationInterface {
  name = 'NeedsExtensions1700000000000';
  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public');
    await queryRunner.query('CREATE EXTENSION IF NOT EXISTS fuzzystrmatch SCHEMA public');
    await queryRunner.query('CREATE EXTENSION IF NOT EXISTS btree_gist SCHEMA public');
    await queryRunner.query(`CREATE TABLE ${migrationSchema(queryRunner, 'public')}.thing (id int PRIMARY KEY)`);
  }
  async down(): Promise<void> {
    // never reverted here
  }
}

async function admin<T>(url: string, work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

describe('openServiceDatabase', () => {
  const name = uniqueName('first_start');
  const serverUrl = testDatabaseUrl();
  const freshUrl = (() => {
    const url = new URL(serverUrl);
    url.pathname = `/${name}`;
    return url.toString();
  })();
  const opened: ServiceDatabase[] = [];

  beforeAll(async () => {
    // A database of its own, so the extensions are really missing, as on a machine's first start.
    await admin(serverUrl, (client) => client.query(`CREATE DATABASE "${name}"`));
  });

  afterAll(async () => {
    await Promise.all(opened.map((database) => database.dataSource.destroy()));
    await admin(serverUrl, (client) => client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
  });

  it('lets several services make their first start at once against a database without their extensions', async () => {
    const services = ['pds', 'n3', 'eps', 'mail', 'referrals', 'gp2gp'];
    const results = await Promise.allSettled(
      services.map((schema) =>
        openServiceDatabase({
          url: freshUrl,
          schema,
          poolSize: 1,
          migrations: [NeedsExtensions],
          applicationName: `first-start-${schema}`,
        }),
      ),
    );
    for (const result of results) if (result.status === 'fulfilled') opened.push(result.value);

    expect(results.map((result) => (result.status === 'rejected' ? String(result.reason) : 'ok'))).toEqual(
      services.map(() => 'ok'),
    );
    const tables = await admin(freshUrl, (client) =>
      client.query<{ schema: string }>(`SELECT table_schema AS schema FROM information_schema.tables
        WHERE table_name = 'thing' ORDER BY 1`),
    );
    expect(tables.rows.map((row) => row.schema)).toEqual([...services].sort());
    const extensions = await admin(freshUrl, (client) =>
      client.query<{ extname: string }>(`SELECT extname FROM pg_extension WHERE extname <> 'plpgsql' ORDER BY 1`),
    );
    expect(extensions.rows.map((row) => row.extname)).toEqual(['btree_gist', 'fuzzystrmatch', 'pg_trgm']);
  });
});
