// The contracts' payload classes carry decorator metadata.
import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { patientSearchsetProblems } from '@platform/contracts-pds';
import { intOption, type BenchCommand, type BenchContext, type OptionValues } from '../command';
import { BenchDatabase } from '../support/bench-database';
import { assertPortsFree } from '../support/children';
import { pidListeningOn, startCpuMeter } from '../support/cpu';
import { writeSection } from '../support/docs-section';
import { runLoad, type LoadRequest } from '../support/load';
import { describeMachine, sourceRevision } from '../support/machine';
import { PLATFORM_DEFAULTS, PORTS, startPlatform } from '../support/platform';
import { benchUrls, measuredVersions } from '../support/run-setup';
import { seedCliBuilt, seedPopulation, type SeedFigures } from '../support/population';
import {
  renderSearchSection,
  SEARCH_SECTION_ID,
  summariseScenario,
  type Scenario,
  type SearchReport,
  type SearchRun,
} from './search-report';

const SCHEMA = 'pds_bench_search';
const CHECKED_QUERIES = 200;
const SEARCH_PATH = '/personal-demographics/FHIR/R4/Patient';

interface Options {
  patients: number;
  seed: number;
  durationSeconds: number;
  warmupSeconds: number;
  connections: number;
  rounds: number;
  queries: number;
  reuse: boolean;
  keepData: boolean;
  write: boolean;
  check: boolean;
  verbose: boolean;
}

function parseOptions(values: OptionValues): Options {
  return {
    patients: intOption(values, 'patients', 1000, 20_000_000),
    seed: intOption(values, 'seed', 0, 2 ** 32 - 1),
    durationSeconds: intOption(values, 'duration', 1, 3600),
    warmupSeconds: intOption(values, 'warmup', 0, 600),
    connections: intOption(values, 'connections', 1, 1000),
    rounds: intOption(values, 'rounds', 1, 20),
    queries: intOption(values, 'queries', 10, 100_000),
    reuse: values['reuse'] === true,
    keepData: values['keep-data'] === true,
    write: values['no-write'] !== true,
    check: values['check'] === true,
    verbose: values['verbose'] === true,
  };
}

function reproduceCommand(options: Options): string {
  const parts = ['npm run bench -- search', `--patients ${options.patients}`, `--connections ${options.connections}`];
  if (options.durationSeconds !== 15) parts.push(`--duration ${options.durationSeconds}`);
  if (options.rounds !== 1) parts.push(`--rounds ${options.rounds}`);
  if (options.seed !== 1) parts.push(`--seed ${options.seed}`);
  return parts.join(' ');
}

/** A plausible misspelling that usually sounds the same: i/y swapped, or a trailing e added or dropped. */
export function misspelt(family: string): string {
  if (/i/.test(family)) return family.replace('i', 'y');
  if (/y/.test(family)) return family.replace('y', 'i');
  return family.endsWith('e') ? family.slice(0, -1) : `${family}e`;
}

interface SampledName {
  family: string;
  given: string;
  birthDate: string;
}

function organisationsOf(token: string): string[] {
  const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as {
    nhsd_organisations?: unknown;
  };
  return Array.isArray(payload.nhsd_organisations)
    ? payload.nhsd_organisations.filter((item): item is string => typeof item === 'string')
    : [];
}

/** The search path of one sampled patient. */
export function searchPath(scenario: Scenario, name: SampledName): string {
  const query = new URLSearchParams();
  if (scenario === 'exact') {
    query.set('family', name.family);
    query.set('birthdate', `eq${name.birthDate}`);
  } else {
    query.set('family', misspelt(name.family));
    query.set('given', name.given);
    query.set('birthdate', `eq${name.birthDate}`);
    query.set('_fuzzy-match', 'true');
  }
  return `${SEARCH_PATH}?${query.toString().replace(/\+/g, '%20')}`;
}

class Database extends BenchDatabase {
  static async open(url: string): Promise<Database> {
    return new Database(await BenchDatabase.connect(url), SCHEMA);
  }

  async rows(): Promise<SearchReport['rows']> {
    const count = async (table: string): Promise<number> =>
      (await this.client.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${SCHEMA}".${table}`)).rows[0]?.n ?? 0;
    return {
      patients: await count('patient'),
      names: await count('patient_name'),
      addresses: await count('patient_address'),
    };
  }

  /** Current names of unrestricted, surviving generated patients, a repeatable sample. */
  async sample(queries: number, seed: number, patients: number): Promise<SampledName[]> {
    const percent = Math.min(100, ((queries * 4) / Math.max(patients, 1)) * 100);
    const result = await this.client.query<{ family: string; given: string; birth_date: string }>(
      `SELECT n.family, n.given[1] AS given, n.birth_date::text AS birth_date
       FROM "${SCHEMA}".patient_name n TABLESAMPLE BERNOULLI (${percent.toFixed(6)}) REPEATABLE (${seed})
       JOIN "${SCHEMA}".patient p ON p.nhs_number = n.nhs_number
       WHERE n.current AND n.seq = 0 AND p.superseded_by IS NULL AND NOT p.restricted AND n.birth_date IS NOT NULL
         AND cardinality(n.given) > 0
       ORDER BY n.nhs_number
       LIMIT $1`,
      [queries],
    );
    return result.rows.map((row) => ({ family: row.family, given: row.given, birthDate: row.birth_date }));
  }
}

function buildRequests(
  scenario: Scenario,
  names: SampledName[],
  token: string,
  organisation: string | undefined,
): LoadRequest[] {
  return names.map((name) => ({
    method: 'GET' as const,
    path: searchPath(scenario, name),
    headers: {
      authorization: `Bearer ${token}`,
      accept: 'application/fhir+json',
      'x-request-id': randomUUID(),
      ...(organisation ? { 'nhsd-end-user-organisation-ods': organisation } : {}),
    },
  }));
}

/** Sends the first queries one at a time: each must be a 200 searchset (or TOO_MANY_MATCHES); counts matches. */
async function checkAnswers(
  gatewayUrl: string,
  requests: LoadRequest[],
): Promise<{ sampled: number; matched: number; tooMany: number }> {
  let matched = 0;
  let tooMany = 0;
  const sample = requests.slice(0, CHECKED_QUERIES);
  for (const request of sample) {
    const response = await fetch(`${gatewayUrl}${request.path ?? ''}`, {
      headers: { ...(request.headers as Record<string, string>), 'x-request-id': randomUUID() },
      signal: AbortSignal.timeout(10_000),
    });
    const body = (await response.json()) as { resourceType?: string; total?: number };
    if (response.status !== 200) {
      throw new Error(`a check search answered ${response.status}: ${JSON.stringify(body).slice(0, 300)}`);
    }
    if (body.resourceType === 'OperationOutcome') {
      tooMany += 1;
      continue;
    }
    const problems = patientSearchsetProblems(body);
    if (problems.length > 0) throw new Error(`a check search answered a malformed searchset: ${problems.join('; ')}`);
    if ((body.total ?? 0) > 0) matched += 1;
  }
  return { sampled: sample.length, matched, tooMany };
}

async function run(values: OptionValues, context: BenchContext): Promise<number> {
  const options = parseOptions(values);
  const { root, progress, cleanup } = context;
  if (!existsSync(path.join(root, 'dist/tools/launcher/src/main.js')) || !seedCliBuilt(root)) {
    throw new Error('the platform is not built: run the benchmark with `npm run bench -- search` (it builds first)');
  }
  const { databaseUrl, natsUrl } = benchUrls();
  const workDir = path.join(root, 'tmp/bench/search');
  mkdirSync(workDir, { recursive: true });
  const machine = describeMachine();
  const measuredAt = new Date();
  progress.say(
    `search benchmark: ${options.patients.toLocaleString('en-GB')} patients, ${options.rounds} round(s) of ` +
      `${options.warmupSeconds} s warm-up + ${options.durationSeconds} s per search at ${options.connections} connections ` +
      `(machine: ${machine.cpus} CPU(s), load average ${machine.loadAverage.toFixed(2)})`,
  );
  await assertPortsFree(PORTS);

  const database = await Database.open(databaseUrl);
  cleanup.add({ describe: 'close the control connection to PostgreSQL', run: () => database.close() });
  let seedFigures: SeedFigures;
  const existing = await database.generatedPatients();
  if (options.reuse && existing === options.patients) {
    seedFigures = {
      summary: `Reused a population seeded by an earlier run (${existing.toLocaleString('en-GB')} patients).`,
    };
    progress.say(`reusing the ${existing.toLocaleString('en-GB')} patients already in ${SCHEMA}`);
  } else {
    await database.dropSchema();
    progress.say(`seeding ${options.patients.toLocaleString('en-GB')} patients into ${SCHEMA}`);
    seedFigures = await seedPopulation(
      { root, databaseUrl, schema: SCHEMA, patients: options.patients, seed: options.seed },
      progress,
      cleanup,
    );
  }
  if (!options.keepData) cleanup.add({ describe: `drop the ${SCHEMA} schema`, run: () => database.dropSchema() });
  const versions = await measuredVersions(database, natsUrl, root);

  const platform = await startPlatform(
    {
      root,
      workDir,
      ports: PORTS,
      databaseUrl,
      natsUrl,
      schema: SCHEMA,
      verbose: options.verbose,
    },
    progress,
    cleanup,
  );
  const token = await platform.token('clinician');
  const organisation = organisationsOf(token)[0];
  const names = await database.sample(options.queries, options.seed, options.patients);
  if (names.length < Math.min(options.queries, 10)) throw new Error(`only ${names.length} names could be sampled`);
  const rows = await database.rows();
  progress.say(`sampled ${names.length} names of seeded patients`);

  const scenarios: Scenario[] = ['exact', 'fuzzy'];
  const requests = Object.fromEntries(
    scenarios.map((scenario) => [scenario, buildRequests(scenario, names, token, organisation)]),
  ) as Record<Scenario, LoadRequest[]>;
  const check = {} as SearchReport['check'];
  for (const scenario of scenarios) {
    check[scenario] = await checkAnswers(platform.gatewayUrl, requests[scenario]);
    progress.say(
      `check ${scenario}: ${check[scenario].matched} of ${check[scenario].sampled} searches found someone` +
        `${check[scenario].tooMany > 0 ? `, ${check[scenario].tooMany} too many` : ''}; every answer a well-formed searchset`,
    );
  }

  const nats = new URL(natsUrl);
  const natsPid = ['127.0.0.1', 'localhost'].includes(nats.hostname)
    ? pidListeningOn(Number(nats.port || 4222))
    : undefined;
  const pids: Record<string, number> = {};
  for (const name of ['gateway', 'pds']) {
    const pid = platform.pids[name];
    if (pid !== undefined) pids[name] = pid;
  }
  if (natsPid !== undefined) pids['nats'] = natsPid;

  const runs: SearchRun[] = [];
  for (let round = 1; round <= options.rounds; round += 1) {
    for (const scenario of scenarios) {
      if (cleanup.stopping) throw new Error('interrupted');
      const label = `round ${round}/${options.rounds} · ${scenario}`;
      const load = (phase: string, seconds: number): ReturnType<typeof runLoad> =>
        runLoad(
          {
            label: `${label} · ${phase}`,
            url: platform.gatewayUrl,
            connections: options.connections,
            durationSeconds: seconds,
            requests: requests[scenario],
          },
          progress,
          cleanup,
        );
      if (options.warmupSeconds > 0) await load('warm-up', options.warmupSeconds);
      const meter = startCpuMeter(pids);
      const result = await load('measuring', options.durationSeconds);
      const usage = meter.stop();
      runs.push({ scenario, round, load: result, cpuSeconds: usage.processes });
      progress.say(
        `${label}: ${Math.round(result.requestsPerSecond)} req/s, p50 ${result.p50Ms.toFixed(2)} ms, ` +
          `p99 ${result.p99Ms.toFixed(2)} ms, ${result.ok} responses all 2xx`,
      );
    }
  }

  const summaries = scenarios.map((scenario) => [scenario, summariseScenario(runs, scenario)] as const);
  progress.say(
    [
      'results (medians of rounds):',
      ...summaries.map(
        ([scenario, summary]) =>
          `  ${scenario.padEnd(6)} ${String(Math.round(summary.requestsPerSecond)).padStart(6)} req/s   p50 ${summary.p50Ms.toFixed(2).padStart(6)} ms   ` +
          `p99 ${summary.p99Ms.toFixed(2).padStart(7)} ms (goal < ${summary.goalMs} ms): ${summary.pass ? 'PASS' : 'FAIL'}`,
      ),
    ].join('\n'),
  );

  const report: SearchReport = {
    measuredAt,
    machine,
    revision: sourceRevision(root),
    versions,
    settings: {
      patients: options.patients,
      seed: options.seed,
      schema: SCHEMA,
      durationSeconds: options.durationSeconds,
      warmupSeconds: options.warmupSeconds,
      connections: options.connections,
      rounds: options.rounds,
      queries: names.length,
      poolSize: PLATFORM_DEFAULTS.poolSize,
      logLevel: PLATFORM_DEFAULTS.logLevel,
    },
    seed: seedFigures,
    rows,
    runs,
    check,
    command: reproduceCommand(options),
  };
  writeFileSync(path.join(workDir, 'results.json'), `${JSON.stringify(report, null, 2)}\n`);
  if (options.write) {
    const file = path.join(root, 'docs/benchmarks.md');
    await writeSection(file, SEARCH_SECTION_ID, renderSearchSection(report));
    progress.say(`wrote the "${SEARCH_SECTION_ID}" section of ${path.relative(root, file)}`);
  }
  const pass = summaries.every(([, summary]) => summary.pass);
  return options.check && !pass ? 3 : 0;
}

export const searchCommand: BenchCommand = {
  name: 'search',
  summary:
    'patient search at scale: seeds a population, then family + birth date and fuzzy searches through the gateway',
  options: {
    patients: { type: 'string', value: 'n', default: '1000000', description: 'patients to seed (npm run seed)' },
    seed: { type: 'string', value: 's', default: '1', description: 'seed of the population and of the query sample' },
    duration: { type: 'string', value: 'seconds', default: '15', description: 'measured seconds per search and round' },
    warmup: { type: 'string', value: 'seconds', default: '3', description: 'warm-up seconds before each measured run' },
    connections: { type: 'string', value: 'n', default: '8', description: 'concurrent connections' },
    rounds: { type: 'string', value: 'n', default: '1', description: 'rounds of both searches; figures are medians' },
    queries: {
      type: 'string',
      value: 'n',
      default: '2000',
      description: 'distinct searches, sampled from the population',
    },
    reuse: {
      type: 'boolean',
      description: `reuse the population already in ${SCHEMA} when it has exactly --patients generated patients`,
    },
    'keep-data': { type: 'boolean', description: `keep the ${SCHEMA} schema after the run (for --reuse)` },
    'no-write': { type: 'boolean', description: 'do not update docs/benchmarks.md' },
    check: { type: 'boolean', description: 'exit with code 3 when a p99 goal is missed' },
    verbose: { type: 'boolean', description: "copy the platform's output to the console" },
  },
  run: (values, context) => {
    if (values['reuse'] === true && values['keep-data'] !== true) {
      // Reusing is only useful when the data outlives the run; say so rather than silently dropping it.
      context.progress.say('note: without --keep-data the schema is dropped at the end of this run');
    }
    return run(values, context);
  },
};
