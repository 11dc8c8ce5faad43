import { Client, type Pool } from 'pg';
import { DataSource, type MigrationInterface } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';

/** A service's database: TypeORM for migrations, the raw pg pool for the hot paths, and the service's schema. */
export interface ServiceDatabase {
  dataSource: DataSource;
  pool: Pool;
  schema: string;
}

export interface DatabaseSettings {
  url: string;
  /** The service's own schema (one per service: BRIEF section 2). */
  schema: string;
  poolSize: number;
  migrations: (new () => MigrationInterface)[];
  /** Shown in pg_stat_activity. */
  applicationName: string;
}

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

/** Connects, creates the schema if needed and runs pending migrations in one transaction (never `synchronize`). */
export async function openServiceDatabase(settings: DatabaseSettings): Promise<ServiceDatabase> {
  await ensureSchema(settings);
  const dataSource = new DataSource({
    type: 'postgres',
    url: settings.url,
    schema: settings.schema,
    migrations: settings.migrations,
    migrationsTableName: 'migrations',
    migrationsTransactionMode: 'all',
    synchronize: false,
    logging: false,
    extra: { max: settings.poolSize, application_name: settings.applicationName },
  });
  await dataSource.initialize();
  await dataSource.runMigrations();
  return { dataSource, pool: poolOf(dataSource), schema: settings.schema };
}

/** The underlying pg pool, for prepared statements and COPY on the hot paths. */
export function poolOf(dataSource: DataSource): Pool {
  return (dataSource.driver as PostgresDriver).master as Pool;
}

/** The schema a migration runs in (the data source's own). */
export function migrationSchema(
  queryRunner: { connection: { driver: { schema?: string } } },
  fallback: string,
): string {
  return `"${queryRunner.connection.driver.schema ?? fallback}"`;
}
