import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { BenchContext } from '../command';
import { DEFAULT_DATABASE_URL, DEFAULT_NATS_URL, natsVersion, PORTS, readAutocannonVersion } from '../read/read-bench';
import type { BenchDatabase } from './bench-database';
import { assertPortsFree } from './children';
import { describeMachine, type MachineInfo } from './machine';

export interface RunSetup<D> {
  databaseUrl: string;
  natsUrl: string;
  /** tmp/bench/<name>: logs, generated files. */
  workDir: string;
  machine: MachineInfo;
  measuredAt: Date;
  database: D;
  versions: { postgres?: string; nats?: string; autocannon: string };
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
  const databaseUrl = process.env['BENCH_DATABASE_URL'] ?? DEFAULT_DATABASE_URL;
  const natsUrl = process.env['BENCH_NATS_URL'] ?? DEFAULT_NATS_URL;
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
  const versions = {
    postgres: await database.version(),
    nats: await natsVersion(natsUrl),
    autocannon: readAutocannonVersion(root),
  };
  return { databaseUrl, natsUrl, workDir, machine, measuredAt, database, versions };
}
