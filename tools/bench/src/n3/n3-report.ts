import type { LoadResult } from '../support/load';
import type { MachineInfo } from '../support/machine';
import { median } from '../support/stats';
import type { Versions } from '../support/run-setup';

export const N3_SECTION_ID = 'n3-registry';

/** The issue's goals (N3 registry): 50,000 organisations imported in under 30 s; lookups at 10 clients. */
export const N3_GOALS = { importSeconds: 30, lookupsPerSecond: 3000, p99Ms: 10 } as const;

export interface LookupRun {
  target: 'baseline' | 'platform';
  round: number;
  load: LoadResult;
  /** CPU milliseconds per answered lookup, by process, in the measured window. */
  cpuMsPerRequest: Record<string, number>;
}

export interface N3Report {
  measuredAt: Date;
  machine: MachineInfo;
  revision?: string;
  versions: Versions;
  estate: { connections: number; organisations: number; blocks: number; seedSeconds: number };
  import: { organisations: number; wallSeconds: number; loadSeconds: number };
  settings: { clients: number; durationSeconds: number; warmupSeconds: number; rounds: number; addresses: number };
  runs: LookupRun[];
  command: string;
}

export interface LookupSummary {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
}

function summarise(runs: LookupRun[], target: LookupRun['target']): LookupSummary {
  const mine = runs.filter((run) => run.target === target);
  return {
    requestsPerSecond: median(mine.map((run) => run.load.requestsPerSecond)),
    p50Ms: median(mine.map((run) => run.load.p50Ms)),
    p99Ms: median(mine.map((run) => run.load.p99Ms)),
  };
}

export function summariseLookups(runs: LookupRun[]): {
  baseline: LookupSummary;
  platform: LookupSummary;
  ratio: number;
  throughputPass: boolean;
  latencyPass: boolean;
} {
  const baseline = summarise(runs, 'baseline');
  const platform = summarise(runs, 'platform');
  return {
    baseline,
    platform,
    ratio: baseline.requestsPerSecond > 0 ? platform.requestsPerSecond / baseline.requestsPerSecond : 0,
    throughputPass: platform.requestsPerSecond >= N3_GOALS.lookupsPerSecond,
    latencyPass: platform.p99Ms < N3_GOALS.p99Ms,
  };
}

const verdict = (pass: boolean): string => (pass ? 'PASS' : 'FAIL');
const f = (value: number, digits = 2): string => value.toFixed(digits);

/** The section of docs/benchmarks.md this benchmark owns. */
export function renderN3Section(report: N3Report): string {
  const summary = summariseLookups(report.runs);
  const importPass = report.import.wallSeconds < N3_GOALS.importSeconds;
  const cpu = (target: LookupRun['target']): string => {
    const runs = report.runs.filter((run) => run.target === target);
    const names = [...new Set(runs.flatMap((run) => Object.keys(run.cpuMsPerRequest)))];
    return names
      .map(
        (name) =>
          `${name === 'self' ? 'load generator' : name} ${f(median(runs.map((run) => run.cpuMsPerRequest[name] ?? 0)), 3)}`,
      )
      .join(', ');
  };
  const lines = [
    '## N3 registry: owner-of-IP lookup and ODS import',
    '',
    `Measured ${report.measuredAt.toISOString().slice(0, 16).replace('T', ' ')} UTC on ${report.machine.cpus} CPU(s) (${report.machine.cpuModel}), ` +
      `${report.machine.memoryGiB} GiB, Node ${report.machine.node}, PostgreSQL ${report.versions.postgres ?? '?'}, NATS ${report.versions.nats ?? '?'}, ` +
      `autocannon ${report.versions.autocannon}${report.revision ? `, source ${report.revision}` : ''}; load average ${f(report.machine.loadAverage)} at the start.`,
    '',
    `Estate: ${report.estate.connections.toLocaleString('en-GB')} connections of ${report.estate.organisations.toLocaleString('en-GB')} organisations holding ` +
      `${report.estate.blocks.toLocaleString('en-GB')} IP blocks, loaded by \`npm run n3 -- seed\` in ${f(report.estate.seedSeconds, 1)} s. ` +
      `Lookups of ${report.settings.addresses.toLocaleString('en-GB')} addresses inside live blocks (about a tenth IPv6), ` +
      `${report.settings.clients} concurrent clients, ${report.settings.warmupSeconds} s warm-up and ${report.settings.durationSeconds} s measured per target, ${report.settings.rounds} round(s), ` +
      'the baseline and the platform alternating. The platform path: gateway (token verified, rate limit, role) -> NATS -> n3-registry, which answers from its in-memory owner table ' +
      "(kept in step with PostgreSQL: loaded at start and every minute, refreshed per connection after each change, its own or, through the events, another replica's). " +
      'The baseline: bare Fastify + pg running the longest-prefix query on the SP-GiST index (one generic plan), no authentication, no NATS.',
    '',
    '| goal | measured | verdict |',
    '|---|---|---|',
    `| import ${report.import.organisations.toLocaleString('en-GB')} organisations (ODS CSV) in under ${N3_GOALS.importSeconds} s | ${f(report.import.wallSeconds, 1)} s for the whole command (${f(report.import.loadSeconds, 1)} s reading, checking and loading) | ${verdict(importPass)} |`,
    `| owner-of-IP lookups through the gateway: at least ${N3_GOALS.lookupsPerSecond.toLocaleString('en-GB')}/s at ${report.settings.clients} clients | ${Math.round(summary.platform.requestsPerSecond).toLocaleString('en-GB')}/s | ${verdict(summary.throughputPass)} |`,
    `| lookup p99 under ${N3_GOALS.p99Ms} ms at ${report.settings.clients} clients | ${f(summary.platform.p99Ms)} ms | ${verdict(summary.latencyPass)} |`,
    '',
    '| target | lookups/s | p50 ms | p99 ms | CPU ms per lookup |',
    '|---|---|---|---|---|',
    `| baseline (Fastify + pg) | ${Math.round(summary.baseline.requestsPerSecond).toLocaleString('en-GB')} | ${f(summary.baseline.p50Ms)} | ${f(summary.baseline.p99Ms)} | ${cpu('baseline')} |`,
    `| platform (through the gateway) | ${Math.round(summary.platform.requestsPerSecond).toLocaleString('en-GB')} | ${f(summary.platform.p50Ms)} | ${f(summary.platform.p99Ms)} | ${cpu('platform')} |`,
    '',
    `Platform / baseline throughput: ${f(summary.ratio, 3)} (medians of the rounds; the two share this machine's CPUs with the load generator).`,
    '',
    'Every round:',
    '',
    ...report.runs.map(
      (run) =>
        `- round ${run.round}, ${run.target}: ${Math.round(run.load.requestsPerSecond)} lookups/s, p50 ${f(run.load.p50Ms)} ms, p99 ${f(run.load.p99Ms)} ms, ${run.load.ok} answers, all 2xx`,
    ),
    '',
    'Reproduce:',
    '',
    '```',
    report.command,
    '```',
  ];
  return lines.join('\n');
}
