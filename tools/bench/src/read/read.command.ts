import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { intOption, UsageError, type BenchCommand, type BenchContext, type OptionValues } from '../command';
import { formatSummary, summariseProfile, type CpuProfile, type Stage } from '../profile/profile-summary';
import { assertPortsFree, signal } from '../support/children';
import { writeSection } from '../support/docs-section';
import { PLATFORM_DEFAULTS, PORTS } from '../support/platform';
import { benchUrls, measuredVersions } from '../support/run-setup';
import { runLoad, type LoadRequest } from '../support/load';
import { describeMachine, sourceRevision } from '../support/machine';
import {
  buildRequests,
  checkSameAnswers,
  GOAL,
  measureRounds,
  printSummary,
  ReadDatabase,
  SCHEMA,
  startReadTargets,
  type Endpoint,
} from './read-bench';
import {
  READ_SECTION_ID,
  renderReadSection,
  summariseRead,
  type ReadReport,
  type ReadSettings,
  type Target,
} from './read-report';

const REQUEST_IDS = 4096;

/**
 * The steps of a read whose CPU the profile reports apart (innermost first wins; see `Stage`), per process.
 * Work resumed after an `await` is not under its caller, so the NATS and pg sides are named by their own
 * entry points (a reply arriving, a row arriving).
 */
const STAGES: Record<string, Stage[]> = {
  gateway: [
    { label: 'HTTP: Fastify routing and hooks (without the steps below)', name: 'handleRequest', file: 'fastify/lib' },
    { label: 'edge checks (headers, request target)', name: 'checkHeaders', file: 'apps/gateway' },
    {
      label: 'caller gate: token (cached), rate limits, request ID, roles, organisation',
      name: 'admit',
      file: 'apps/gateway',
    },
    { label: 'Nest controller dispatch (without the steps below)', name: 'handler', file: '@nestjs/core/router' },
    { label: 'payload validation (class-validator)', name: 'validatePayload', file: 'libs/shared/nats' },
    {
      label: 'NATS request: headers and publish (without signing)',
      name: 'send',
      file: 'libs/shared/nats/src/rpc-client',
    },
    { label: 'caller statement: sign', name: 'sign', file: 'libs/shared/nats' },
    { label: 'NATS: reading replies from the socket', name: 'processMsg', file: 'nats-base-client' },
    { label: 'NATS: socket writes (coalesced)', name: 'flushPending', file: 'nats-base-client' },
  ],
  pds: [
    { label: 'NATS: reading requests from the socket', name: 'processMsg', file: 'nats-base-client' },
    // pds.patient.get.v1 is served outside Nest (serveDirect): no microservice dispatch, guard or pipe on this path.
    {
      label: 'direct handler: envelope, payload check, reply (without the steps below)',
      name: 'answer',
      file: 'libs/shared/nats/src/direct-handler',
    },
    { label: 'caller admission (without verifying)', name: 'admit', file: 'libs/shared/nats' },
    { label: 'caller statement: verify', name: 'verify', file: 'libs/shared/nats' },
    { label: 'handler: read use case, audit entry, queueing', name: 'handle', file: 'apps/pds' },
    { label: 'pg: building and sending the statement', name: 'insert', file: 'apps/pds' },
    { label: 'pg: reading rows from the socket', name: 'parse', file: 'pg-protocol' },
    { label: 'NATS: socket writes (coalesced)', name: 'flushPending', file: 'nats-base-client' },
  ],
  'same-work-server': [
    { label: 'HTTP: Fastify routing and hooks (without the steps below)', name: 'handleRequest', file: 'fastify/lib' },
    { label: 'token (cached) and checks', name: 'verify', file: 'tools/bench' },
    { label: 'pg: building and sending the statement', name: 'write', file: 'tools/bench' },
    { label: 'pg: reading rows from the socket', name: 'parse', file: 'pg-protocol' },
  ],
};

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

/** Profiles the measured window of each side's Node processes and prints where their CPU time went. */
async function profile(
  endpoints: Endpoint[],
  options: Options,
  requests: Record<Target, LoadRequest[]>,
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
          requests: requests[endpoint.target],
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
        requests: requests[endpoint.target],
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
      const summary = summariseProfile(
        JSON.parse(readFileSync(file, 'utf8')) as CpuProfile,
        context.root,
        10,
        STAGES[name] ?? [],
      );
      const text = formatSummary(
        `${name} (${(summary.busyMs / result.ok).toFixed(3)} ms of CPU per request on its main thread)`,
        summary,
        result.ok,
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
  const { databaseUrl, natsUrl } = benchUrls();
  const workDir = path.join(root, 'tmp/bench/read');
  const profileDir = path.join(workDir, 'profiles');
  mkdirSync(profileDir, { recursive: true });
  const machine = describeMachine();
  const measuredAt = new Date();
  const perTarget = options.warmupSeconds + options.durationSeconds;
  const plannedSeconds = options.profile ? 3 * perTarget : options.rounds * 3 * perTarget;
  progress.say(
    `read path benchmark: ${options.profile ? 'profile run' : `${options.rounds} round(s)`} of ${options.warmupSeconds} s warm-up + ` +
      `${options.durationSeconds} s measured per target at ${options.connections} connections, about ${Math.ceil(plannedSeconds / 60)} min of load ` +
      `(machine: ${machine.cpus} CPU(s), load average ${machine.loadAverage.toFixed(2)})`,
  );

  // Checked before touching the schema: another benchmark run may be using both.
  await assertPortsFree(PORTS);
  const database = await ReadDatabase.open(databaseUrl);
  cleanup.add({ describe: 'close the control connection to PostgreSQL', run: () => database.close() });
  await database.dropSchema();
  if (!options.keepData) cleanup.add({ describe: `drop the ${SCHEMA} schema`, run: () => database.dropSchema() });
  const versions = await measuredVersions(database, natsUrl, root);

  const preload = path.join(__dirname, '../profile/cpu-profile.preload.js');
  const profileEnv: Record<string, string> = options.profile
    ? {
        NODE_OPTIONS: `${process.env['NODE_OPTIONS'] ?? ''} --require "${preload}"`.trim(),
        BENCH_PROFILE_TARGETS: 'gateway,pds,baseline-server,same-work-server',
        BENCH_PROFILE_DIR: profileDir,
      }
    : {};
  const targets = await startReadTargets(
    {
      workDir,
      databaseUrl,
      natsUrl,
      env: profileEnv,
      verbose: options.verbose,
    },
    context,
  );
  const requests = buildRequests(
    targets.token,
    Array.from({ length: REQUEST_IDS }, () => options.patient),
  );
  await checkSameAnswers(targets.endpoints, requests, 1, context);

  if (options.profile) {
    await profile(
      targets.endpoints.map((endpoint) =>
        endpoint.target === 'baseline'
          ? { ...endpoint, pids: { 'baseline-server': targets.baseline.pid } }
          : endpoint.target === 'same-work'
            ? { ...endpoint, pids: { 'same-work-server': targets.sameWork.pid } }
            : endpoint,
      ),
      options,
      requests,
      profileDir,
      context,
    );
    return 0;
  }

  const runs = await measureRounds(targets.endpoints, { ...options, partitioned: false }, requests, database, context);
  printSummary(runs, context);

  const settings: ReadSettings = {
    durationSeconds: options.durationSeconds,
    warmupSeconds: options.warmupSeconds,
    connections: options.connections,
    rounds: options.rounds,
    patient: options.patient,
    poolSize: PLATFORM_DEFAULTS.poolSize,
    schema: SCHEMA,
    logLevel: PLATFORM_DEFAULTS.logLevel,
    requestIds: REQUEST_IDS,
    rateLimit: PLATFORM_DEFAULTS.rateLimit,
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

export const readCommand: BenchCommand = {
  name: 'read',
  summary:
    'read path: gateway -> NATS -> pds -> PostgreSQL against one process doing the same work and a bare Fastify + pg baseline',
  options: {
    duration: { type: 'string', value: 'seconds', default: '15', description: 'measured seconds per target and round' },
    warmup: { type: 'string', value: 'seconds', default: '3', description: 'warm-up seconds before each measured run' },
    connections: { type: 'string', value: 'n', default: '10', description: 'concurrent connections' },
    rounds: {
      type: 'string',
      value: 'n',
      default: '2',
      description: 'rounds of baseline, same-work server, then platform; figures are medians',
    },
    patient: {
      type: 'string',
      value: 'nhs-number',
      default: '9000000009',
      description: 'the patient read (a sandbox patient)',
    },
    'no-write': { type: 'boolean', description: 'do not update docs/benchmarks.md' },
    check: {
      type: 'boolean',
      description: 'exit with code 3 when the ratio to the same-work server is below the goal (0.6)',
    },
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
