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

/**
 * Every service's migrations take this session lock first. Services share one database: two first starts at
 * once would otherwise race on `CREATE EXTENSION IF NOT EXISTS` (both see it missing, one fails on
 * pg_extension's unique index), which the launcher and a fresh CI machine do.
 */
const MIGRATION_LOCK = "hashtext('platform:migrations')";

/** Connects, creates the schema if needed and runs pending migrations in one transaction (never `synchronize`). */
export async function openServiceDatabase(settings: DatabaseSettings): Promise<ServiceDatabase> {
  const lock = new Client({
    connectionString: settings.url,
    application_name: `${settings.applicationName} migrations`,
  });
  await lock.connect();
  try {
    await lock.query(`SELECT pg_advisory_lock(${MIGRATION_LOCK})`);
    // The service's schema must exist before TypeORM can keep its migrations table inside it.
    await lock.query(`CREATE SCHEMA IF NOT EXISTS "${settings.schema}"`);
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
    try {
      await dataSource.initialize();
      await dataSource.runMigrations();
    } catch (error) {
      if (dataSource.isInitialized) await dataSource.destroy();
      throw error;
    }
    return { dataSource, pool: poolOf(dataSource), schema: settings.schema };
  } finally {
    // Ending the session releases the lock, also when a migration failed.
    await lock.end();
  }
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
