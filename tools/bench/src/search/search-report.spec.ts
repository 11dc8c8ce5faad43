import 'reflect-metadata';
import type { LoadResult } from '../support/load';
import { misspelt, searchPath } from './search.command';
import {
  renderSearchSection,
  SEARCH_SECTION_TITLE,
  summariseScenario,
  type SearchReport,
  type SearchRun,
} from './search-report';

function run(scenario: SearchRun['scenario'], round: number, p99Ms: number): SearchRun {
  const load: LoadResult = {
    requestsPerSecond: 700,
    p50Ms: p99Ms / 3,
    p99Ms,
    meanMs: p99Ms / 3,
    ok: 7000,
    durationSeconds: 10,
    statusCodes: { '200': 7000 },
  };
  return { scenario, round, load, cpuSeconds: { gateway: 7, pds: 7, self: 1 } };
}

function report(runs: SearchRun[]): SearchReport {
  return {
    measuredAt: new Date('2026-01-02T03:04:05Z'),
    machine: { cpus: 2, cpuModel: 'Test CPU', memoryGiB: 8, node: 'v20.0.0', os: 'Linux', loadAverage: 0.5 },
    revision: 'abc1234',
    versions: { postgres: '15.1', nats: '2.9.0', autocannon: '8.0.0' },
    settings: {
      patients: 1_000_000,
      seed: 1,
      schema: 'pds_bench_search',
      durationSeconds: 15,
      warmupSeconds: 3,
      connections: 8,
      rounds: 2,
      queries: 2000,
      poolSize: 10,
      logLevel: 'warn',
    },
    seed: { summary: 'The generator reported: "seeded 1,000,000 patients in 45.0 s".', seconds: 45 },
    rows: { patients: 1_000_003, names: 1_100_000, addresses: 1_200_000 },
    runs,
    check: { exact: { sampled: 200, matched: 200, tooMany: 0 }, fuzzy: { sampled: 200, matched: 190, tooMany: 2 } },
    command: 'npm run bench -- search --patients 1000000 --connections 8',
  };
}

describe('the search benchmark report', () => {
  it('takes medians of rounds and judges each p99 against its goal', () => {
    const runs = [run('exact', 1, 20), run('exact', 2, 60), run('exact', 3, 30), run('fuzzy', 1, 140)];
    expect(summariseScenario(runs, 'exact')).toMatchObject({ p99Ms: 30, goalMs: 50, pass: true });
    expect(summariseScenario(runs, 'fuzzy')).toMatchObject({ p99Ms: 140, goalMs: 150, pass: true });
    expect(summariseScenario([run('exact', 1, 51)], 'exact').pass).toBe(false);
    expect(summariseScenario(runs, 'exact').cpuMsPerRequest['gateway']).toBeCloseTo(1, 5);
  });

  it('renders the docs section with the verdict, the figures and the command to repeat it', () => {
    const text = renderSearchSection(report([run('exact', 1, 20), run('fuzzy', 1, 160)]));
    expect(text.startsWith(`## ${SEARCH_SECTION_TITLE}`)).toBe(true);
    expect(text).toContain('**FAIL** at 1,000,003 patients and 8 concurrent clients');
    expect(text).toContain('exact p99 20.00 ms (goal < 50 ms)');
    expect(text).toContain('< 150 ms FAIL');
    expect(text).toContain('95% of 200 (2 too many)');
    expect(text).toContain('npm run bench -- search --patients 1000000 --connections 8');
    expect(text).toContain('seeded 1,000,000 patients in 45.0 s');
  });

  it('builds searches from sampled names: exact, and fuzzy with a misspelt family name', () => {
    expect(misspelt('Smith')).toBe('Smyth');
    expect(misspelt('Lynch')).toBe('Linch');
    expect(misspelt('Brown')).toBe('Browne');
    expect(misspelt('Moore')).toBe('Moor');
    const name = { family: "O'Brien", given: 'Mary Ann', birthDate: '1975-07-01' };
    expect(searchPath('exact', name)).toBe(
      '/personal-demographics/FHIR/R4/Patient?family=O%27Brien&birthdate=eq1975-07-01',
    );
    expect(searchPath('fuzzy', name)).toBe(
      '/personal-demographics/FHIR/R4/Patient?family=O%27Bryen&given=Mary%20Ann&birthdate=eq1975-07-01&_fuzzy-match=true',
    );
  });
});
