import { Client } from 'pg';
import { generatedPatients } from './population';

/** The benchmarks' control connection to PostgreSQL and what every benchmark asks of it. */
export class BenchDatabase {
  protected constructor(
    protected readonly client: Client,
    readonly schema: string,
  ) {}

  /** Connects, naming BENCH_DATABASE_URL when PostgreSQL is not there. */
  protected static async connect(url: string): Promise<Client> {
    const client = new Client({ connectionString: url, application_name: 'bench-control' });
    try {
      await client.connect();
    } catch (error) {
      const { hostname, port } = new URL(url);
      throw new Error(
        `cannot connect to PostgreSQL at ${hostname}:${port || 5432} (BENCH_DATABASE_URL): ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    return client;
  }

  async version(): Promise<string | undefined> {
    return (await this.client.query<{ server_version: string }>('SHOW server_version')).rows[0]?.server_version;
  }

  async dropSchema(): Promise<void> {
    await this.client.query(`DROP SCHEMA IF EXISTS "${this.schema}" CASCADE`);
  }

  generatedPatients(): Promise<number> {
    return generatedPatients(this.client, this.schema);
  }

  close(): Promise<void> {
    return this.client.end();
  }
}
