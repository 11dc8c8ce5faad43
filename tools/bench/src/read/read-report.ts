import type { LoadResult } from '../support/load';
import type { MachineInfo } from '../support/machine';
import { median, medianCpuMsPerRequest } from '../support/stats';
import type { Versions } from '../support/run-setup';

export const READ_SECTION_ID = 'read-path';
export const READ_SECTION_TITLE = 'Read path: gateway -> NATS -> pds -> PostgreSQL vs bare Fastify + pg';

export type Target = 'baseline' | 'platform';

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
  ratio: number;
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
  const ratio = platform.requestsPerSecond / baseline.requestsPerSecond;
  return { baseline, platform, ratio, pass: ratio >= goal };
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
  const runOf = (target: Target, round: number): MeasuredRun | undefined =>
    report.runs.find((run) => run.target === target && run.round === round);
  const busy = (target: Target): number | undefined => {
    const values = report.runs
      .filter((run) => run.target === target && run.machineBusy !== undefined)
      .map((run) => run.machineBusy as number);
    return values.length > 0 ? median(values) : undefined;
  };
  const platformRuns = report.runs.filter((run) => run.target === 'platform');
  const answered = platformRuns.reduce((sum, run) => sum + run.load.ok, 0);
  const audited = platformRuns.reduce((sum, run) => sum + (run.auditRows ?? 0), 0);
  const b = summary.baseline;
  const p = summary.platform;

  const lines = [
    `## ${READ_SECTION_TITLE}`,
    '',
    `**${verdict}**: the platform path reached **${summary.ratio.toFixed(2)}** of the baseline's throughput ` +
      `(goal: at least ${report.goal.toFixed(2)}). Measured ${date}${report.revision ? ` on commit ${report.revision}` : ''}.`,
    '',
    '| | requests/s | p50 latency | p99 latency |',
    '|---|---:|---:|---:|',
    `| Baseline: bare Fastify 5 + \`pg\`, same SELECT | ${rps(b.requestsPerSecond)} | ${ms(b.p50Ms)} | ${ms(b.p99Ms)} |`,
    `| Platform: gateway -> NATS -> pds -> PostgreSQL | ${rps(p.requestsPerSecond)} | ${ms(p.p50Ms)} | ${ms(p.p99Ms)} |`,
    `| Platform / baseline | **${summary.ratio.toFixed(2)}** | ${(p.p50Ms / b.p50Ms).toFixed(2)}x | ${(p.p99Ms / b.p99Ms).toFixed(2)}x |`,
    '',
    `Medians of ${settings.rounds} round(s). Each round ran the baseline, then the platform, each with a ${settings.warmupSeconds} s ` +
      `warm-up and a ${settings.durationSeconds} s measured run at ${settings.connections} concurrent connections (autocannon ` +
      `${report.versions.autocannon}, one request in flight per connection). Every response was checked: any non-2xx ` +
      'answer or connection error fails the benchmark. Latency percentiles are exact, from every response.',
    '',
    '| round | baseline req/s | platform req/s | ratio | baseline p50 / p99 | platform p50 / p99 |',
    '|---:|---:|---:|---:|---:|---:|',
    ...rounds.map((round) => {
      const base = runOf('baseline', round);
      const plat = runOf('platform', round);
      if (!base || !plat) return `| ${round} | | | | | |`;
      return (
        `| ${round} | ${rps(base.load.requestsPerSecond)} | ${rps(plat.load.requestsPerSecond)} | ` +
        `${(plat.load.requestsPerSecond / base.load.requestsPerSecond).toFixed(2)} | ` +
        `${ms(base.load.p50Ms)} / ${ms(base.load.p99Ms)} | ${ms(plat.load.p50Ms)} / ${ms(plat.load.p99Ms)} |`
      );
    }),
    '',
    'CPU time per request (milliseconds, median of rounds, read from `/proc`): where the work goes. Every process ' +
      `shares the same ${machine.cpus} CPU(s), so CPU spent anywhere, the load generator included, is throughput lost.`,
    '',
    '| | Node service process(es) | NATS server | PostgreSQL backends | load generator | sum | machine busy |',
    '|---|---:|---:|---:|---:|---:|---:|',
    `| Baseline | ${cpu(b.cpuMsPerRequest['baseline'])} (baseline) | ${cpu(b.cpuMsPerRequest['nats'])} | ${cpu(b.cpuMsPerRequest['postgres'])} | ` +
      `${cpu(b.cpuMsPerRequest['self'])} | ${cpu(sumOf(b.cpuMsPerRequest, ['baseline', 'nats', 'postgres', 'self']))} | ${pct(busy('baseline'))} |`,
    `| Platform | ${cpu(sumOf(p.cpuMsPerRequest, ['gateway', 'pds']))} (gateway ${cpu(p.cpuMsPerRequest['gateway'])} + pds ${cpu(p.cpuMsPerRequest['pds'])}) | ` +
      `${cpu(p.cpuMsPerRequest['nats'])} | ${cpu(p.cpuMsPerRequest['postgres'])} | ${cpu(p.cpuMsPerRequest['self'])} | ` +
      `${cpu(sumOf(p.cpuMsPerRequest, ['gateway', 'pds', 'nats', 'postgres', 'self']))} | ${pct(busy('platform'))} |`,
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
      'auth, no NATS, no audit, no logging. Both answer the same Patient.',
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
