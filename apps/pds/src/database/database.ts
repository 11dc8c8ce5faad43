import { Client, type Pool } from 'pg';
import { DataSource } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
import { InitialSchema1764000000000 } from './migrations/1764000000000-initial-schema';
import { RelatedPerson1764100000000 } from './migrations/1764100000000-related-person';
import { Search1764200000000 } from './migrations/1764200000000-search';
import { UpdateIdempotencyOutbox1764300000000 } from './migrations/1764300000000-update-idempotency-outbox';
import { NhsNumberAllocation1764400000000 } from './migrations/1764400000000-nhs-number-allocation';

export interface DatabaseSettings {
  url: string;
  schema: string;
  poolSize: number;
}

export const MIGRATIONS = [
  InitialSchema1764000000000,
  RelatedPerson1764100000000,
  Search1764200000000,
  UpdateIdempotencyOutbox1764300000000,
  NhsNumberAllocation1764400000000,
];

/** The service's schema must exist before TypeORM can keep its migrations table inside it. */
async function ensureSchema(settings: DatabaseSettings): Promise<void> {
  const client = new Client({ connectionString: settings.url });
  await client.connect();
  try {
    await client.query(`CREATE SCHEMA IF NOT EXISTS "${settings.schema}"`);
  } finally {
    await client.end();
  }
}

/** Connects, creates the schema if needed and runs pending migrations (never `synchronize`). */
export async function openDatabase(settings: DatabaseSettings): Promise<DataSource> {
  await ensureSchema(settings);
  const dataSource = new DataSource({
    type: 'postgres',
    url: settings.url,
    schema: settings.schema,
    migrations: MIGRATIONS,
    migrationsTableName: 'migrations',
    migrationsTransactionMode: 'all',
    synchronize: false,
    logging: false,
    extra: { max: settings.poolSize, application_name: 'pds' },
  });
  await dataSource.initialize();
  await dataSource.runMigrations();
  return dataSource;
}

/** The underlying pg pool, for prepared statements on the hot read path. */
export function poolOf(dataSource: DataSource): Pool {
  return (dataSource.driver as PostgresDriver).master as Pool;
}
