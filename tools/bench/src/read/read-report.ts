import type { LoadResult } from '../support/load';
import type { MachineInfo } from '../support/machine';
import { median, medianCpuMsPerRequest } from '../support/stats';
import type { Versions } from '../support/run-setup';

export const READ_SECTION_ID = 'read-path';
export const READ_SECTION_TITLE =
  'Read path: gateway -> NATS -> pds -> PostgreSQL vs one process doing the same work, and vs bare Fastify + pg';

/**
 * `baseline`: bare Fastify + pg, the same SELECT and nothing else. `same-work`: one process doing all the work
 * a read requires (token, checks, the audited read: `same-work-server.ts`). `platform`: through the gateway.
 */
export type Target = 'baseline' | 'same-work' | 'platform';

export interface MeasuredRun {
  target: Target;
  round: number;
  load: LoadResult;
  /** CPU seconds during the measured window, by process (baseline, gateway, pds, postgres, self). */
  cpuSeconds: Record<string, number>;
  /** Share of the machine's CPUs busy during the window (all processes, including other users'). */
  machineBusy?: number;
  /** Platform only: audit rows written during the window. */
  auditRows?: number;
}

export interface ReadSettings {
  durationSeconds: number;
  warmupSeconds: number;
  connections: number;
  rounds: number;
  patient: string;
  poolSize: number;
  schema: string;
  logLevel: string;
  requestIds: number;
  rateLimit: number;
}

export interface ReadReport {
  measuredAt: Date;
  machine: MachineInfo;
  revision?: string;
  versions: Versions;
  settings: ReadSettings;
  runs: MeasuredRun[];
  goal: number;
  command: string;
}

export interface TargetSummary {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** Median CPU milliseconds per request, by process. */
  cpuMsPerRequest: Record<string, number>;
}

export interface ReadSummary {
  baseline: TargetSummary;
  platform: TargetSummary;
  /** The same-work server, when it was measured. */
  sameWork?: TargetSummary;
  /** Platform / bare baseline throughput. */
  ratio: number;
  /** Platform / same-work throughput (the price of the architecture), when it was measured. */
  sameWorkRatio?: number;
  /** The ratio the goal is judged on (to the same-work server when measured, else to the bare baseline). */
  judgedRatio: number;
  pass: boolean;
}

function summariseTarget(runs: MeasuredRun[]): TargetSummary {
  if (runs.length === 0) throw new Error('no measured runs');
  const cpuMsPerRequest = medianCpuMsPerRequest(runs);
  return {
    requestsPerSecond: median(runs.map((run) => run.load.requestsPerSecond)),
    p50Ms: median(runs.map((run) => run.load.p50Ms)),
    p99Ms: median(runs.map((run) => run.load.p99Ms)),
    cpuMsPerRequest,
  };
}

export function summariseRead(runs: MeasuredRun[], goal: number): ReadSummary {
  const baseline = summariseTarget(runs.filter((run) => run.target === 'baseline'));
  const platform = summariseTarget(runs.filter((run) => run.target === 'platform'));
  const sameWorkRuns = runs.filter((run) => run.target === 'same-work');
  const ratio = platform.requestsPerSecond / baseline.requestsPerSecond;
  if (sameWorkRuns.length === 0) return { baseline, platform, ratio, judgedRatio: ratio, pass: ratio >= goal };
  const sameWork = summariseTarget(sameWorkRuns);
  const sameWorkRatio = platform.requestsPerSecond / sameWork.requestsPerSecond;
  return {
    baseline,
    platform,
    sameWork,
    ratio,
    sameWorkRatio,
    judgedRatio: sameWorkRatio,
    pass: sameWorkRatio >= goal,
  };
}

/** Per round, platform / target throughput (the spread behind the medians). */
export function roundRatios(runs: MeasuredRun[], target: Target): number[] {
  return runs
    .filter((run) => run.target === 'platform')
    .flatMap((platform) => {
      const other = runs.find((run) => run.target === target && run.round === platform.round);
      return other ? [platform.load.requestsPerSecond / other.load.requestsPerSecond] : [];
    });
}

const rps = (value: number): string => Math.round(value).toLocaleString('en-GB');
const ms = (value: number): string => `${value.toFixed(2)} ms`;
const cpu = (value: number | undefined): string => (value === undefined ? 'n/a' : value.toFixed(3));
const pct = (value: number | undefined): string => (value === undefined ? 'n/a' : `${Math.round(value * 100)}%`);

function sumOf(record: Record<string, number>, names: string[]): number | undefined {
  const present = names.filter((name) => record[name] !== undefined);
  return present.length === 0 ? undefined : present.reduce((sum, name) => sum + (record[name] ?? 0), 0);
}

/** The markdown of the read-path section of docs/benchmarks.md (without its markers). */
export function renderReadSection(report: ReadReport): string {
  const summary = summariseRead(report.runs, report.goal);
  const { settings, machine } = report;
  const date = report.measuredAt
    .toISOString()
    .replace('T', ' ')
    .replace(/:\d\d\.\d+Z$/, ' UTC');
  const verdict = summary.pass ? 'PASS' : 'FAIL';
  const rounds = Array.from({ length: settings.rounds }, (_, index) => index + 1);
  const busy = (target: Target): number | undefined => {
    const values = report.runs
      .filter((run) => run.target === target && run.machineBusy !== undefined)
      .map((run) => run.machineBusy as number);
    return values.length > 0 ? median(values) : undefined;
  };
  const platformRuns = report.runs.filter((run) => run.target === 'platform');
  const answered = platformRuns.reduce((sum, run) => sum + run.load.ok, 0);
  const audited = platformRuns.reduce((sum, run) => sum + (run.auditRows ?? 0), 0);
  const w = summary.sameWork;
  const lines = [
    `## ${READ_SECTION_TITLE}`,
    '',
    (w
      ? `**${verdict}**: the platform path reached **${(summary.sameWorkRatio ?? 0).toFixed(2)}** of the throughput of one ` +
        `process doing the same work (goal: at least ${report.goal.toFixed(2)}), and ${summary.ratio.toFixed(2)} of a bare ` +
        'Fastify + pg server doing only the SELECT.'
      : `**${verdict}**: the platform path reached **${summary.ratio.toFixed(2)}** of the baseline's throughput ` +
        `(goal: at least ${report.goal.toFixed(2)}).`) +
      ` Measured ${date}${report.revision ? ` on commit ${report.revision}` : ''}.`,
    '',
    ...targetTable(summary),
    '',
    `Medians of ${settings.rounds} round(s). Each round ran ${w ? 'the baseline, the same-work server and the platform' : 'the baseline, then the platform'}, ` +
      `each with a ${settings.warmupSeconds} s ` +
      `warm-up and a ${settings.durationSeconds} s measured run at ${settings.connections} concurrent connections (autocannon ` +
      `${report.versions.autocannon}, one request in flight per connection). Every response was checked: any non-2xx ` +
      'answer or connection error fails the benchmark. Latency percentiles are exact, from every response.',
    '',
    ...roundTable(
      report.runs,
      rounds.map((round) => ({ label: String(round), round })),
    ),
    '',
    'CPU time per request (milliseconds, median of rounds, read from `/proc`): where the work goes. Every process ' +
      `shares the same ${machine.cpus} CPU(s), so CPU spent anywhere, the load generator included, is throughput lost.`,
    '',
    '| | Node service process(es) | NATS server | PostgreSQL backends | load generator | sum | machine busy |',
    '|---|---:|---:|---:|---:|---:|---:|',
    ...cpuRows(summary, busy, ''),
    '',
    'The NATS server is shared with whatever else uses it (its CPU during the baseline runs is that background); ' +
      '"machine busy" counts every process on the machine, other users\' work included. `n/a`: not measurable here ' +
      '(PostgreSQL or NATS on another machine).',
    '',
    '### What is compared',
    '',
    `- **Platform**: \`GET /personal-demographics/FHIR/R4/Patient/${settings.patient}\` on the gateway with a clinician ` +
      'access token from the local identity provider: token verification (RS256 with `jose`; verified tokens are cached), ' +
      'rate limiter, X-Request-ID, role and organisation checks, the typed PDS client over NATS request/reply, the pds ' +
      'service reading the row and writing its read-audit row in one prepared statement, committed before it answers ' +
      '(reads that arrive together share a statement; every request here reads the same patient, so a shared ' +
      'statement selects one row: the `read-scale` benchmark reads a different patient each time), ' +
      'the FHIR JSON with `ETag`. ' +
      (audited >= answered
        ? `Every answered read was audited (${audited.toLocaleString('en-GB')} audit rows for ${answered.toLocaleString('en-GB')} answers in the measured runs).`
        : `Audit rows: ${audited} for ${answered} answers.`),
    `- **Baseline**: \`GET /Patient/${settings.patient}\` on a bare Fastify 5 server in its own process with a \`pg\` pool of the ` +
      'same size, running the same SELECT (prepared) on the same table and answering the stored resource with its `ETag`: no ' +
      'auth, no NATS, no audit, no logging. All targets answer the same Patient.',
    ...(summary.sameWork ? [SAME_WORK_DESCRIPTION] : []),
    '',
    '### Settings',
    '',
    `- Platform started through its launcher (\`dist/tools/launcher/src/main.js\`) as separate processes: identity provider, pds, gateway; ` +
      `PostgreSQL and NATS already running. \`LOG_LEVEL=${settings.logLevel}\` for every service, so per-request logging ` +
      '(the access log is at `info`) is not part of the figures.',
    `- pds: \`PDS_DB_SCHEMA=${settings.schema}\` (dropped and recreated at the start of each run, so the audit table starts empty), ` +
      `\`PDS_DB_POOL_SIZE=${settings.poolSize}\`, \`PDS_SEED=sandbox\`; patient ${settings.patient}. Baseline pool size ${settings.poolSize}.`,
    `- Gateway: \`RATE_LIMIT_PER_CLIENT\` and \`RATE_LIMIT_BURST\` raised to ${settings.rateLimit.toLocaleString('en-GB')} so the ` +
      "limiter (which still runs on every request) never refuses the benchmark's single client; access tokens live for the whole run.",
    `- Request headers, identical for both targets: \`Authorization: Bearer <token>\`, \`NHSD-End-User-Organisation-ODS\`, ` +
      `\`Accept: application/fhir+json\` and an \`X-Request-ID\` cycling through ${settings.requestIds.toLocaleString('en-GB')} ` +
      'pre-generated UUIDs (autocannon sends pre-built requests; building one per request would load the client side).',
    ...machineAndReproduce(machine, report.versions, report.command),
  ];
  return lines.join('\n');
}

/** What the same-work server does, for both read sections. */
export const SAME_WORK_DESCRIPTION =
  '- **Same work, one process** (`tools/bench/src/read/same-work-server.ts`): `GET /Patient/<nhs-number>` on one Fastify 5 ' +
  "process doing what a read requires and nothing of the platform's architecture (no NATS, no signed caller statement, no " +
  'Nest, no second process): the same access token verified as the gateway does (RS256 with `jose` against the identity ' +
  "provider's JWKS through `createRemoteJWKSet`, the same checks, the same cache of verified tokens), X-Request-ID, role and " +
  "organisation checks, the NHS number's check digit, and pds's audited read: the same group-commit statement " +
  '(`WITH audit AS (INSERT INTO read_audit ...) SELECT ... FROM patient WHERE nhs_number = ANY (...)`, up to 500 entries, ' +
  'two statements in flight) on the same tables with a pool of the same size, answered once committed. Every answered read ' +
  'had its audit row (checked as for the platform).';

type Busy = (target: Target) => number | undefined;

const TARGET_NAMES: Record<Target, string> = {
  baseline: 'Baseline: bare Fastify 5 + `pg`, same SELECT',
  'same-work': 'Same work, one process: token, checks, audited read',
  platform: 'Platform: gateway -> NATS -> pds -> PostgreSQL',
};

/** Requests/s and latency of each target, and the platform's ratios to the others. */
export function targetTable(summary: ReadSummary): string[] {
  const b = summary.baseline;
  const p = summary.platform;
  const w = summary.sameWork;
  const row = (target: Target, figures: TargetSummary): string =>
    `| ${TARGET_NAMES[target]} | ${rps(figures.requestsPerSecond)} | ${ms(figures.p50Ms)} | ${ms(figures.p99Ms)} |`;
  const ratio = (name: string, other: TargetSummary): string =>
    `| ${name} | **${(p.requestsPerSecond / other.requestsPerSecond).toFixed(2)}** | ${(p.p50Ms / other.p50Ms).toFixed(2)}x | ` +
    `${(p.p99Ms / other.p99Ms).toFixed(2)}x |`;
  return [
    '| | requests/s | p50 latency | p99 latency |',
    '|---|---:|---:|---:|',
    row('baseline', b),
    ...(w ? [row('same-work', w)] : []),
    row('platform', p),
    ...(w ? [ratio('Platform / same work', w)] : []),
    ratio('Platform / baseline', b),
  ];
}

/** Each round's figures, so the spread behind the medians shows. */
export function roundTable(
  runs: MeasuredRun[],
  rows: { label: string; round: number; runs?: MeasuredRun[] }[],
): string[] {
  const withSameWork = runs.some((run) => run.target === 'same-work');
  const figures = (run: MeasuredRun | undefined): string =>
    run ? `${rps(run.load.requestsPerSecond)} (${ms(run.load.p50Ms)} / ${ms(run.load.p99Ms)})` : '';
  return [
    withSameWork
      ? '| round | baseline req/s (p50 / p99) | same work req/s (p50 / p99) | platform req/s (p50 / p99) | platform / same work | platform / baseline |'
      : '| round | baseline req/s (p50 / p99) | platform req/s (p50 / p99) | platform / baseline |',
    withSameWork ? '|---:|---:|---:|---:|---:|---:|' : '|---:|---:|---:|---:|',
    ...rows.map(({ label, round, runs: own }) => {
      const of = (target: Target): MeasuredRun | undefined =>
        (own ?? runs).find((run) => run.target === target && run.round === round);
      const base = of('baseline');
      const same = of('same-work');
      const plat = of('platform');
      const ratio = (other: MeasuredRun | undefined): string =>
        other && plat ? (plat.load.requestsPerSecond / other.load.requestsPerSecond).toFixed(2) : '';
      return withSameWork
        ? `| ${label} | ${figures(base)} | ${figures(same)} | ${figures(plat)} | ${ratio(same)} | ${ratio(base)} |`
        : `| ${label} | ${figures(base)} | ${figures(plat)} | ${ratio(base)} |`;
    }),
  ];
}

/** CPU milliseconds per request of each target's processes (`prefix`: leading cells, e.g. the population). */
export function cpuRows(summary: ReadSummary, busy: Busy, prefix: string): string[] {
  const b = summary.baseline;
  const p = summary.platform;
  const w = summary.sameWork;
  return [
    `|${prefix} Baseline | ${cpu(b.cpuMsPerRequest['baseline'])} (baseline) | ${cpu(b.cpuMsPerRequest['nats'])} | ${cpu(b.cpuMsPerRequest['postgres'])} | ` +
      `${cpu(b.cpuMsPerRequest['self'])} | ${cpu(sumOf(b.cpuMsPerRequest, ['baseline', 'nats', 'postgres', 'self']))} | ${pct(busy('baseline'))} |`,
    ...(w
      ? [
          `|${prefix} Same work | ${cpu(w.cpuMsPerRequest['same-work'])} (same-work) | ${cpu(w.cpuMsPerRequest['nats'])} | ` +
            `${cpu(w.cpuMsPerRequest['postgres'])} | ${cpu(w.cpuMsPerRequest['self'])} | ` +
            `${cpu(sumOf(w.cpuMsPerRequest, ['same-work', 'nats', 'postgres', 'self']))} | ${pct(busy('same-work'))} |`,
        ]
      : []),
    `|${prefix} Platform | ${cpu(sumOf(p.cpuMsPerRequest, ['gateway', 'pds']))} (gateway ${cpu(p.cpuMsPerRequest['gateway'])} + pds ${cpu(p.cpuMsPerRequest['pds'])}) | ` +
      `${cpu(p.cpuMsPerRequest['nats'])} | ${cpu(p.cpuMsPerRequest['postgres'])} | ${cpu(p.cpuMsPerRequest['self'])} | ` +
      `${cpu(sumOf(p.cpuMsPerRequest, ['gateway', 'pds', 'nats', 'postgres', 'self']))} | ${pct(busy('platform'))} |`,
  ];
}

/** The machine line and the reproduce section that end every read-path report. */
export function machineAndReproduce(
  machine: MachineInfo,
  versions: { postgres?: string; nats?: string },
  command: string,
): string[] {
  return [
    `- Machine: ${machine.cpus} CPU(s) (${machine.cpuModel}), ${machine.memoryGiB} GiB, ${machine.os}, Node ${machine.node}` +
      `${versions.postgres ? `, PostgreSQL ${versions.postgres}` : ''}${versions.nats ? `, NATS server ${versions.nats}` : ''}. ` +
      `Shared with other work (1-minute load average ${machine.loadAverage.toFixed(2)} before the run); the load generator, ` +
      'gateway, pds, NATS, PostgreSQL and baseline all run on it.',
    '',
    '### Reproduce',
    '',
    '```sh',
    command,
    '```',
    '',
    '`BENCH_DATABASE_URL` and `BENCH_NATS_URL` point it at another PostgreSQL or NATS; `--help` lists the options.',
  ];
}
