import type { MachineInfo } from '../support/machine';
import type { Versions } from '../support/run-setup';

export const GP2GP_SECTION_ID = 'gp2gp';

export interface PhaseResult {
  label: string;
  recordBytes: number;
  attachments: number;
  concurrent: number;
  wallSeconds: number;
  medianSeconds: number;
  p99Seconds: number;
  transfersPerSecond: number;
  /** The same documents read straight from the practice system (the simulator), one after another. */
  baselineSeconds: number;
  /** Peak resident memory of each process during the phase, MiB (VmHWM, reset before the phase). */
  peakRssMiB: Record<string, number>;
}

export interface Gp2gpReport {
  measuredAt: string;
  machine: MachineInfo;
  versions: Versions;
  revision?: string;
  command: string;
  phases: PhaseResult[];
}

const f = (value: number, digits = 2): string => value.toFixed(digits);
const mib = (bytes: number): string => f(bytes / 1024 / 1024, 1);

/** The docs/benchmarks.md section: one row per phase, with the goals of issue 14 beside the figures. */
export function renderGp2gpSection(report: Gp2gpReport): string {
  const processes = [...new Set(report.phases.flatMap((phase) => Object.keys(phase.peakRssMiB)))];
  const rows = report.phases.map(
    (phase) =>
      `| ${phase.label} | ${mib(phase.recordBytes)} | ${phase.attachments} | ${phase.concurrent} | ${f(phase.medianSeconds)} | ${f(phase.p99Seconds)} | ${f(phase.transfersPerSecond)} | ${f(phase.baselineSeconds)} | ${processes
        .map((name) => (phase.peakRssMiB[name] === undefined ? '-' : f(phase.peakRssMiB[name], 0)))
        .join(' | ')} |`,
  );
  const platformPeak = Math.max(
    ...report.phases.flatMap((phase) =>
      Object.entries(phase.peakRssMiB)
        .filter(([name]) => name !== 'gpconnect-simulator')
        .map(([, value]) => value),
    ),
  );
  const ten = report.phases.filter((phase) => phase.label === '10 MiB record').map((phase) => phase.medianSeconds);
  const tenMedian = [...ten].sort((a, b) => a - b)[Math.floor((ten.length - 1) / 2)] ?? 0;
  return [
    '## GP2GP record transfer',
    '',
    `Command: \`${report.command}\``,
    '',
    `Measured ${report.measuredAt.slice(0, 16).replace('T', ' ')} UTC on ${report.machine.cpus} CPU(s) (${report.machine.cpuModel}), ` +
      `${report.machine.memoryGiB} GiB, Node ${report.machine.node}, PostgreSQL ${report.versions.postgres ?? '?'}, NATS ${report.versions.nats ?? '?'}` +
      `${report.revision ? `, source ${report.revision}` : ''}; load average ${f(report.machine.loadAverage)} at the start.`,
    '',
    'The whole platform runs from its launcher (gateway, identity provider, every service, the GP Connect provider',
    'simulator standing for the practices). A transfer is timed from the first `POST /gp2gp/Patient/$gpc.migratestructuredrecord`',
    'to the last byte of the last attachment read through its link at the gateway (polling every 20 ms), each',
    "attachment's SHA-256 checked against the practice system's; the final acknowledgement follows, untimed.",
    'Baseline: the same documents read straight from the simulator, one after another, in the same run (the floor',
    "for moving those bytes on this machine). Peak RSS is each process's VmHWM, reset before the phase.",
    '',
    `| phase | record MiB | attachments | concurrent | median s | p99 s | transfers/s | baseline s | peak RSS MiB: ${processes.join(' | ')} |`,
    `| --- | --- | --- | --- | --- | --- | --- | --- | ${processes.map(() => '---').join(' | ')} |`,
    ...rows,
    '',
    `Goals (issue 14): a 10 MiB record under 2 s: median ${f(tenMedian)} s (${tenMedian < 2 ? 'met' : 'not met'}); every platform process under 256 MiB peak RSS: highest ${f(platformPeak, 0)} MiB (${platformPeak < 256 ? 'met' : 'not met'}).`,
  ].join('\n');
}
