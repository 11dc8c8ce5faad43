import type { MachineInfo } from '../support/machine';
import type { SeedFigures } from '../support/population';
import { median } from '../support/stats';
import {
  cpuRows,
  machineAndReproduce,
  roundTable,
  SAME_WORK_DESCRIPTION,
  summariseRead,
  type MeasuredRun,
  type ReadSummary,
  type Target,
} from './read-report';
import type { Versions } from '../support/run-setup';

export const READ_SCALE_SECTION_ID = 'read-1m';
export const READ_SCALE_SECTION_TITLE = 'Read by NHS number at national scale';

/**
 * Issue 16's read goals at 1 million patients, through the gateway: the ratio is to the same-work server (one
 * process doing the same required work), or to the bare baseline when a report has no same-work runs.
 */
export const READ_SCALE_GOALS = { requestsPerSecond: 3000, p99Ms: 25, ratio: 0.6 };

/** The population the goals are judged at. */
export const GOAL_PATIENTS = 1_000_000;

/** One population size: seeded, then measured in rounds against both targets. */
export interface ScaleStep {
  /** Generated patients seeded. */
  patients: number;
  /** Patient rows when measured (the generated ones and the sandbox patients). */
  rows: number;
  /** Bytes of the patient table with its indexes. */
  tableBytes: number;
  seed: SeedFigures;
  /** Seconds of VACUUM (ANALYZE) and CHECKPOINT after the load. */
  settleSeconds: number;
  /** Distinct NHS numbers read. */
  reads: number;
  runs: MeasuredRun[];
}

export interface ReadScaleSettings {
  /** The population sizes asked for, smallest first (the steps measured so far may be fewer). */
  populations: number[];
  durationSeconds: number;
  warmupSeconds: number;
  connections: number;
  rounds: number;
  seed: number;
  /** Distinct NHS numbers asked for per population. */
  reads: number;
  /** Patients checked one at a time before measuring (same answer from both targets). */
  checked: number;
  poolSize: number;
  schema: string;
  logLevel: string;
  rateLimit: number;
}

export interface ReadScaleReport {
  measuredAt: Date;
  machine: MachineInfo;
  revision?: string;
  versions: Versions;
  settings: ReadScaleSettings;
  steps: ScaleStep[];
  command: string;
}

export interface StepVerdict {
  summary: ReadSummary;
  throughput: boolean;
  p99: boolean;
  ratio: boolean;
  pass: boolean;
}

export function judgeStep(step: ScaleStep): StepVerdict {
  const summary = summariseRead(step.runs, READ_SCALE_GOALS.ratio);
  const throughput = summary.platform.requestsPerSecond >= READ_SCALE_GOALS.requestsPerSecond;
  const p99 = summary.platform.p99Ms < READ_SCALE_GOALS.p99Ms;
  const ratio = summary.judgedRatio >= READ_SCALE_GOALS.ratio;
  return { summary, throughput, p99, ratio, pass: throughput && p99 && ratio };
}

/** The step the goals are judged at: 1 million patients when measured, else the largest population. */
export function goalStep(steps: readonly ScaleStep[]): ScaleStep | undefined {
  return steps.find((step) => step.patients === GOAL_PATIENTS) ?? [...steps].sort((a, b) => b.patients - a.patients)[0];
}

const count = (value: number): string => Math.round(value).toLocaleString('en-GB');
const ms = (value: number): string => `${value.toFixed(2)} ms`;
const mark = (pass: boolean): string => (pass ? 'PASS' : 'FAIL');
const times = (value: number): string => `${value.toFixed(2)}x`;

/** 100000 -> 100k, 1000000 -> 1M. */
export function shortCount(value: number): string {
  if (value >= 1_000_000 && value % 100_000 === 0) return `${value / 1_000_000}M`;
  if (value >= 1_000 && value % 100 === 0) return `${value / 1_000}k`;
  return count(value);
}

function mib(bytes: number): string {
  return bytes >= 2 ** 30 ? `${(bytes / 2 ** 30).toFixed(1)} GiB` : `${Math.round(bytes / 2 ** 20)} MiB`;
}

function busy(runs: MeasuredRun[], target: Target): number | undefined {
  const values = runs
    .filter((run) => run.target === target && run.machineBusy !== undefined)
    .map((run) => run.machineBusy as number);
  return values.length > 0 ? median(values) : undefined;
}

/** The markdown of the read-1m section of docs/benchmarks.md (without its markers). */
export function renderReadScaleSection(report: ReadScaleReport): string {
  const { settings, machine } = report;
  const steps = [...report.steps].sort((a, b) => a.patients - b.patients);
  const verdicts = new Map(steps.map((step) => [step, judgeStep(step)]));
  const verdictOf = (step: ScaleStep): StepVerdict => {
    const verdict = verdicts.get(step);
    if (!verdict) throw new Error('no verdict');
    return verdict;
  };
  const date = report.measuredAt
    .toISOString()
    .replace('T', ' ')
    .replace(/:\d\d\.\d+Z$/, ' UTC');
  const judged = goalStep(steps);
  const against = (summary: ReadSummary): string => (summary.sameWork ? 'the same-work server' : 'the bare baseline');
  const goals =
    `at least ${count(READ_SCALE_GOALS.requestsPerSecond)} reads/s, p99 under ${READ_SCALE_GOALS.p99Ms} ms and at least ` +
    `${READ_SCALE_GOALS.ratio.toFixed(2)} of the throughput of one process doing the same work`;
  const headline = judged
    ? (() => {
        const verdict = verdictOf(judged);
        const p = verdict.summary.platform;
        const missed = [
          verdict.throughput ? undefined : 'throughput',
          verdict.p99 ? undefined : 'p99',
          verdict.ratio ? undefined : `ratio to ${against(verdict.summary)}`,
        ].filter((item): item is string => item !== undefined);
        return (
          `**${mark(verdict.pass)}** at ${count(judged.patients)} patients and ${settings.connections} concurrent clients: ` +
          `the platform served ${count(p.requestsPerSecond)} reads/s with p99 ${ms(p.p99Ms)}, ` +
          `${verdict.summary.judgedRatio.toFixed(2)} of ${against(verdict.summary)}'s throughput` +
          `${verdict.summary.sameWork ? ` and ${verdict.summary.ratio.toFixed(2)} of the bare baseline's` : ''} (goals: ${goals}` +
          `${missed.length > 0 ? `; missed: ${missed.join(', ')}` : ''}).`
        );
      })()
    : '**No measurement.**';
  const reqs = (summary: ReadSummary['baseline'] | undefined): string =>
    summary ? `${count(summary.requestsPerSecond)} (${ms(summary.p50Ms)} / ${ms(summary.p99Ms)})` : 'n/a';

  const lines = [
    `## ${READ_SCALE_SECTION_TITLE}: ${steps.map((step) => shortCount(step.patients)).join(', ')} patients, ${settings.connections} clients`,
    '',
    `${headline} Measured ${date}${report.revision ? ` on commit ${report.revision}` : ''}.`,
    '',
    '| patients | baseline req/s (p50 / p99) | same work req/s (p50 / p99) | platform req/s (p50 / p99) | platform / same work | platform / baseline | ' +
      `>= ${count(READ_SCALE_GOALS.requestsPerSecond)} req/s | p99 < ${READ_SCALE_GOALS.p99Ms} ms | ratio >= ${READ_SCALE_GOALS.ratio} |`,
    '|---:|---:|---:|---:|---:|---:|:---:|:---:|:---:|',
    ...steps.map((step) => {
      const { summary, throughput, p99, ratio } = verdictOf(step);
      return (
        `| ${count(step.patients)} | ${reqs(summary.baseline)} | ${reqs(summary.sameWork)} | ${reqs(summary.platform)} | ` +
        `**${summary.sameWorkRatio === undefined ? 'n/a' : summary.sameWorkRatio.toFixed(2)}** | ${summary.ratio.toFixed(2)} | ` +
        `${mark(throughput)} | ${mark(p99)} | ${mark(ratio)} |`
      );
    }),
    '',
    `Medians of ${settings.rounds} round(s) per population. Each round ran the baseline, the same-work server and the platform, each with a ` +
      `${settings.warmupSeconds} s warm-up and a ${settings.durationSeconds} s measured run at ${settings.connections} concurrent ` +
      `connections (autocannon ${report.versions.autocannon}, one request in flight per connection). Every response was ` +
      'checked: any non-2xx answer or connection error fails the benchmark. Latency percentiles are exact, from every response.',
  ];

  if (steps.length > 1) {
    lines.push(
      '',
      'How each figure grows with the population (each row against the one before it):',
      '',
      '| from -> to | baseline req/s | baseline p50 | baseline p99 | platform req/s | platform p50 | platform p99 | ratio |',
      '|---|---:|---:|---:|---:|---:|---:|---:|',
      ...steps.slice(1).map((step, index) => {
        const before = steps[index];
        if (!before) return '';
        const from = verdictOf(before).summary;
        const to = verdictOf(step).summary;
        const grow = (pick: (summary: ReadSummary) => number): string => times(pick(to) / pick(from));
        return (
          `| ${shortCount(before.patients)} -> ${shortCount(step.patients)} | ${grow((s) => s.baseline.requestsPerSecond)} | ` +
          `${grow((s) => s.baseline.p50Ms)} | ${grow((s) => s.baseline.p99Ms)} | ${grow((s) => s.platform.requestsPerSecond)} | ` +
          `${grow((s) => s.platform.p50Ms)} | ${grow((s) => s.platform.p99Ms)} | ${grow((s) => s.judgedRatio)} |`
        );
      }),
    );
  }

  const missing = settings.populations.filter((patients) => !steps.some((step) => step.patients === patients));
  if (missing.length > 0) {
    lines.push(
      '',
      `Not measured: ${missing.map((patients) => `${count(patients)} patients`).join(', ')} (the run stopped before).`,
    );
  }

  lines.push(
    '',
    ...roundTable(
      steps.flatMap((step) => step.runs),
      steps.flatMap((step) =>
        Array.from({ length: settings.rounds }, (_, index) => ({
          label: `${shortCount(step.patients)}, ${index + 1}`,
          round: index + 1,
          runs: step.runs,
        })),
      ),
    ),
    '',
    'CPU milliseconds per request (median of rounds, read from `/proc`): where the work goes. Every process shares the ' +
      `same ${machine.cpus} CPU(s), so CPU spent anywhere, the load generator included, is throughput lost.`,
    '',
    '| patients | target | Node service process(es) | NATS server | PostgreSQL backends | load generator | sum | machine busy |',
    '|---:|---|---:|---:|---:|---:|---:|---:|',
    ...steps.flatMap((step) =>
      cpuRows(verdictOf(step).summary, (target) => busy(step.runs, target), ` ${count(step.patients)} |`),
    ),
    '',
    'The NATS server is shared with whatever else uses it (its CPU during the baseline runs is that background); ' +
      '"machine busy" counts every process on the machine, other users\' work included.',
    '',
    '### What is measured',
    '',
    `- The populations: \`npm run seed -- --patients <n> --seed ${settings.seed}\`'s generator into schema \`${settings.schema}\` ` +
      '(dropped first), then `VACUUM (ANALYZE)` of its tables and a `CHECKPOINT`, so that neither autovacuum of the fresh ' +
      "tables nor the load's checkpoint runs while measuring; the platform and the baseline start after that.",
    ...steps.map((step) => {
      const audited = step.runs
        .filter((run) => run.target === 'platform')
        .reduce((sum, run) => sum + (run.auditRows ?? 0), 0);
      const answered = step.runs.filter((run) => run.target === 'platform').reduce((sum, run) => sum + run.load.ok, 0);
      return (
        `  - ${count(step.patients)}: ${count(step.rows)} patient rows (the NHS sandbox patients included), patient table ` +
        `with its indexes ${mib(step.tableBytes)}. ${step.seed.summary} Settled in ${step.settleSeconds.toFixed(1)} s. ` +
        `${count(step.reads)} distinct patients read; ${count(audited)} audit rows for ${count(answered)} platform answers.`
      );
    }),
    `- The reads: ${count(settings.reads)} NHS numbers of generated patients per population, drawn over the whole table with a ` +
      `repeatable \`TABLESAMPLE\` (seed ${settings.seed}) and shuffled, leaving out restricted, superseded and invalidated ` +
      'records (the platform redacts, redirects or refuses those, so the targets would not do the same work). The same ' +
      'list, in the same order and with the same headers, goes to every target; each connection cycles through its own ' +
      'share of it, so no two connections read the same patient at the same moment. Before measuring, the first ' +
      `${settings.checked} patients were read one at a time from each: the same 200, ETag and Patient each time.`,
    '- **Platform**: `GET /personal-demographics/FHIR/R4/Patient/<nhs-number>` on the gateway with a clinician access ' +
      'token (verified, cached), the rate limiter (raised so it never refuses), the typed PDS client over NATS, the pds ' +
      'service reading the row and writing its read-audit row in one statement, committed before it answers, the FHIR JSON with `ETag`. Every ' +
      'answered read was audited.',
    '- **Baseline**: `GET /Patient/<nhs-number>` on a bare Fastify 5 server in its own process with a `pg` pool of the same ' +
      'size, running the same SELECT (prepared) on the same table: no auth, NATS, audit or logging.',
    ...(steps.some((step) => step.runs.some((run) => run.target === 'same-work')) ? [SAME_WORK_DESCRIPTION] : []),
    `- pds: \`PDS_DB_POOL_SIZE=${settings.poolSize}\`, baseline pool ${settings.poolSize}; \`LOG_LEVEL=${settings.logLevel}\` for ` +
      `every service; \`RATE_LIMIT_PER_CLIENT\` and \`RATE_LIMIT_BURST\` ${count(settings.rateLimit)}.`,
    ...machineAndReproduce(machine, report.versions, report.command),
  );
  return lines.join('\n');
}
