import { allAtOnce, outcomes, tally } from '@platform/shared-testing';
import { admin, ORDER, startN3UnderTest, type N3UnderTest } from './n3.test-harness';

/**
 * Fifty registry administrators at once, against the service's default pool of 10 connections: every write
 * path of the registry finishes with the right answers (before, about 20 concurrent writes hung it).
 */
const CALLERS = 50;
const BOUND_MS = 20_000;

const answerOf = (result: unknown): string =>
  typeof result === 'string' ? result : ((result as { status?: string }).status ?? 'ok');

describe('N3 registry writes under concurrency (50 callers, pool of 10)', () => {
  let registry: N3UnderTest;

  const count = async (sql: string, values: unknown[] = []): Promise<number> =>
    (await registry.db.query<{ n: number }>(sql, values)).rows[0].n;

  beforeAll(async () => {
    registry = await startN3UnderTest();
  });

  afterAll(async () => {
    await registry?.stop();
  });

  it('orders 50 connections placed at the same moment, each once, each with its event', async () => {
    const before = await count(`SELECT count(*)::int AS n FROM "${registry.schema}".connection`);
    const results = outcomes(
      await allAtOnce(CALLERS, BOUND_MS, () => registry.n3.createConnection({ odsCode: 'A83008', ...ORDER }, admin())),
    );
    expect(tally(results, answerOf)).toEqual({ ordered: CALLERS });
    const ids = results.map((result) => (result as { id: string }).id);
    expect(new Set(ids).size).toBe(CALLERS);
    expect(await count(`SELECT count(*)::int AS n FROM "${registry.schema}".connection`)).toBe(before + CALLERS);
    expect(
      await count(
        `SELECT count(*)::int AS n FROM "${registry.schema}".connection_event WHERE kind = 'ordered' AND connection_id::text = ANY($1)`,
        [ids],
      ),
    ).toBe(CALLERS);
  });

  it('answers 50 simultaneous retries of one order with one connection', async () => {
    const before = await count(`SELECT count(*)::int AS n FROM "${registry.schema}".connection`);
    const retry = admin();
    const results = outcomes(
      await allAtOnce(CALLERS, BOUND_MS, () => registry.n3.createConnection({ odsCode: 'C81007', ...ORDER }, retry)),
    );
    expect(new Set(results.map((result) => (typeof result === 'string' ? result : result.id))).size).toBe(1);
    expect(await count(`SELECT count(*)::int AS n FROM "${registry.schema}".connection`)).toBe(before + 1);
  });

  it('lets exactly one of 50 simultaneous moves of one connection version win; the others get 409', async () => {
    const connection = await registry.n3.createConnection({ odsCode: 'A83008', ...ORDER }, admin());
    const results = outcomes(
      await allAtOnce(CALLERS, BOUND_MS, () =>
        registry.n3.transitionConnection(
          { connectionId: connection.id, to: 'provisioning', expectedVersion: connection.version },
          admin(),
        ),
      ),
    );
    expect(tally(results, answerOf)).toEqual({ provisioning: 1, RESOURCE_VERSION_MISMATCH: CALLERS - 1 });
    expect(
      await count(
        `SELECT count(*)::int AS n FROM "${registry.schema}".connection_event WHERE connection_id::text = $1 AND to_status = 'provisioning'`,
        [connection.id],
      ),
    ).toBe(1);
  });

  it('gives 50 simultaneous, different blocks of one connection to it, each once', async () => {
    const connection = await registry.n3.createConnection({ odsCode: 'B81001', ...ORDER }, admin());
    const results = outcomes(
      await allAtOnce(CALLERS, BOUND_MS, (i) =>
        registry.n3.allocateBlock({ connectionId: connection.id, cidr: `10.77.${i}.0/24` }, admin()),
      ),
    );
    expect(results.filter((result) => typeof result === 'string')).toEqual([]);
    expect(
      await count(
        `SELECT count(*)::int AS n FROM "${registry.schema}".ip_allocation WHERE block << '10.77.0.0/16' AND released_at IS NULL`,
      ),
    ).toBe(CALLERS);
  });

  it('upserts one organisation from 50 simultaneous requests without losing or doubling it', async () => {
    const results = outcomes(
      await allAtOnce(CALLERS, BOUND_MS, (i) =>
        registry.n3.upsertOrganisation(
          {
            odsCode: 'ZZC50',
            name: `Concurrent Surgery ${i}`,
            role: 'gp-practice',
            status: 'active',
            addressLines: [],
          },
          admin(),
        ),
      ),
    );
    expect(results.filter((result) => typeof result === 'string')).toEqual([]);
    expect(
      await count(`SELECT count(*)::int AS n FROM "${registry.schema}".organisation WHERE ods_code = 'ZZC50'`),
    ).toBe(1);
  });
});
