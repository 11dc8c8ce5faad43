import { Client } from 'pg';
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { PlatformError, transientErrorOf } from '@platform/shared-errors';
import { allAtOnce, dropSchema, outcomes, testDatabaseUrl, uniqueName } from '@platform/shared-testing';
import { migrationSchema, openServiceDatabase, type ServiceDatabase } from './database';
import { IdempotentWrites, type WriteKey } from './idempotent-writes';
import { createWriteTables } from './write-tables';

class Tables implements MigrationInterface {
  name = 'Tables1700000000001';
  async up(queryRunner: QueryRunner): Promise<void> {
    const schema = migrationSchema(queryRunner, 'public');
    await createWriteTables(queryRunner, schema);
    await queryRunner.query(`CREATE TABLE ${schema}.counter (id int PRIMARY KEY, value int NOT NULL)`);
    await queryRunner.query(`INSERT INTO ${schema}.counter VALUES (1, 0)`);
  }
  async down(): Promise<void> {
    // never reverted here
  }
}

describe('IdempotentWrites under concurrency, against PostgreSQL', () => {
  const schema = uniqueName('writes_concurrency');
  const url = testDatabaseUrl();
  let database: ServiceDatabase;
  let writes: IdempotentWrites;
  let db: Client;
  let counter = 0;

  const key = (requestId: string, request: unknown = { add: 1 }): WriteKey => ({
    callerId: 'gp-user',
    requestId,
    operation: 'counter.add',
    request,
  });
  const increment = (requestId: string): Promise<number> =>
    writes.run(key(requestId), async (transaction) => {
      // Long enough that every caller is in flight at once.
      await transaction.query('SELECT pg_sleep(0.02)');
      const result = await transaction.query<{ value: number }>(
        `UPDATE "${schema}".counter SET value = value + 1 WHERE id = 1 RETURNING value`,
      );
      return result.rows[0].value;
    });
  const stored = async (): Promise<number> =>
    (await db.query<{ value: number }>(`SELECT value FROM "${schema}".counter WHERE id = 1`)).rows[0].value;

  beforeAll(async () => {
    database = await openServiceDatabase({
      url,
      schema,
      // A small pool makes a deadlock certain if a write ever asks the pool for a second connection.
      poolSize: 3,
      migrations: [Tables],
      applicationName: 'writes-concurrency-test',
      timeouts: { acquireMs: 10_000, statementMs: 10_000, idleInTransactionMs: 30_000 },
    });
    writes = new IdempotentWrites(database);
    db = new Client({ connectionString: url });
    await db.connect();
  });

  afterAll(async () => {
    await db?.end();
    await database?.dataSource.destroy();
    await dropSchema(url, schema);
  });

  it('answers 50 simultaneous retries of one write with its one answer, applying it once', async () => {
    const before = await stored();
    const requestId = `retry-${(counter += 1)}`;
    const answers = outcomes(await allAtOnce(50, 20_000, () => increment(requestId)));
    expect(new Set(answers)).toEqual(new Set([before + 1]));
    expect(await stored()).toBe(before + 1);
  });

  it('keeps quotes, backslashes and other text in the key and the answer as they are (its statements write them as literals)', async () => {
    const odd = `it's \\ a "test" \\' ; DROP TABLE x; -- é 🏥 $1 $$`;
    const oddKey: WriteKey = { callerId: odd, requestId: `${odd}-${(counter += 1)}`, operation: odd, request: { odd } };
    const first = await writes.run(oddKey, () => Promise.resolve({ text: odd, nested: [odd, '\\n'] }));
    expect(first).toEqual({ text: odd, nested: [odd, '\\n'] });
    // The retry reads the stored answer back: it round-tripped through the literal exactly.
    const again = await writes.run(oddKey, () => Promise.reject(new Error('a retry must not run the write')));
    expect(again).toEqual(first);
    const row = await db.query<{ caller_id: string; operation: string }>(
      `SELECT caller_id, operation FROM "${schema}".idempotent_request WHERE request_id = $1`,
      [oddKey.requestId],
    );
    expect(row.rows).toEqual([{ caller_id: odd, operation: odd }]);
    await expect(writes.run({ ...oddKey, requestId: 'nul\u0000byte' }, () => Promise.resolve(1))).rejects.toMatchObject(
      { httpStatus: 400 },
    );
  });

  it('finishes 50 simultaneous different writes to one row, each applied exactly once', async () => {
    const before = await stored();
    const answers = outcomes(await allAtOnce(50, 20_000, () => increment(`write-${(counter += 1)}`)));
    expect([...answers].sort((a, b) => Number(a) - Number(b))).toEqual(
      Array.from({ length: 50 }, (_, i) => before + 1 + i),
    );
    expect(await stored()).toBe(before + 50);
  });

  describe("runAfterRead (the first read in the claim's round trip)", () => {
    /** Reads the counter under its row lock (NOWAIT), then adds one to it: the shape of a booking. */
    const readThenAdd = (requestId: string, reads: { value: number }[][]): Promise<number> =>
      writes.runAfterRead<{ value: number }, number>(
        key(requestId),
        (claimed) => `SELECT value FROM "${schema}".counter WHERE id = 1 AND ${claimed} FOR UPDATE NOWAIT`,
        async (transaction, rows) => {
          reads.push(rows);
          await transaction.query('SELECT pg_sleep(0.02)');
          const result = await transaction.query<{ value: number }>(
            `UPDATE "${schema}".counter SET value = value + 1 WHERE id = 1 RETURNING value`,
          );
          return result.rows[0].value;
        },
      );
    const lockedOut = (error: unknown): string =>
      (error as { code?: string }).code === '55P03' ? 'locked' : String(error);

    it('50 simultaneous retries: the claim holder reads and writes once, every retry gets its answer', async () => {
      const before = await stored();
      const requestId = `read-retry-${(counter += 1)}`;
      const reads: { value: number }[][] = [];
      const answers = outcomes(await allAtOnce(50, 20_000, () => readThenAdd(requestId, reads)));
      expect(new Set(answers)).toEqual(new Set([before + 1]));
      expect(reads).toEqual([[{ value: before }]]);
      expect(await stored()).toBe(before + 1);
    });

    it('50 simultaneous different writes: each reads its row or is locked out (rolled back, claim and all), none twice', async () => {
      const before = await stored();
      const ids = Array.from({ length: 50 }, () => `read-write-${(counter += 1)}`);
      let next = 0;
      const reads: { value: number }[][] = [];
      const first = await allAtOnce(50, 20_000, () => readThenAdd(ids[next++], reads).catch(lockedOut));
      const applied = outcomes(first).filter((answer) => answer !== 'locked');
      expect(applied.length).toBeGreaterThanOrEqual(1);
      expect(outcomes(first).every((answer) => answer === 'locked' || typeof answer === 'number')).toBe(true);
      expect(await stored()).toBe(before + applied.length);
      // A locked-out write kept no claim: its retry, one at a time, runs it.
      for (const [index, answer] of outcomes(first).entries()) {
        if (answer === 'locked') await readThenAdd(ids[index], reads);
      }
      expect(await stored()).toBe(before + 50);
      // And a retry of any of them now answers, reading nothing.
      const readsBefore = reads.length;
      await readThenAdd(ids[0], reads);
      expect(reads.length).toBe(readsBefore);
      expect(await stored()).toBe(before + 50);
    });

    it('keeps a refusal as the answer, and a retry after it reads nothing and takes no lock', async () => {
      const requestId = `read-refused-${(counter += 1)}`;
      let ran = 0;
      const refuse = (): Promise<never> =>
        writes.runAfterRead(
          key(requestId, { refuse: true }),
          (claimed) => `SELECT value FROM "${schema}".counter WHERE id = 1 AND ${claimed} FOR UPDATE NOWAIT`,
          () => {
            ran += 1;
            return Promise.reject(new PlatformError('RESOURCE_VERSION_MISMATCH'));
          },
        );
      await expect(refuse()).rejects.toMatchObject({ code: 'RESOURCE_VERSION_MISMATCH' });
      // Another transaction holds the row: a retry of the refused request still gets its answer, not a lock failure.
      const holder = new Client({ connectionString: url });
      await holder.connect();
      try {
        await holder.query('BEGIN');
        await holder.query(`SELECT value FROM "${schema}".counter WHERE id = 1 FOR UPDATE`);
        await expect(refuse()).rejects.toMatchObject({ code: 'RESOURCE_VERSION_MISMATCH' });
        await holder.query('ROLLBACK');
      } finally {
        await holder.end();
      }
      expect(ran).toBe(1);
    });
  });

  it('answers a retried failure with the first failure, however many retries arrive at once', async () => {
    const requestId = `failing-${(counter += 1)}`;
    let ran = 0;
    const failing = (): Promise<never> =>
      writes.run(key(requestId, { fail: true }), async (transaction) => {
        ran += 1;
        await transaction.query('SELECT pg_sleep(0.02)');
        throw new PlatformError('RESOURCE_VERSION_MISMATCH');
      });
    const results = outcomes(await allAtOnce(30, 20_000, failing));
    expect(ran).toBe(1);
    expect(results).toEqual(Array.from({ length: 30 }, () => 'RESOURCE_VERSION_MISMATCH'));
  });

  it('does not keep a transient failure as the answer: the retry the caller is told to make runs the write', async () => {
    const before = await stored();
    const requestId = `transient-${(counter += 1)}`;
    let unavailable = true;
    const attempt = (): Promise<string> =>
      writes.run(key(requestId), async (transaction) => {
        await transaction.query(`UPDATE "${schema}".counter SET value = value + 1 WHERE id = 1`);
        // Another service it asks is down (a 503 from the bus), the first time only.
        if (unavailable) throw new PlatformError('REC_UNAVAILABLE', undefined, { headers: { 'Retry-After': '5' } });
        return 'written';
      });
    expect(await attempt().catch((error: PlatformError) => error.code)).toBe('REC_UNAVAILABLE');
    expect(await stored()).toBe(before);
    unavailable = false;
    expect(await attempt()).toBe('written');
    expect(await attempt()).toBe('written');
    expect(await stored()).toBe(before + 1);
  });

  it('answers 503 with Retry-After, not a hang, when no connection frees up in time, and loses nothing', async () => {
    const small = await openServiceDatabase({
      url,
      schema,
      poolSize: 1,
      migrations: [Tables],
      applicationName: 'writes-acquire-timeout-test',
      timeouts: { acquireMs: 300, statementMs: 10_000, idleInTransactionMs: 30_000 },
    });
    try {
      const narrow = new IdempotentWrites(small);
      const before = await stored();
      const slow = narrow.run(key(`slow-${(counter += 1)}`), async (transaction) => {
        await transaction.query('SELECT pg_sleep(1)');
        await transaction.query(`UPDATE "${schema}".counter SET value = value + 1 WHERE id = 1`);
        return 'done';
      });
      const started = Date.now();
      const waiting = await narrow
        .run(key(`waiting-${(counter += 1)}`), () => Promise.resolve('never'))
        .then(
          () => undefined,
          (error: unknown) => error,
        );
      expect(Date.now() - started).toBeLessThan(900);
      const answer = transientErrorOf(waiting);
      expect(answer?.httpStatus).toBe(503);
      expect(answer?.headers?.['Retry-After']).toBe('2');
      expect(await slow).toBe('done');
      expect(await stored()).toBe(before + 1);
    } finally {
      await small.dataSource.destroy();
    }
  });

  it('ends a statement that runs past the statement timeout with an error that answers 503', async () => {
    const bounded = await openServiceDatabase({
      url,
      schema,
      poolSize: 1,
      migrations: [Tables],
      applicationName: 'writes-statement-timeout-test',
      timeouts: { acquireMs: 1_000, statementMs: 200, idleInTransactionMs: 30_000 },
    });
    try {
      const failure = await bounded.pool.query('SELECT pg_sleep(5)').then(
        () => undefined,
        (error: unknown) => error,
      );
      expect((failure as { code?: string }).code).toBe('57014');
      expect(transientErrorOf(failure)?.code).toBe('REC_UNAVAILABLE');
      // The connection is usable again at once.
      expect((await bounded.pool.query<{ one: number }>('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    } finally {
      await bounded.dataSource.destroy();
    }
  });

  it('survives PostgreSQL ending its connections, idle or in use, and connects anew', async () => {
    const pid = process.pid;
    // Idle connections in the pool, and one held by a transaction waiting between two statements.
    await Promise.all([1, 2, 3].map(() => database.pool.query('SELECT 1')));
    const held = await database.pool.connect();
    await held.query('BEGIN');
    await db.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'writes-concurrency-test'`,
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    const lost = await held.query('SELECT 1').then(
      () => undefined,
      (error: unknown) => error,
    );
    held.release(lost instanceof Error ? lost : undefined);
    expect(transientErrorOf(lost)?.httpStatus).toBe(503);
    expect(process.pid).toBe(pid);
    expect(await increment(`after-terminate-${(counter += 1)}`)).toBeGreaterThan(0);
  });
});
