import type { LoadResult } from '../support/load';
import { READ_SECTION_TITLE, renderReadSection, summariseRead, type MeasuredRun, type ReadReport } from './read-report';

function run(target: MeasuredRun['target'], round: number, requestsPerSecond: number, p50Ms: number): MeasuredRun {
  const load: LoadResult = {
    requestsPerSecond,
    p50Ms,
    p99Ms: p50Ms * 3,
    meanMs: p50Ms,
    ok: requestsPerSecond * 10,
    durationSeconds: 10,
    statusCodes: { '200': requestsPerSecond * 10 },
  };
  const cpuSeconds: Record<string, number> =
    target === 'baseline'
      ? { baseline: requestsPerSecond * 0.001, self: 1 }
      : target === 'same-work'
        ? { 'same-work': requestsPerSecond * 0.002, self: 1 }
        : { gateway: requestsPerSecond * 0.003, pds: requestsPerSecond * 0.002, self: 1 };
  return {
    target,
    round,
    load,
    cpuSeconds,
    machineBusy: 0.95,
    ...(target === 'baseline' ? {} : { auditRows: load.ok }),
  };
}

function report(runs: MeasuredRun[]): ReadReport {
  return {
    measuredAt: new Date('2026-01-02T03:04:05Z'),
    machine: { cpus: 2, cpuModel: 'Test CPU', memoryGiB: 8, node: 'v20.0.0', os: 'Linux', loadAverage: 0.5 },
    revision: 'abc1234',
    versions: { postgres: '15.1', nats: '2.9.0', autocannon: '8.0.0' },
    settings: {
      durationSeconds: 15,
      warmupSeconds: 3,
      connections: 10,
      rounds: 2,
      patient: '9000000009',
      poolSize: 10,
      schema: 'pds_bench',
      logLevel: 'warn',
      requestIds: 4096,
      rateLimit: 1_000_000,
    },
    runs,
    goal: 0.75,
    command: 'npm run bench -- read --duration 15 --connections 10',
  };
}

describe('read benchmark report', () => {
  const runs = [
    run('baseline', 1, 1000, 2),
    run('platform', 1, 800, 3),
    run('baseline', 2, 1200, 2),
    run('platform', 2, 700, 4),
  ];

  it('compares the medians of the rounds against the goal', () => {
    const summary = summariseRead(runs, 0.75);
    expect(summary.baseline.requestsPerSecond).toBe(1100);
    expect(summary.platform.requestsPerSecond).toBe(750);
    expect(summary.ratio).toBeCloseTo(0.682);
    expect(summary.pass).toBe(false);
    expect(summary.platform.cpuMsPerRequest['gateway']).toBeCloseTo(0.3);
    expect(summariseRead(runs, 0.6).pass).toBe(true);
  });

  it('judges the platform against the same-work server when it was measured, and still shows the bare ratio', () => {
    const withSameWork = [...runs, run('same-work', 1, 1000, 2.5), run('same-work', 2, 1000, 2.5)];
    const summary = summariseRead(withSameWork, 0.6);
    expect(summary.sameWork?.requestsPerSecond).toBe(1000);
    expect(summary.sameWorkRatio).toBeCloseTo(0.75);
    expect(summary.ratio).toBeCloseTo(0.682);
    expect(summary.pass).toBe(true);
    expect(summariseRead(withSameWork, 0.8).pass).toBe(false);
    const text = renderReadSection({ ...report(withSameWork), goal: 0.6 });
    expect(text).toContain(
      '**PASS**: the platform path reached **0.75** of the throughput of one process doing the same work',
    );
    expect(text).toContain('| Same work, one process: token, checks, audited read | 1,000 | 2.50 ms | 7.50 ms |');
    expect(text).toContain('| Platform / same work | **0.75** | 1.40x | 1.40x |');
    expect(text).toContain(
      '| 2 | 1,200 (2.00 ms / 6.00 ms) | 1,000 (2.50 ms / 7.50 ms) | 700 (4.00 ms / 12.00 ms) | 0.70 | 0.58 |',
    );
    expect(text).toContain('| Same work | 0.200 (same-work) |');
  });

  it('writes the figures, the verdict, the settings and the command to reproduce', () => {
    const text = renderReadSection(report(runs));
    expect(text.startsWith(`## ${READ_SECTION_TITLE}\n`)).toBe(true);
    expect(text).toContain('**FAIL**: the platform path reached **0.68**');
    expect(text).toContain('| Baseline: bare Fastify 5 + `pg`, same SELECT | 1,100 | 2.00 ms | 6.00 ms |');
    expect(text).toContain('| 2 | 1,200 (2.00 ms / 6.00 ms) | 700 (4.00 ms / 12.00 ms) | 0.58 |');
    expect(text).toContain('Measured 2026-01-02 03:04 UTC on commit abc1234');
    expect(text).toContain('`LOG_LEVEL=warn`');
    expect(text).toContain('2 CPU(s) (Test CPU)');
    expect(text).toContain('```sh\nnpm run bench -- read --duration 15 --connections 10\n```');
    expect(text).toContain('Every answered read was audited');
  });
});
