import type { LoadResult } from '../support/load';
import type { MeasuredRun } from './read-report';
import { parsePopulations } from './read-scale.command';
import {
  goalStep,
  judgeStep,
  renderReadScaleSection,
  shortCount,
  type ReadScaleReport,
  type ScaleStep,
} from './read-scale-report';

function run(target: MeasuredRun['target'], round: number, requestsPerSecond: number, p99Ms: number): MeasuredRun {
  const load: LoadResult = {
    requestsPerSecond,
    p50Ms: p99Ms / 4,
    p99Ms,
    meanMs: p99Ms / 3,
    ok: requestsPerSecond * 15,
    durationSeconds: 15,
    statusCodes: { '200': requestsPerSecond * 15 },
  };
  return {
    target,
    round,
    load,
    cpuSeconds:
      target === 'baseline'
        ? { baseline: 5, postgres: 3, self: 1 }
        : target === 'same-work'
          ? { 'same-work': 6, postgres: 3, self: 1 }
          : { gateway: 10, pds: 9, nats: 4, self: 1 },
    machineBusy: 0.97,
    ...(target === 'platform' ? { auditRows: load.ok } : {}),
  };
}

function step(
  patients: number,
  platform: [number, number],
  sameWork: [number, number] | undefined,
  baseline: [number, number],
): ScaleStep {
  return {
    patients,
    rows: patients + 3,
    tableBytes: patients * 1500,
    seed: { summary: 'The generator reported: "seeded".', seconds: 4 },
    settleSeconds: 2.5,
    reads: 20_000,
    runs: [1, 2].flatMap((round) => [
      run('baseline', round, baseline[0] + round, baseline[1]),
      ...(sameWork ? [run('same-work', round, sameWork[0] + round, sameWork[1])] : []),
      run('platform', round, platform[0] + round, platform[1]),
    ]),
  };
}

function report(steps: ScaleStep[]): ReadScaleReport {
  return {
    measuredAt: new Date('2026-01-02T03:04:05Z'),
    machine: { cpus: 2, cpuModel: 'Test CPU', memoryGiB: 8, node: 'v20.0.0', os: 'Linux', loadAverage: 0.5 },
    revision: 'abc1234',
    versions: { postgres: '15.1', nats: '2.9.0', autocannon: '8.0.0' },
    settings: {
      populations: [100_000, 1_000_000],
      durationSeconds: 15,
      warmupSeconds: 3,
      connections: 32,
      rounds: 2,
      seed: 1,
      reads: 20_000,
      checked: 50,
      poolSize: 10,
      schema: 'pds_bench',
      logLevel: 'warn',
      rateLimit: 1_000_000,
    },
    steps,
    command: 'npm run bench -- read-scale --patients 100000,1000000 --connections 32 --duration 15 --rounds 2',
  };
}

describe('read at scale report', () => {
  const small = step(100_000, [3998.5, 20], [7998.5, 10], [9998.5, 5]);
  const large = step(1_000_000, [2998.5, 30], [4998.5, 8], [9998.5, 6]);

  it('judges each population against the three goals, the ratio to the same-work server', () => {
    expect(judgeStep(small)).toMatchObject({ throughput: true, p99: true, ratio: false, pass: false });
    expect(judgeStep(large)).toMatchObject({ throughput: true, p99: false, ratio: true, pass: false });
    expect(judgeStep(step(1_000_000, [3600, 20], [5000, 8], [9000, 5])).pass).toBe(true);
    // An older report without same-work runs is judged on the ratio to the bare baseline.
    expect(judgeStep(step(1_000_000, [3600, 20], undefined, [9000, 5])).ratio).toBe(false);
    expect(judgeStep(step(1_000_000, [3600, 20], undefined, [5000, 5])).ratio).toBe(true);
    expect(goalStep([small, large])).toBe(large);
    expect(goalStep([small])).toBe(small);
  });

  it('writes both rows, the growth, the verdict and the command to reproduce', () => {
    const text = renderReadScaleSection(report([large, small]));
    expect(text.startsWith('## Read by NHS number at national scale: 100k, 1M patients, 32 clients\n')).toBe(true);
    expect(text).toContain('**FAIL** at 1,000,000 patients and 32 concurrent clients');
    expect(text).toContain('missed: p99');
    expect(text).toContain(
      '| 100,000 | 10,000 (1.25 ms / 5.00 ms) | 8,000 (2.50 ms / 10.00 ms) | 4,000 (5.00 ms / 20.00 ms) | **0.50** | 0.40 | PASS | PASS | FAIL |',
    );
    expect(text).toContain(
      '| 1,000,000 | 10,000 (1.50 ms / 6.00 ms) | 5,000 (2.00 ms / 8.00 ms) | 3,000 (7.50 ms / 30.00 ms) | **0.60** | 0.30 | PASS | FAIL | PASS |',
    );
    expect(text).toContain('| 100k -> 1M | 1.00x | 1.20x | 1.20x | 0.75x | 1.50x | 1.50x | 1.20x |');
    expect(text).toContain(
      '| 1M, 2 | 10,001 (1.50 ms / 6.00 ms) | 5,001 (2.00 ms / 8.00 ms) | 3,001 (7.50 ms / 30.00 ms) | 0.60 | 0.30 |',
    );
    expect(text).toContain('| 1,000,000 | Same work | 0.080 (same-work) |');
    expect(text).toContain('**Same work, one process**');
    expect(text).toContain('Measured 2026-01-02 03:04 UTC on commit abc1234');
    expect(text).toContain('2 CPU(s) (Test CPU)');
    expect(text).toContain(
      '```sh\nnpm run bench -- read-scale --patients 100000,1000000 --connections 32 --duration 15 --rounds 2\n```',
    );
  });

  it('names the populations the run stopped before', () => {
    expect(renderReadScaleSection(report([small]))).toContain(
      'Not measured: 1,000,000 patients (the run stopped before).',
    );
    expect(renderReadScaleSection(report([small, large]))).not.toContain('Not measured');
  });

  it('reads the population sizes', () => {
    expect(parsePopulations('100000,1000000')).toEqual([100_000, 1_000_000]);
    expect(parsePopulations('1_000_000')).toEqual([1_000_000]);
    expect(() => parsePopulations('1000000,100000')).toThrow(/ascending/);
    expect(() => parsePopulations('10')).toThrow(/whole numbers/);
    expect(() => parsePopulations('1e6')).toThrow(/whole numbers/);
  });

  it('shortens population sizes', () => {
    expect(shortCount(100_000)).toBe('100k');
    expect(shortCount(1_000_000)).toBe('1M');
    expect(shortCount(10_000_000)).toBe('10M');
    expect(shortCount(1234)).toBe('1,234');
  });
});
