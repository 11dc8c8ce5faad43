import type { LoadResult } from '../support/load';
import type { MachineInfo } from '../support/machine';
import type { Versions } from '../support/run-setup';

export const EPS_SECTION_ID = 'eps';
/** The issue's goals (EPS). */
export const EPS_GOALS = { createPerSecond: 160, createP99Ms: 100, releaseP99Ms: 200 } as const;

export interface EpsReport {
  measuredAt: Date;
  machine: MachineInfo;
  revision?: string;
  versions: Versions;
  store: { prescriptions: number; seedSeconds: number };
  create: { clients: number; durationSeconds: number; load: LoadResult };
  release: {
    calls: number;
    perCall: number;
    p50Ms: number;
    p99Ms: number;
    maxMs: number;
    released: number;
    distinct: number;
  };
  race: { rounds: number; pharmacies: number; winnersPerRound: number[] };
  command: string;
}

const verdict = (pass: boolean): string => (pass ? 'PASS' : 'FAIL');

export function renderEpsSection(report: EpsReport): string {
  const create = report.create.load;
  const createPass = create.requestsPerSecond >= EPS_GOALS.createPerSecond && create.p99Ms < EPS_GOALS.createP99Ms;
  const releasePass =
    report.release.p99Ms < EPS_GOALS.releaseP99Ms && report.release.distinct === report.release.released;
  const racePass = report.race.winnersPerRound.every((winners) => winners === 1);
  return [
    '## EPS: prescription creation, nominated release, 50 pharmacies racing',
    '',
    `Measured ${report.measuredAt.toISOString().slice(0, 16).replace('T', ' ')} UTC on ${report.machine.cpus} CPU(s) (${report.machine.cpuModel}), ` +
      `${report.machine.memoryGiB} GiB, Node ${report.machine.node}, PostgreSQL ${report.versions.postgres ?? '?'}, NATS ${report.versions.nats ?? '?'}, ` +
      `autocannon ${report.versions.autocannon}${report.revision ? `, source ${report.revision}` : ''}; load average ${report.machine.loadAverage.toFixed(2)} at the start.`,
    '',
    `Store: ${report.store.prescriptions.toLocaleString('en-GB')} prescriptions loaded first with \`npm run eps -- seed\` (${report.store.seedSeconds.toFixed(0)} s). ` +
      'Everything below goes through the gateway with real tokens, except the race (see below).',
    '',
    '| goal | measured | verdict |',
    '|---|---|---|',
    `| creation (\`$process-message\`: bundle rules, PDS and N3 checks, RS256 signature verified, stored, event through the outbox) at least ${EPS_GOALS.createPerSecond}/s with p99 under ${EPS_GOALS.createP99Ms} ms | ${Math.round(create.requestsPerSecond)}/s, p50 ${create.p50Ms.toFixed(1)} ms, p99 ${create.p99Ms.toFixed(1)} ms at ${report.create.clients} clients, ${create.ok.toLocaleString('en-GB')} prescriptions created | ${verdict(createPass)} |`,
    `| nominated release of ${report.release.perCall} (\`Task/$release\`, each signature checked again) p99 under ${EPS_GOALS.releaseP99Ms} ms | p50 ${report.release.p50Ms.toFixed(1)} ms, p99 ${report.release.p99Ms.toFixed(1)} ms, max ${report.release.maxMs.toFixed(1)} ms over ${report.release.calls} calls; ${report.release.released.toLocaleString('en-GB')} released, ${report.release.distinct.toLocaleString('en-GB')} distinct | ${verdict(releasePass)} |`,
    `| ${report.race.pharmacies} pharmacies racing to release one prescription: exactly one wins, every run | winners per round: ${report.race.winnersPerRound.join(', ')} (${report.race.rounds} rounds) | ${verdict(racePass)} |`,
    '',
    'The race runs over NATS against the EPS contract, each pharmacy with its own caller context: the local identity provider issues',
    'pharmacy tokens for one organisation only, so 50 pharmacies cannot be 50 gateway clients here.',
    '',
    'Reproduce:',
    '',
    '```',
    report.command,
    '```',
  ].join('\n');
}
