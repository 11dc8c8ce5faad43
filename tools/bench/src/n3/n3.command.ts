import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { intOption, type BenchCommand, type BenchContext, type OptionValues } from '../command';
import { startBaseline } from '../read/baseline';
import { BenchDatabase } from '../support/bench-database';
import { runToCompletion } from '../support/children';
import { pidListeningOn, startCpuMeter } from '../support/cpu';
import { writeSection } from '../support/docs-section';
import { runLoad, type LoadRequest } from '../support/load';
import { sourceRevision } from '../support/machine';
import { setUpRun } from '../support/run-setup';
import { PLATFORM_DEFAULTS, PORTS, startPlatform } from '../support/platform';
import { N3_SECTION_ID, renderN3Section, summariseLookups, type LookupRun, type N3Report } from './n3-report';

const N3_SCHEMA = 'n3_bench';
const IMPORT_SCHEMA = 'n3_bench_import';
const PDS_SCHEMA = 'pds_bench_n3';
const CLI = 'dist/apps/n3-registry/src/cli/n3.cli.js';
const ADDRESSES = 4096;
const CHECKED = 20;

/** The control connection: the schemas this benchmark owns, and addresses inside live blocks. */
class N3BenchDatabase extends BenchDatabase {
  static async open(url: string): Promise<N3BenchDatabase> {
    return new N3BenchDatabase(await BenchDatabase.connect(url), N3_SCHEMA);
  }

  async dropAll(): Promise<void> {
    for (const schema of [N3_SCHEMA, IMPORT_SCHEMA, PDS_SCHEMA, `${PDS_SCHEMA}_n3`, `${PDS_SCHEMA}_eps`]) {
      await this.client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    }
  }

  /** `count` addresses, each inside a block of a live or migrating connection (the same ones every run). */
  async liveAddresses(count: number): Promise<string[]> {
    await this.client.query('SELECT setseed(0.42)');
    const result = await this.client.query<{ ip: string }>(
      `SELECT host(a.block::inet + 1 + floor(random() * 29)::int) AS ip
       FROM "${N3_SCHEMA}".ip_allocation a JOIN "${N3_SCHEMA}".connection c ON c.id = a.connection_id
       WHERE a.released_at IS NULL AND c.status IN ('live', 'migrating')
       ORDER BY random() LIMIT $1`,
      [count],
    );
    return result.rows.map((row) => row.ip);
  }

  async counts(): Promise<{ organisations: number; blocks: number }> {
    const result = await this.client.query<{ organisations: number; blocks: number }>(
      `SELECT (SELECT count(*)::int FROM "${N3_SCHEMA}".organisation) AS organisations,
              (SELECT count(*)::int FROM "${N3_SCHEMA}".ip_allocation WHERE released_at IS NULL) AS blocks`,
    );
    return result.rows[0] ?? { organisations: 0, blocks: 0 };
  }
}

interface Options {
  estate: number;
  importOrganisations: number;
  clients: number;
  durationSeconds: number;
  warmupSeconds: number;
  rounds: number;
  keepData: boolean;
  verbose: boolean;
}

function reproduce(options: Options): string {
  const parts = ['npm run bench -- n3'];
  if (options.estate !== 50_000) parts.push(`--estate ${options.estate}`);
  if (options.importOrganisations !== 50_000) parts.push(`--import ${options.importOrganisations}`);
  parts.push(`--clients ${options.clients}`, `--duration ${options.durationSeconds}`);
  if (options.rounds !== 2) parts.push(`--rounds ${options.rounds}`);
  return parts.join(' ');
}

async function timed<T>(work: () => Promise<T>): Promise<{ value: T; seconds: number }> {
  const started = performance.now();
  const value = await work();
  return { value, seconds: (performance.now() - started) / 1000 };
}

async function run(values: OptionValues, context: BenchContext): Promise<number> {
  const options: Options = {
    estate: intOption(values, 'estate', 100, 524_288),
    importOrganisations: intOption(values, 'import', 100, 99_999),
    clients: intOption(values, 'clients', 1, 1000),
    durationSeconds: intOption(values, 'duration', 1, 3600),
    warmupSeconds: intOption(values, 'warmup', 0, 600),
    rounds: intOption(values, 'rounds', 1, 20),
    keepData: values['keep-data'] === true,
    verbose: values['verbose'] === true,
  };
  const { root, progress, cleanup } = context;
  const { databaseUrl, natsUrl, workDir, machine, measuredAt, database, versions } = await setUpRun(context, {
    name: 'n3',
    built: [CLI, 'dist/tools/launcher/src/main.js'],
    keepData: options.keepData,
    open: (url) => N3BenchDatabase.open(url),
  });
  const cli = (args: string[], timeoutMs = 600_000): Promise<string> =>
    runToCompletion(process.execPath, [path.join(root, CLI), ...args, '--database-url', databaseUrl], {
      cwd: root,
      env: process.env,
      timeoutMs,
    });

  // 1. The ODS import: a synthetic extract of N organisations, imported by the operator command.
  const extract = path.join(workDir, 'extract.csv');
  progress.say(
    `writing a synthetic ODS extract of ${options.importOrganisations.toLocaleString('en-GB')} organisations`,
  );
  await runToCompletion(
    process.execPath,
    [path.join(root, CLI), 'extract', '--organisations', String(options.importOrganisations), '--out', extract],
    {
      cwd: root,
      timeoutMs: 120_000,
    },
  );
  const imported = await timed(() => cli(['import', extract, '--role', 'gp-practice', '--schema', IMPORT_SCHEMA]));
  const loadSeconds = Number(/in ([\d.]+) s/.exec(imported.value)?.[1] ?? NaN);
  progress.say(
    `import: ${imported.value.trim().split('\n').pop() ?? ''} (${imported.seconds.toFixed(1)} s for the whole command)`,
  );

  // 2. The estate the lookups run against.
  progress.say(`loading an estate of ${options.estate.toLocaleString('en-GB')} connections`);
  const seeded = await timed(() => cli(['seed', '--connections', String(options.estate), '--schema', N3_SCHEMA]));
  progress.say(seeded.value.trim().split('\n').pop() ?? '');
  const counts = await database.counts();

  // 3. The platform (on that schema) and the baseline.
  const platform = await startPlatform(
    {
      root,
      workDir,
      ports: PORTS,
      databaseUrl,
      natsUrl,
      schema: PDS_SCHEMA,
      schemas: { 'n3-registry': N3_SCHEMA },
      verbose: options.verbose,
    },
    progress,
    cleanup,
  );
  const token = await platform.token('ops');
  const baseline = await startBaseline(
    { databaseUrl, schema: PDS_SCHEMA, poolSize: PLATFORM_DEFAULTS.poolSize, n3Schema: N3_SCHEMA },
    cleanup,
  );
  progress.say(`baseline ready (${baseline.url})`);

  const addresses = await database.liveAddresses(ADDRESSES);
  const requests: LoadRequest[] = addresses.map((ip) => ({
    method: 'GET',
    path: `/n3/ip-owner?ip=${encodeURIComponent(ip)}`,
    headers: { authorization: `Bearer ${token}`, 'x-request-id': randomUUID() },
  }));
  const endpoints: { target: LookupRun['target']; url: string; pids: Record<string, number> }[] = [
    { target: 'baseline', url: baseline.url, pids: { baseline: baseline.pid } },
    {
      target: 'platform',
      url: platform.gatewayUrl,
      pids: { gateway: platform.pids['gateway'] ?? 0, 'n3-registry': platform.pids['n3-registry'] ?? 0 },
    },
  ];
  const natsPid = pidListeningOn(Number(new URL(natsUrl).port || 4222));

  // Both must name the same holder for the same address; the platform must demand a token.
  for (const request of requests.slice(0, CHECKED)) {
    const answers = await Promise.all(
      endpoints.map(async (endpoint) => {
        const response = await fetch(`${endpoint.url}${request.path ?? ''}`, {
          headers: request.headers as Record<string, string>,
        });
        const body = (await response.json()) as { allocation?: { id?: string } };
        if (response.status !== 200)
          throw new Error(`${endpoint.target} answered ${response.status} for ${request.path ?? ''}`);
        return body.allocation?.id;
      }),
    );
    if (answers[0] !== answers[1])
      throw new Error(`the baseline and the platform name different blocks for ${request.path ?? ''}`);
  }
  const anonymous = await fetch(`${platform.gatewayUrl}${requests[0]?.path ?? ''}`);
  if (anonymous.status !== 401) throw new Error(`the platform answered ${anonymous.status} without a token`);
  progress.say(
    `check: both name the same block for ${CHECKED} addresses; the platform refuses a request without a token`,
  );

  const runs: LookupRun[] = [];
  for (let round = 1; round <= options.rounds; round += 1) {
    for (const endpoint of endpoints) {
      const label = `round ${round}/${options.rounds} · ${endpoint.target}`;
      const load = (phase: string, seconds: number) =>
        runLoad(
          {
            label: `${label} · ${phase}`,
            url: endpoint.url,
            connections: options.clients,
            durationSeconds: seconds,
            requests,
            partitioned: true,
          },
          progress,
          cleanup,
        );
      if (options.warmupSeconds > 0) await load('warm-up', options.warmupSeconds);
      const meter = startCpuMeter({
        ...endpoint.pids,
        ...(natsPid && endpoint.target === 'platform' ? { nats: natsPid } : {}),
      });
      const result = await load('measuring', options.durationSeconds);
      const usage = meter.stop();
      const cpuMsPerRequest = Object.fromEntries(
        Object.entries(usage.processes).map(([name, seconds]) => [name, (seconds * 1000) / Math.max(1, result.ok)]),
      );
      progress.say(
        `${label}: ${Math.round(result.requestsPerSecond)} lookups/s, p50 ${result.p50Ms.toFixed(2)} ms, p99 ${result.p99Ms.toFixed(2)} ms`,
      );
      runs.push({ target: endpoint.target, round, load: result, cpuMsPerRequest });
    }
  }
  await baseline.stop();
  await platform.stop();

  const report: N3Report = {
    measuredAt,
    machine,
    revision: sourceRevision(root),
    versions,
    estate: {
      connections: options.estate,
      organisations: counts.organisations,
      blocks: counts.blocks,
      seedSeconds: seeded.seconds,
    },
    import: { organisations: options.importOrganisations, wallSeconds: imported.seconds, loadSeconds },
    settings: {
      clients: options.clients,
      durationSeconds: options.durationSeconds,
      warmupSeconds: options.warmupSeconds,
      rounds: options.rounds,
      addresses: addresses.length,
    },
    runs,
    command: reproduce(options),
  };
  const summary = summariseLookups(runs);
  progress.say(
    `results (medians): platform ${Math.round(summary.platform.requestsPerSecond)} lookups/s p99 ${summary.platform.p99Ms.toFixed(2)} ms; ` +
      `baseline ${Math.round(summary.baseline.requestsPerSecond)}/s p99 ${summary.baseline.p99Ms.toFixed(2)} ms; import ${imported.seconds.toFixed(1)} s`,
  );
  const docs = path.join(root, 'docs/benchmarks.md');
  await writeSection(docs, N3_SECTION_ID, renderN3Section(report));
  progress.say(`wrote the ${N3_SECTION_ID} section of ${path.relative(root, docs)}`);
  return 0;
}

export const n3Command: BenchCommand = {
  name: 'n3',
  summary: 'N3 registry: owner-of-IP lookups through the gateway at 50,000 connections, and a 50,000-row ODS import',
  options: {
    estate: { type: 'string', value: 'n', default: '50000', description: 'connections in the generated estate' },
    import: { type: 'string', value: 'n', default: '50000', description: 'organisations in the imported extract' },
    clients: { type: 'string', value: 'n', default: '10', description: 'concurrent clients' },
    duration: { type: 'string', value: 's', default: '15', description: 'measured seconds per target and round' },
    warmup: { type: 'string', value: 's', default: '3', description: 'warm-up seconds before each measurement' },
    rounds: { type: 'string', value: 'n', default: '2', description: 'rounds (baseline then platform each)' },
    'keep-data': { type: 'boolean', description: 'leave the benchmark schemas in place afterwards' },
    verbose: { type: 'boolean', description: "copy the platform's output to the console" },
  },
  run,
};
