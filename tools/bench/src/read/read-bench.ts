// What the read benchmarks (`read` and `read-scale`) share: the bench database, starting the platform and
// the baseline side by side, the pre-built requests, the same-answer check and the measured rounds.
import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import type { BenchContext } from '../command';
import { pidListeningOn, processCpuSeconds, startCpuMeter } from '../support/cpu';
import { runLoad, type LoadRequest, type LoadResult } from '../support/load';
import { PLATFORM_DEFAULTS, PORTS, startPlatform, type RunningPlatform } from '../support/platform';
import { BenchDatabase } from '../support/bench-database';
import { GENERATED_PREFIXES } from '../support/population';
import { startBaseline, startSameWork, type RunningBaseline } from './baseline';
import { summariseRead, type MeasuredRun, type Target } from './read-report';

/** Issue 16: the platform reaches at least this share of the same-work server's throughput. */
export const GOAL = 0.6;
export const SCHEMA = 'pds_bench';
/** Where each target reads a patient: the path before the NHS number. */
export const READ_PATHS: Record<Target, string> = {
  baseline: '/Patient/',
  'same-work': '/Patient/',
  platform: '/personal-demographics/FHIR/R4/Patient/',
};
/** The PostgreSQL application_name of each side's pool, to find their backends' processes. */
const APPLICATION_NAMES: Record<Target, string> = {
  platform: 'pds',
  baseline: 'bench-baseline',
  'same-work': 'bench-same-work',
};

export interface RoundOptions {
  durationSeconds: number;
  warmupSeconds: number;
  connections: number;
  rounds: number;
  /** Each connection sends its own share of the requests (see `LoadSettings.partitioned`). */
  partitioned: boolean;
}

export class ReadDatabase extends BenchDatabase {
  static async open(url: string): Promise<ReadDatabase> {
    return new ReadDatabase(await BenchDatabase.connect(url), SCHEMA);
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

  /**
   * After a bulk load: VACUUM (ANALYZE) every table of the schema and CHECKPOINT, so that neither autovacuum
   * of the fresh tables, hint-bit writes on first read, nor the load's checkpoint runs during the measurements.
   */
  async settle(): Promise<void> {
    const tables = await this.client.query<{ tablename: string }>(
      'SELECT tablename FROM pg_tables WHERE schemaname = $1 ORDER BY tablename',
      [SCHEMA],
    );
    for (const { tablename } of tables.rows) await this.client.query(`VACUUM (ANALYZE) "${SCHEMA}"."${tablename}"`);
    await this.client.query('CHECKPOINT');
  }

  /** Patient rows, and the bytes of the patient table with its indexes. */
  async patientTable(): Promise<{ rows: number; bytes: number }> {
    const result = await this.client.query<{ rows: number; bytes: string }>(
      `SELECT (SELECT count(*)::int FROM "${SCHEMA}".patient) AS rows,
              pg_total_relation_size('"${SCHEMA}".patient') AS bytes`,
    );
    return { rows: result.rows[0]?.rows ?? 0, bytes: Number(result.rows[0]?.bytes ?? 0) };
  }

  /**
   * `count` NHS numbers of generated patients that both targets answer alike (not restricted, superseded or
   * invalidated, which the platform redacts, redirects or refuses), spread over the whole table by a
   * repeatable sample and in an order that does not follow the index.
   */
  async readablePatients(count: number, seed: number, patients: number): Promise<string[]> {
    const percent = Math.min(100, ((count * 2) / Math.max(patients, 1)) * 100);
    const result = await this.client.query<{ nhs_number: string }>(
      `SELECT nhs_number FROM "${SCHEMA}".patient TABLESAMPLE BERNOULLI (${percent.toFixed(6)}) REPEATABLE (${seed})
       WHERE left(nhs_number, 2) = ANY($1::text[]) AND superseded_by IS NULL AND NOT restricted AND NOT invalidated
       ORDER BY md5(nhs_number || $2)
       LIMIT $3`,
      [GENERATED_PREFIXES, String(seed), count],
    );
    return result.rows.map((row) => row.nhs_number);
  }
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

export interface Endpoint {
  target: Target;
  /** Origin of the target's server; each request carries its path. */
  url: string;
  /** Service processes whose CPU is charged to this target. */
  pids: Record<string, number>;
  /** Shared infrastructure whose CPU is measured too (the NATS server, when it runs on this machine). */
  infrastructure: Record<string, number>;
}

export interface ReadTargets {
  platform: RunningPlatform;
  baseline: RunningBaseline;
  sameWork: RunningBaseline;
  /** The baseline, the same-work server, then the platform: the order of each round. */
  endpoints: Endpoint[];
  token: string;
  /** Stops the baseline and the platform (also left registered with the cleanup). */
  stop(): Promise<void>;
}

export interface TargetSettings {
  workDir: string;
  databaseUrl: string;
  natsUrl: string;
  /** More environment for the platform's processes and the baseline (the profiler preload). */
  env?: Record<string, string>;
  verbose: boolean;
}

/** Starts the platform through its launcher on the `SCHEMA` schema, then the baseline on the same schema. */
export async function startReadTargets(settings: TargetSettings, context: BenchContext): Promise<ReadTargets> {
  const { root, progress, cleanup } = context;
  const platform = await startPlatform(
    {
      root,
      workDir: settings.workDir,
      ports: PORTS,
      databaseUrl: settings.databaseUrl,
      natsUrl: settings.natsUrl,
      schema: SCHEMA,
      env: settings.env,
      verbose: settings.verbose,
    },
    progress,
    cleanup,
  );
  const token = await platform.token('clinician');
  const baseline = await startBaseline(
    {
      databaseUrl: settings.databaseUrl,
      schema: SCHEMA,
      poolSize: PLATFORM_DEFAULTS.poolSize,
      env: settings.env ?? {},
    },
    cleanup,
  );
  progress.say(`baseline ready (${baseline.url})`);
  const sameWork = await startSameWork(
    {
      databaseUrl: settings.databaseUrl,
      schema: SCHEMA,
      poolSize: PLATFORM_DEFAULTS.poolSize,
      issuer: platform.issuer,
      env: settings.env ?? {},
    },
    cleanup,
  );
  progress.say(`same-work server ready (${sameWork.url})`);

  const nats = new URL(settings.natsUrl);
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
    { target: 'baseline', url: baseline.url, pids: { baseline: baseline.pid }, infrastructure },
    { target: 'same-work', url: sameWork.url, pids: { 'same-work': sameWork.pid }, infrastructure },
    {
      target: 'platform',
      url: platform.gatewayUrl,
      pids: { gateway: pidOf('gateway'), pds: pidOf('pds') },
      infrastructure,
    },
  ];
  return {
    platform,
    baseline,
    sameWork,
    endpoints,
    token,
    stop: async () => {
      await baseline.stop();
      await sameWork.stop();
      await platform.stop();
    },
  };
}

/**
 * Pre-built requests, one per entry of `nhsNumbers` (which may repeat), each with its own X-Request-ID: the
 * same headers, patients and order go to both targets, only the path before the NHS number differs.
 */
export function buildRequests(token: string, nhsNumbers: readonly string[]): Record<Target, LoadRequest[]> {
  const organisation = organisationsOf(token)[0];
  const shared = nhsNumbers.map((nhsNumber) => ({
    nhsNumber,
    headers: {
      authorization: `Bearer ${token}`,
      accept: 'application/fhir+json',
      'x-request-id': randomUUID(),
      ...(organisation ? { 'nhsd-end-user-organisation-ods': organisation } : {}),
    },
  }));
  const forTarget = (target: Target): LoadRequest[] =>
    shared.map(({ nhsNumber, headers }) => ({
      method: 'GET' as const,
      path: `${READ_PATHS[target]}${nhsNumber}`,
      headers,
    }));
  return { baseline: forTarget('baseline'), 'same-work': forTarget('same-work'), platform: forTarget('platform') };
}

/**
 * Before measuring, one at a time, the first `count` requests to each target: both must answer 200, the same
 * ETag and the same Patient; and the platform must refuse a request without a token.
 */
export async function checkSameAnswers(
  endpoints: Endpoint[],
  requests: Record<Target, LoadRequest[]>,
  count: number,
  context: BenchContext,
): Promise<void> {
  const fetchOne = async (endpoint: Endpoint, request: LoadRequest, headers: Record<string, string>) => {
    const response = await fetch(`${endpoint.url}${request.path ?? ''}`, {
      headers,
      signal: AbortSignal.timeout(10_000),
    });
    return { status: response.status, etag: response.headers.get('etag'), text: await response.text() };
  };
  const checked = Math.min(count, requests.platform.length);
  let first = '';
  for (let index = 0; index < checked; index += 1) {
    const answers = [];
    for (const endpoint of endpoints) {
      const request = requests[endpoint.target][index];
      if (!request) throw new Error(`no request ${index} for ${endpoint.target}`);
      const answer = await fetchOne(endpoint, request, request.headers as Record<string, string>);
      if (answer.status !== 200) {
        throw new Error(
          `${endpoint.target} answered ${answer.status} to ${request.path ?? ''}: ${answer.text.slice(0, 300)}`,
        );
      }
      answers.push({ endpoint, ...answer, body: JSON.parse(answer.text) as unknown });
    }
    const [one, ...others] = answers;
    if (!one) return;
    for (const two of others) {
      if (!one.etag || one.etag !== two.etag) throw new Error(`the ETags differ: ${one.etag} and ${two.etag}`);
      if (!isDeepStrictEqual(one.body, two.body)) {
        throw new Error(
          `the ${one.endpoint.target} and the ${two.endpoint.target} do not answer the same Patient for request ${index}: the comparison would be unfair`,
        );
      }
    }
    if (index === 0) {
      first =
        `ETag ${one.etag}, the same Patient ` +
        `(${answers.map((answer) => `${answer.endpoint.target} ${Buffer.byteLength(answer.text)} bytes`).join(', ')})`;
    }
  }
  context.progress.say(
    checked === 1
      ? `check: all answer 200 with ${first}`
      : `check: all answer 200, the same ETag and the same Patient for each of ${checked} patients; the first: ${first}`,
  );

  const platform = endpoints.find((endpoint) => endpoint.target === 'platform');
  const request = requests.platform[0];
  if (platform && request) {
    const { authorization: _token, ...anonymous } = request.headers as Record<string, string>;
    const answer = await fetchOne(platform, request, anonymous);
    if (answer.status !== 401) {
      throw new Error(
        `the platform answered ${answer.status} without a token: it must demand one (is it in sandbox mode?)`,
      );
    }
    context.progress.say(
      'check: the platform refuses a request without a token (401), so authentication is part of what is measured',
    );
  }
}

/** One warm-up and one measured run against one target, with the CPU of every process involved. */
async function measure(
  endpoint: Endpoint,
  round: number,
  options: RoundOptions,
  requests: LoadRequest[],
  database: ReadDatabase,
  context: BenchContext,
  label: string,
): Promise<MeasuredRun> {
  const { progress, cleanup } = context;
  const prefix = `${label}round ${round}/${options.rounds} · ${endpoint.target}`;
  const load = (phase: string, seconds: number): Promise<LoadResult> =>
    runLoad(
      {
        label: `${prefix} · ${phase}`,
        url: endpoint.url,
        connections: options.connections,
        durationSeconds: seconds,
        requests,
        partitioned: options.partitioned,
      },
      progress,
      cleanup,
    );
  if (options.warmupSeconds > 0) await load('warm-up', options.warmupSeconds);

  const backends = await database.backends(APPLICATION_NAMES[endpoint.target]);
  // The platform and the same-work server both write read_audit; each runs alone, so the rows are its own.
  const auditBefore = endpoint.target === 'baseline' ? undefined : await database.auditRows();
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

/** `rounds` rounds, each the baseline, the same-work server, then the platform; `label` prefixes the progress lines. */
export async function measureRounds(
  endpoints: Endpoint[],
  options: RoundOptions,
  requests: Record<Target, LoadRequest[]>,
  database: ReadDatabase,
  context: BenchContext,
  label = '',
): Promise<MeasuredRun[]> {
  const runs: MeasuredRun[] = [];
  for (let round = 1; round <= options.rounds; round += 1) {
    for (const endpoint of endpoints) {
      if (context.cleanup.stopping) throw new Error('interrupted');
      runs.push(await measure(endpoint, round, options, requests[endpoint.target], database, context, label));
    }
  }
  return runs;
}

/** The medians of the rounds on the console. */
export function printSummary(
  runs: MeasuredRun[],
  context: BenchContext,
  heading = 'results (medians of rounds):',
): void {
  const summary = summariseRead(runs, GOAL);
  const line = (name: string, figures: { requestsPerSecond: number; p50Ms: number; p99Ms: number }): string =>
    `  ${name.padEnd(10)} ${String(Math.round(figures.requestsPerSecond)).padStart(7)} req/s   p50 ${figures.p50Ms.toFixed(2).padStart(6)} ms   p99 ${figures.p99Ms.toFixed(2).padStart(6)} ms`;
  const cpu = (figures: Record<string, number>): string =>
    Object.entries(figures)
      .map(([name, value]) => `${name === 'self' ? 'load generator' : name} ${value.toFixed(3)}`)
      .join(', ');
  context.progress.say(
    [
      heading,
      line('baseline', summary.baseline),
      ...(summary.sameWork ? [line('same-work', summary.sameWork)] : []),
      line('platform', summary.platform),
      ...(summary.sameWorkRatio !== undefined
        ? [
            `  ratio platform/same-work throughput: ${summary.sameWorkRatio.toFixed(3)} (goal >= ${GOAL}): ${summary.pass ? 'PASS' : 'FAIL'}`,
          ]
        : []),
      `  ratio platform/baseline throughput: ${summary.ratio.toFixed(3)}`,
      '  CPU ms per request:',
      `    baseline: ${cpu(summary.baseline.cpuMsPerRequest)}`,
      ...(summary.sameWork ? [`    same-work: ${cpu(summary.sameWork.cpuMsPerRequest)}`] : []),
      `    platform: ${cpu(summary.platform.cpuMsPerRequest)}`,
    ].join('\n'),
  );
}
