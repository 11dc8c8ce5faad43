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
  /**
   * Bounds for a service answering requests, so that a busy or wedged database is an error answer and never
   * a hang. Left out by command-line tools and loaders, whose long statements and many streams are expected.
   * Migrations never run under them (a backfill at national scale takes longer than any request may).
   */
  timeouts?: PoolTimeouts;
}

export interface PoolTimeouts {
  /** Longest wait for a connection from the pool (pg-pool's connectionTimeoutMillis), queued or new. */
  acquireMs: number;
  /** PostgreSQL's statement_timeout for every statement on the pool. */
  statementMs: number;
  /** PostgreSQL ends a session left idle inside a transaction for this long, releasing its locks. */
  idleInTransactionMs: number;
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
    const migrating = dataSourceFor(settings, { max: 1, application_name: `${settings.applicationName} migrations` });
    try {
      await migrating.initialize();
      await migrating.runMigrations();
    } finally {
      if (migrating.isInitialized) await migrating.destroy();
    }
  } finally {
    // Ending the session releases the lock, also when a migration failed.
    await lock.end();
  }
  const { timeouts } = settings;
  const dataSource = dataSourceFor(settings, {
    max: settings.poolSize,
    application_name: settings.applicationName,
    ...(timeouts && {
      connectionTimeoutMillis: timeouts.acquireMs,
      statement_timeout: timeouts.statementMs,
      idle_in_transaction_session_timeout: timeouts.idleInTransactionMs,
    }),
  });
  await dataSource.initialize();
  const pool = poolOf(dataSource);
  // A connection PostgreSQL ends while it sits idle in the pool (a restart, an administrator, a stop) is
  // reported here; unheard, node would end the process on it. The pool drops it and connects anew.
  pool.on('error', () => undefined);
  // One that ends while a request holds it fails that request's query; the client's own 'error' event must
  // be heard too, or it ends the process. (On acquire: TypeORM's start-up connects clients before this runs.)
  const heard = new WeakSet<object>();
  pool.on('acquire', (client) => {
    if (heard.has(client)) return;
    heard.add(client);
    client.on('error', () => undefined);
  });
  return { dataSource, pool, schema: settings.schema };
}

function dataSourceFor(settings: DatabaseSettings, extra: Record<string, unknown>): DataSource {
  return new DataSource({
    type: 'postgres',
    url: settings.url,
    schema: settings.schema,
    migrations: settings.migrations,
    migrationsTableName: 'migrations',
    migrationsTransactionMode: 'all',
    synchronize: false,
    logging: false,
    extra,
  });
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
