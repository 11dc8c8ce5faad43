import { Pool } from 'pg';
import { testDatabaseUrl, uniqueName } from '@platform/shared-testing';
import { withTransaction } from './transaction';

describe('withTransaction against PostgreSQL', () => {
  const table = uniqueName('tx_probe');
  let pool: Pool;

  beforeAll(async () => {
    pool = new Pool({ connectionString: testDatabaseUrl(), max: 2 });
    await pool.query(`CREATE TABLE "${table}" (value int)`);
  });

  afterAll(async () => {
    await pool.query(`DROP TABLE IF EXISTS "${table}"`);
    await pool.end();
  });

  const values = async (): Promise<number[]> =>
    (await pool.query<{ value: number }>(`SELECT value FROM "${table}" ORDER BY value`)).rows.map((row) => row.value);

  it('commits what the work wrote and answers what it returned', async () => {
    const answer = await withTransaction(pool, async (client) => {
      await client.query(`INSERT INTO "${table}" VALUES (1), (2)`);
      return 'done';
    });
    expect(answer).toBe('done');
    expect(await values()).toEqual([1, 2]);
  });

  it('rolls everything back when the work throws, passes the error on and gives the client back', async () => {
    const failure = withTransaction(pool, async (client) => {
      await client.query(`INSERT INTO "${table}" VALUES (3)`);
      throw new Error('refused halfway');
    });
    await expect(failure).rejects.toThrow('refused halfway');
    expect(await values()).toEqual([1, 2]);
    // Both clients of the pool are free again: two transactions at once still run (a leaked client would hang here).
    await Promise.all([1, 2].map(() => withTransaction(pool, (client) => client.query('SELECT 1'))));
    expect(pool.waitingCount).toBe(0);
  });
});
