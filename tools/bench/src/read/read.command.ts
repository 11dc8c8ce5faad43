import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { connect as connectNats } from 'nats';
import { Client } from 'pg';
import { intOption, UsageError, type BenchCommand, type BenchContext, type OptionValues } from '../command';
import { formatSummary, summariseProfile, type CpuProfile } from '../profile/profile-summary';
import { portInUse, signal } from '../support/children';
import { pidListeningOn, processCpuSeconds, startCpuMeter } from '../support/cpu';
import { writeSection } from '../support/docs-section';
import { runLoad, type LoadRequest, type LoadResult } from '../support/load';
import { describeMachine, sourceRevision } from '../support/machine';
import { startPlatform, type RunningPlatform } from '../support/platform';
import { startBaseline, type RunningBaseline } from './baseline';
import {
  READ_SECTION_ID,
  renderReadSection,
  summariseRead,
  type MeasuredRun,
  type ReadReport,
  type ReadSettings,
  type Target,
} from './read-report';

const GOAL = 0.75;
const SCHEMA = 'pds_bench';
const POOL_SIZE = 10;
const LOG_LEVEL = 'warn';
const RATE_LIMIT = 1_000_000;
const REQUEST_IDS = 4096;
const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/test';
const DEFAULT_NATS_URL = 'nats://127.0.0.1:4222';
const PORTS = {
  gateway: Number(process.env['BENCH_GATEWAY_PORT'] ?? 28080),
  idp: Number(process.env['BENCH_IDP_PORT'] ?? 28081),
  pds: Number(process.env['BENCH_PDS_PORT'] ?? 29464),
};
/** The PostgreSQL application_name of each side's pool, to find their backends' processes. */
const APPLICATION_NAMES: Record<Target, string> = { platform: 'pds', baseline: 'bench-baseline' };

interface Options {
  durationSeconds: number;
  warmupSeconds: number;
  connections: number;
  rounds: number;
  patient: string;
  write: boolean;
  check: boolean;
  profile: boolean;
  keepData: boolean;
  verbose: boolean;
}

function parseOptions(values: OptionValues): Options {
  const patient = String(values['patient']);
  if (!/^\d{10}$/.test(patient)) throw new UsageError('--patient must be a 10-digit NHS number');
  return {
    durationSeconds: intOption(values, 'duration', 1, 3600),
    warmupSeconds: intOption(values, 'warmup', 0, 600),
    connections: intOption(values, 'connections', 1, 1000),
    rounds: intOption(values, 'rounds', 1, 20),
    patient,
    write: values['no-write'] !== true,
    check: values['check'] === true,
    profile: values['profile'] === true,
    keepData: values['keep-data'] === true,
    verbose: values['verbose'] === true,
  };
}

/** The command to repeat this run, as written in the docs. */
function reproduceCommand(options: Options): string {
  const parts = [
    'npm run bench -- read',
    `--duration ${options.durationSeconds}`,
    `--connections ${options.connections}`,
  ];
  if (options.rounds !== 2) parts.push(`--rounds ${options.rounds}`);
  if (options.warmupSeconds !== 3) parts.push(`--warmup ${options.warmupSeconds}`);
  if (options.patient !== '9000000009') parts.push(`--patient ${options.patient}`);
  return parts.join(' ');
}

/** The organisations a token allows (read, not verified: the gateway verifies it). */
function organisationsOf(token: string): string[] {
  const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as {
    nhsd_organisations?: unknown;
  };
  return Array.isArray(payload.nhsd_organisations)
    ? payload.nhsd_organisations.filter((item): item is string => typeof item === 'string')
    : [];
}

/** Pre-built requests, one per X-Request-ID: the same bytes go to both targets. */
function buildRequests(token: string, organisation: string | undefined): LoadRequest[] {
  return Array.from({ length: REQUEST_IDS }, () => ({
    method: 'GET' as const,
    headers: {
      authorization: `Bearer ${token}`,
      accept: 'application/fhir+json',
      'x-request-id': randomUUID(),
      ...(organisation ? { 'nhsd-end-user-organisation-ods': organisation } : {}),
    },
  }));
}

class Database {
  private constructor(private readonly client: Client) {}

  static async open(url: string): Promise<Database> {
    const client = new Client({ connectionString: url, application_name: 'bench-control' });
    try {
      await client.connect();
    } catch (error) {
      const { hostname, port } = new URL(url);
      throw new Error(
        `cannot connect to PostgreSQL at ${hostname}:${port || 5432} (BENCH_DATABASE_URL): ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    return new Database(client);
  }

  async version(): Promise<string | undefined> {
    const result = await this.client.query<{ server_version: string }>('SHOW server_version');
    return result.rows[0]?.server_version;
  }

  async dropSchema(): Promise<void> {
    await this.client.query(`DROP SCHEMA IF EXISTS "${SCHEMA}" CASCADE`);
  }

  async auditRows(): Promise<number> {
    const result = await this.client.query<{ count: string }>(`SELECT count(*) AS count FROM "${SCHEMA}".read_audit`);
    return Number(result.rows[0]?.count ?? 0);
  }

  /** Process ids of the backends serving that pool (PostgreSQL on this machine: their CPU is readable). */
  async backends(applicationName: string): Promise<number[]> {
    const result = await this.client.query<{ pid: number }>(
      'SELECT pid FROM pg_stat_activity WHERE application_name = $1',
      [applicationName],
    );
    return result.rows.map((row) => row.pid);
  }

  close(): Promise<void> {
    return this.client.end();
  }
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

interface Endpoint {
  target: Target;
  url: string;
  /** Service processes whose CPU is charged to this target. */
  pids: Record<string, number>;
  /** Shared infrastructure whose CPU is measured too (the NATS server, when it runs on this machine). */
  infrastructure: Record<string, number>;
}

/** One request to each target before measuring: both must answer 200, the same ETag and the same Patient. */
async function checkSameAnswer(endpoints: Endpoint[], request: LoadRequest, context: BenchContext): Promise<void> {
  const answers = await Promise.all(
    endpoints.map(async (endpoint) => {
      const response = await fetch(endpoint.url, {
        headers: request.headers as Record<string, string>,
        signal: AbortSignal.timeout(10_000),
      });
      const text = await response.text();
      if (response.status !== 200)
        throw new Error(`${endpoint.target} answered ${response.status} to the check request: ${text.slice(0, 300)}`);
      return {
        endpoint,
        etag: response.headers.get('etag'),
        body: JSON.parse(text) as unknown,
        bytes: Buffer.byteLength(text),
      };
    }),
  );
  const [first, second] = answers;
  if (!first || !second) return;
  if (!first.etag || first.etag !== second.etag) throw new Error(`the ETags differ: ${first.etag} and ${second.etag}`);
  const same = isDeepStrictEqual(first.body, second.body);
  context.progress.say(
    `check: both answer 200 with ETag ${first.etag}; ${same ? 'the same Patient' : 'DIFFERENT bodies'} ` +
      `(${answers.map((answer) => `${answer.endpoint.target} ${answer.bytes} bytes`).join(', ')})`,
  );
  if (!same)
    throw new Error('the baseline and the platform do not answer the same Patient: the comparison would be unfair');
  const platform = endpoints.find((endpoint) => endpoint.target === 'platform');
  if (platform) {
    const { authorization: _token, ...anonymous } = request.headers as Record<string, string>;
    const response = await fetch(platform.url, { headers: anonymous, signal: AbortSignal.timeout(10_000) });
    await response.arrayBuffer();
    if (response.status !== 401) {
      throw new Error(
        `the platform answered ${response.status} without a token: it must demand one (is it in sandbox mode?)`,
      );
    }
    context.progress.say(
      'check: the platform refuses a request without a token (401), so authentication is part of what is measured',
    );
  }
}

async function measure(
  endpoint: Endpoint,
  round: number,
  options: Options,
  requests: LoadRequest[],
  database: Database,
  context: BenchContext,
): Promise<MeasuredRun> {
  const { progress, cleanup } = context;
  const prefix = `round ${round}/${options.rounds} · ${endpoint.target}`;
  const load = (label: string, seconds: number): Promise<LoadResult> =>
    runLoad(
      {
        label: `${prefix} · ${label}`,
        url: endpoint.url,
        connections: options.connections,
        durationSeconds: seconds,
        requests,
      },
      progress,
      cleanup,
    );
  if (options.warmupSeconds > 0) await load('warm-up', options.warmupSeconds);

  const backends = await database.backends(APPLICATION_NAMES[endpoint.target]);
  const auditBefore = endpoint.target === 'platform' ? await database.auditRows() : undefined;
  const postgresBefore = backends.map((pid) => processCpuSeconds(pid));
  const meter = startCpuMeter({ ...endpoint.pids, ...endpoint.infrastructure });
  const result = await load('measuring', options.durationSeconds);
  const usage = meter.stop();
  const postgresAfter = backends.map((pid) => processCpuSeconds(pid));
  const cpuSeconds = { ...usage.processes };
  if (
    backends.length > 0 &&
    postgresBefore.every((value) => value !== undefined) &&
    postgresAfter.every((value) => value !== undefined)
  ) {
    cpuSeconds['postgres'] = postgresAfter.reduce<number>(
      (sum, value, index) => sum + (value ?? 0) - (postgresBefore[index] ?? 0),
      0,
    );
  }
  let auditRows: number | undefined;
  if (auditBefore !== undefined) {
    // Reads still in flight when the run stopped may commit their audit rows a moment later.
    await new Promise((resolve) => setTimeout(resolve, 300));
    auditRows = (await database.auditRows()) - auditBefore;
    if (auditRows < result.ok)
      throw new Error(`only ${auditRows} audit rows for ${result.ok} answered reads: reads went unaudited`);
  }
  progress.say(
    `${prefix}: ${Math.round(result.requestsPerSecond)} req/s, p50 ${result.p50Ms.toFixed(2)} ms, p99 ${result.p99Ms.toFixed(2)} ms, ` +
      `${result.ok} responses all 2xx${auditRows !== undefined ? `, ${auditRows} audit rows` : ''}`,
  );
  const run: MeasuredRun = { target: endpoint.target, round, load: result, cpuSeconds, auditRows };
  if (usage.machineBusy !== undefined) run.machineBusy = usage.machineBusy;
  return run;
}

function printSummary(runs: MeasuredRun[], context: BenchContext): void {
  const summary = summariseRead(runs, GOAL);
  const line = (name: string, figures: { requestsPerSecond: number; p50Ms: number; p99Ms: number }): string =>
    `  ${name.padEnd(10)} ${String(Math.round(figures.requestsPerSecond)).padStart(7)} req/s   p50 ${figures.p50Ms.toFixed(2).padStart(6)} ms   p99 ${figures.p99Ms.toFixed(2).padStart(6)} ms`;
  const cpu = (figures: Record<string, number>): string =>
    Object.entries(figures)
      .map(([name, value]) => `${name === 'self' ? 'load generator' : name} ${value.toFixed(3)}`)
      .join(', ');
  context.progress.say(
    [
      'results (medians of rounds):',
      line('baseline', summary.baseline),
      line('platform', summary.platform),
      `  ratio platform/baseline throughput: ${summary.ratio.toFixed(3)} (goal >= ${GOAL}): ${summary.pass ? 'PASS' : 'FAIL'}`,
      '  CPU ms per request:',
      `    baseline: ${cpu(summary.baseline.cpuMsPerRequest)}`,
      `    platform: ${cpu(summary.platform.cpuMsPerRequest)}`,
    ].join('\n'),
  );
}

/** Profiles the measured window of each side's Node processes and prints where their CPU time went. */
async function profile(
  endpoints: Endpoint[],
  options: Options,
  requests: LoadRequest[],
  profileDir: string,
  context: BenchContext,
): Promise<void> {
  const { progress, cleanup } = context;
  for (const endpoint of endpoints) {
    const label = `profile · ${endpoint.target}`;
    if (options.warmupSeconds > 0) {
      await runLoad(
        {
          label: `${label} · warm-up`,
          url: endpoint.url,
          connections: options.connections,
          durationSeconds: options.warmupSeconds,
          requests,
        },
        progress,
        cleanup,
      );
    }
    const names = Object.keys(endpoint.pids);
    for (const name of names) rmSync(path.join(profileDir, `${name}.cpuprofile`), { force: true });
    for (const pid of Object.values(endpoint.pids)) signal(pid, 'SIGUSR2');
    const result = await runLoad(
      {
        label: `${label} · measuring`,
        url: endpoint.url,
        connections: options.connections,
        durationSeconds: options.durationSeconds,
        requests,
      },
      progress,
      cleanup,
    );
    for (const pid of Object.values(endpoint.pids)) signal(pid, 'SIGUSR2');
    progress.say(
      `${label}: ${Math.round(result.requestsPerSecond)} req/s under the profiler (slower than unprofiled), ${result.ok} responses`,
    );
    for (const name of names) {
      const file = path.join(profileDir, `${name}.cpuprofile`);
      const deadline = Date.now() + 15_000;
      while (!existsSync(file) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200));
      if (!existsSync(file)) throw new Error(`no profile was written for ${name}`);
      const summary = summariseProfile(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile, context.root);
      const text = formatSummary(
        `${name} (${(summary.busyMs / result.ok).toFixed(3)} ms of CPU per request on its main thread)`,
        summary,
      );
      writeFileSync(path.join(profileDir, `${name}.txt`), `${text}\n`);
      progress.say(`\n${text}`);
    }
  }
  progress.say(`profiles (open in Chrome DevTools) and summaries: ${path.relative(context.root, profileDir)}/`);
}

async function run(values: OptionValues, context: BenchContext): Promise<number> {
  const options = parseOptions(values);
  const { root, progress, cleanup } = context;
  if (!existsSync(path.join(root, 'dist/tools/launcher/src/main.js'))) {
    throw new Error('the platform is not built: run the benchmark with `npm run bench -- read` (it builds first)');
  }
  const databaseUrl = process.env['BENCH_DATABASE_URL'] ?? DEFAULT_DATABASE_URL;
  const natsUrl = process.env['BENCH_NATS_URL'] ?? DEFAULT_NATS_URL;
  const workDir = path.join(root, 'tmp/bench/read');
  const profileDir = path.join(workDir, 'profiles');
  mkdirSync(profileDir, { recursive: true });
  const machine = describeMachine();
  const measuredAt = new Date();
  const perTarget = options.warmupSeconds + options.durationSeconds;
  const plannedSeconds = options.profile ? 2 * perTarget : options.rounds * 2 * perTarget;
  progress.say(
    `read path benchmark: ${options.profile ? 'profile run' : `${options.rounds} round(s)`} of ${options.warmupSeconds} s warm-up + ` +
      `${options.durationSeconds} s measured per target at ${options.connections} connections, about ${Math.ceil(plannedSeconds / 60)} min of load ` +
      `(machine: ${machine.cpus} CPU(s), load average ${machine.loadAverage.toFixed(2)})`,
  );

  for (const [name, port] of Object.entries(PORTS)) {
    // Checked before touching the schema: another benchmark run may be using both.
    if (await portInUse(port))
      throw new Error(`port ${port} (${name}) is already in use: is another benchmark running?`);
  }
  const database = await Database.open(databaseUrl);
  cleanup.add({ describe: 'close the control connection to PostgreSQL', run: () => database.close() });
  await database.dropSchema();
  if (!options.keepData) cleanup.add({ describe: `drop the ${SCHEMA} schema`, run: () => database.dropSchema() });
  const versions = {
    postgres: await database.version(),
    nats: await natsVersion(natsUrl),
    autocannon: readAutocannonVersion(root),
  };

  const preload = path.join(__dirname, '../profile/cpu-profile.preload.js');
  const profileEnv: Record<string, string> = options.profile
    ? {
        NODE_OPTIONS: `${process.env['NODE_OPTIONS'] ?? ''} --require "${preload}"`.trim(),
        BENCH_PROFILE_TARGETS: 'gateway,pds,baseline-server',
        BENCH_PROFILE_DIR: profileDir,
      }
    : {};
  const platform: RunningPlatform = await startPlatform(
    {
      root,
      workDir,
      ports: PORTS,
      databaseUrl,
      natsUrl,
      schema: SCHEMA,
      poolSize: POOL_SIZE,
      logLevel: LOG_LEVEL,
      tokenTtlSeconds: Math.min(86_400, Math.max(900, plannedSeconds * 2 + 600)),
      env: { RATE_LIMIT_PER_CLIENT: String(RATE_LIMIT), RATE_LIMIT_BURST: String(RATE_LIMIT), ...profileEnv },
      verbose: options.verbose,
    },
    progress,
    cleanup,
  );
  const token = await platform.token('clinician');
  const baseline: RunningBaseline = await startBaseline(
    { databaseUrl, schema: SCHEMA, poolSize: POOL_SIZE, env: profileEnv },
    cleanup,
  );
  progress.say(`baseline ready (${baseline.url})`);

  const requests = buildRequests(token, organisationsOf(token)[0]);
  const nats = new URL(natsUrl);
  const natsPid = ['127.0.0.1', 'localhost'].includes(nats.hostname)
    ? pidListeningOn(Number(nats.port || 4222))
    : undefined;
  const infrastructure: Record<string, number> = natsPid === undefined ? {} : { nats: natsPid };
  const pidOf = (name: string): number => {
    const pid = platform.pids[name];
    if (pid === undefined) throw new Error(`the launcher did not report a ${name} process`);
    return pid;
  };
  const endpoints: Endpoint[] = [
    {
      target: 'baseline',
      url: `${baseline.url}/Patient/${options.patient}`,
      pids: { baseline: baseline.pid },
      infrastructure,
    },
    {
      target: 'platform',
      url: `${platform.gatewayUrl}/personal-demographics/FHIR/R4/Patient/${options.patient}`,
      pids: { gateway: pidOf('gateway'), pds: pidOf('pds') },
      infrastructure,
    },
  ];
  const [firstRequest] = requests;
  if (firstRequest) await checkSameAnswer(endpoints, firstRequest, context);

  if (options.profile) {
    await profile(
      endpoints.map((endpoint) =>
        endpoint.target === 'baseline' ? { ...endpoint, pids: { 'baseline-server': baseline.pid } } : endpoint,
      ),
      options,
      requests,
      profileDir,
      context,
    );
    return 0;
  }

  const runs: MeasuredRun[] = [];
  for (let round = 1; round <= options.rounds; round += 1) {
    for (const endpoint of endpoints) {
      if (cleanup.stopping) throw new Error('interrupted');
      runs.push(await measure(endpoint, round, options, requests, database, context));
    }
  }
  printSummary(runs, context);

  const settings: ReadSettings = {
    durationSeconds: options.durationSeconds,
    warmupSeconds: options.warmupSeconds,
    connections: options.connections,
    rounds: options.rounds,
    patient: options.patient,
    poolSize: POOL_SIZE,
    schema: SCHEMA,
    logLevel: LOG_LEVEL,
    requestIds: REQUEST_IDS,
    rateLimit: RATE_LIMIT,
  };
  const report: ReadReport = {
    measuredAt,
    machine,
    revision: sourceRevision(root),
    versions,
    settings,
    runs,
    goal: GOAL,
    command: reproduceCommand(options),
  };
  writeFileSync(path.join(workDir, 'results.json'), `${JSON.stringify(report, null, 2)}\n`);
  if (options.write) {
    const file = path.join(root, 'docs/benchmarks.md');
    await writeSection(file, READ_SECTION_ID, renderReadSection(report));
    progress.say(`wrote the "${READ_SECTION_ID}" section of ${path.relative(root, file)}`);
  }
  const { pass } = summariseRead(runs, GOAL);
  return options.check && !pass ? 3 : 0;
}

function readAutocannonVersion(root: string): string {
  try {
    return (
      JSON.parse(readFileSync(path.join(root, 'node_modules/autocannon/package.json'), 'utf8')) as { version: string }
    ).version;
  } catch {
    return 'unknown';
  }
}

export const readCommand: BenchCommand = {
  name: 'read',
  summary: 'read path: gateway -> NATS -> pds -> PostgreSQL against a bare Fastify + pg baseline doing the same read',
  options: {
    duration: { type: 'string', value: 'seconds', default: '15', description: 'measured seconds per target and round' },
    warmup: { type: 'string', value: 'seconds', default: '3', description: 'warm-up seconds before each measured run' },
    connections: { type: 'string', value: 'n', default: '10', description: 'concurrent connections' },
    rounds: {
      type: 'string',
      value: 'n',
      default: '2',
      description: 'rounds of baseline then platform; figures are medians',
    },
    patient: {
      type: 'string',
      value: 'nhs-number',
      default: '9000000009',
      description: 'the patient read (a sandbox patient)',
    },
    'no-write': { type: 'boolean', description: 'do not update docs/benchmarks.md' },
    check: { type: 'boolean', description: 'exit with code 3 when the ratio is below the goal (0.75)' },
    profile: {
      type: 'boolean',
      description:
        'instead of measuring, CPU-profile gateway, pds and baseline for one --duration run and print the top self-time functions',
    },
    'keep-data': { type: 'boolean', description: `keep the ${SCHEMA} schema (patients, audit rows) after the run` },
    verbose: { type: 'boolean', description: "copy the platform's output to the console" },
  },
  run,
};
