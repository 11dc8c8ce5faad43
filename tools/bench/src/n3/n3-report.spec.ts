import type { LoadResult } from '../support/load';
import { renderN3Section, summariseLookups, type LookupRun, type N3Report } from './n3-report';

function run(target: LookupRun['target'], round: number, requestsPerSecond: number, p99Ms: number): LookupRun {
  const load: LoadResult = {
    requestsPerSecond,
    p50Ms: p99Ms / 4,
    p99Ms,
    meanMs: p99Ms / 3,
    ok: requestsPerSecond * 10,
    durationSeconds: 10,
    statusCodes: { '200': requestsPerSecond * 10 },
  };
  return { target, round, load, cpuMsPerRequest: { gateway: 0.2, self: 0.05 } };
}

describe('N3 benchmark report', () => {
  const runs = [
    run('baseline', 1, 8000, 2),
    run('platform', 1, 3200, 8),
    run('baseline', 2, 8400, 2.2),
    run('platform', 2, 2800, 12),
  ];

  it('judges the medians of the rounds against the goals', () => {
    const summary = summariseLookups(runs);
    expect(summary.platform.requestsPerSecond).toBe(3000);
    expect(summary.platform.p99Ms).toBe(10);
    expect(summary.throughputPass).toBe(true);
    expect(summary.latencyPass).toBe(false);
    expect(summary.ratio).toBeCloseTo(3000 / 8200, 5);
  });

  it('writes the goals, the figures and the command that reproduces them', () => {
    const report: N3Report = {
      measuredAt: new Date('2026-11-24T11:00:00Z'),
      machine: { cpus: 2, cpuModel: 'test CPU', memoryGiB: 24, node: 'v20', os: 'Linux', loadAverage: 0.5 },
      versions: { postgres: '15', nats: '2.9', autocannon: '8' },
      estate: { connections: 50000, organisations: 40000, blocks: 53000, seedSeconds: 6 },
      import: { organisations: 50000, wallSeconds: 4.2, loadSeconds: 2.6 },
      settings: { clients: 10, durationSeconds: 15, warmupSeconds: 3, rounds: 2, addresses: 4096 },
      runs,
      command: 'npm run bench -- n3',
    };
    const text = renderN3Section(report);
    expect(text).toContain('| import 50,000 organisations (ODS CSV) in under 30 s | 4.2 s');
    expect(text).toContain('| lookup p99 under 10 ms at 10 clients | 10.00 ms | FAIL |');
    expect(text).toContain(
      '| owner-of-IP lookups through the gateway: at least 3,000/s at 10 clients | 3,000/s | PASS |',
    );
    expect(text).toMatch(/```\nnpm run bench -- n3\n```$/);
  });
});
