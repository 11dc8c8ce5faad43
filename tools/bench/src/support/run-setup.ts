import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { connect as connectNats } from 'nats';
import type { BenchContext } from '../command';
import type { BenchDatabase } from './bench-database';
import { assertPortsFree } from './children';
import { describeMachine, type MachineInfo } from './machine';
import { PORTS } from './platform';

export interface Versions {
  postgres?: string;
  nats?: string;
  autocannon: string;
}

/** The PostgreSQL and NATS a benchmark uses: BENCH_DATABASE_URL and BENCH_NATS_URL, or the machine's own. */
export function benchUrls(): { databaseUrl: string; natsUrl: string } {
  return {
    databaseUrl: process.env['BENCH_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test',
    natsUrl: process.env['BENCH_NATS_URL'] ?? 'nats://127.0.0.1:4222',
  };
}

async function natsVersion(url: string): Promise<string | undefined> {
  try {
    const connection = await connectNats({ servers: url, timeout: 3000, name: 'bench-control' });
    const version = connection.info?.version;
    await connection.close();
    return version;
  } catch {
    return undefined;
  }
}

function autocannonVersion(root: string): string {
  try {
    return (
      JSON.parse(readFileSync(path.join(root, 'node_modules/autocannon/package.json'), 'utf8')) as { version: string }
    ).version;
  } catch {
    return 'unknown';
  }
}

/** The versions a report names: PostgreSQL's, the NATS server's and the load generator's. */
export async function measuredVersions(database: BenchDatabase, natsUrl: string, root: string): Promise<Versions> {
  return { postgres: await database.version(), nats: await natsVersion(natsUrl), autocannon: autocannonVersion(root) };
}

export interface RunSetup<D> {
  databaseUrl: string;
  natsUrl: string;
  /** tmp/bench/<name>: logs, generated files. */
  workDir: string;
  machine: MachineInfo;
  measuredAt: Date;
  database: D;
  versions: Versions;
}

/**
 * What a benchmark that starts the platform does first: checks the build, the ports and the machine, opens
 * its control connection, drops its schemas (and again at the end unless `keepData`), and notes versions.
 */
export async function setUpRun<D extends BenchDatabase & { dropAll(): Promise<void> }>(
  context: BenchContext,
  settings: { name: string; built: string[]; keepData: boolean; open: (url: string) => Promise<D> },
): Promise<RunSetup<D>> {
  const { root, cleanup } = context;
  for (const built of settings.built) {
    if (!existsSync(path.join(root, built))) {
      throw new Error(`${built} is missing: run it as \`npm run bench -- ${settings.name}\` (it builds first)`);
    }
  }
  const { databaseUrl, natsUrl } = benchUrls();
  const workDir = path.join(root, 'tmp/bench', settings.name);
  mkdirSync(workDir, { recursive: true });
  const machine = describeMachine();
  const measuredAt = new Date();
  await assertPortsFree(PORTS);
  const database = await settings.open(databaseUrl);
  cleanup.add({ describe: 'close the control connection to PostgreSQL', run: () => database.close() });
  await database.dropAll();
  if (!settings.keepData) {
    cleanup.add({ describe: `drop the ${settings.name} benchmark schemas`, run: () => database.dropAll() });
  }
  const versions = await measuredVersions(database, natsUrl, root);
  return { databaseUrl, natsUrl, workDir, machine, measuredAt, database, versions };
}
