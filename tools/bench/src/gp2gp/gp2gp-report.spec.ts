import { renderGp2gpSection, type Gp2gpReport, type PhaseResult } from './gp2gp-report';

const phase = (label: string, median: number, peak: number): PhaseResult => ({
  label,
  recordBytes: 10 * 1024 * 1024,
  attachments: 3,
  concurrent: 1,
  wallSeconds: median,
  medianSeconds: median,
  p99Seconds: median,
  transfersPerSecond: 1 / median,
  baselineSeconds: 0.1,
  peakRssMiB: { gateway: peak, gp2gp: peak + 10, 'gpconnect-simulator': 900 },
});

const report = (phases: PhaseResult[]): Gp2gpReport => ({
  measuredAt: '2026-12-05T14:00:00.000Z',
  machine: { cpus: 2, cpuModel: 'test', memoryGiB: 8, node: 'v20', os: 'Linux', loadAverage: 1 },
  versions: { postgres: '15', nats: '2.9', autocannon: '8' },
  command: 'npm run bench -- gp2gp',
  phases,
});

describe('the GP2GP benchmark section', () => {
  it('gives a row per phase with each process’s peak RSS, and judges the goals on the platform’s processes only', () => {
    const text = renderGp2gpSection(
      report([phase('10 MiB record', 1.5, 200), phase('10 MiB record', 1.7, 200), phase('10 MiB record', 3, 200)]),
    );
    expect(text).toContain('Command: `npm run bench -- gp2gp`');
    expect(text).toContain('| 10 MiB record | 10.0 | 3 | 1 | 1.70 | 1.70 | 0.59 | 0.10 | 200 | 210 | 900 |');
    // The simulator stands for the practices' systems: its memory is not the platform's.
    expect(text).toContain('median 1.70 s (met); every platform process under 256 MiB peak RSS: highest 210 MiB (met)');
  });

  it('says when a goal is not met', () => {
    const text = renderGp2gpSection(report([phase('10 MiB record', 2.5, 300)]));
    expect(text).toContain('median 2.50 s (not met)');
    expect(text).toContain('highest 310 MiB (not met)');
  });
});
