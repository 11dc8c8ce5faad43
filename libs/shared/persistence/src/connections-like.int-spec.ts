import { Client, Pool } from 'pg';
import { testDatabaseUrl, uniqueName } from '@platform/shared-testing';
import { connectionsLike } from './connections-like';

describe('connectionsLike', () => {
  const app = uniqueName('svc');
  let observer: Client;
  let shared: Pool;
  const opened: Pool[] = [];

  const own = (...args: Parameters<typeof connectionsLike>): Pool => {
    const pool = connectionsLike(...args);
    opened.push(pool);
    return pool;
  };

  const show = async (pool: Pool, setting: string): Promise<string> =>
    (await pool.query<Record<string, string>>(`SHOW ${setting}`)).rows[0]?.[setting] ?? '';

  const sessionsNamed = async (name: string): Promise<number> =>
    Number(
      (
        await observer.query<{ n: string }>('SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = $1', [
          name,
        ])
      ).rows[0]?.n,
    );

  beforeAll(async () => {
    observer = new Client({ connectionString: testDatabaseUrl() });
    await observer.connect();
    shared = new Pool({
      connectionString: testDatabaseUrl(),
      max: 10,
      application_name: app,
      statement_timeout: 4321,
      options: '-c work_mem=7MB',
    });
  });

  afterAll(async () => {
    await Promise.all(opened.map((pool) => pool.end()));
    await shared.end();
    await observer.end();
  });

  it("shows as the pool's application name and purpose, with the pool's settings and its own", async () => {
    const audit = own(shared, { max: 2, purpose: 'audit writer', settings: '-c synchronous_commit=off' });
    const name = (await audit.query<{ name: string }>("SELECT current_setting('application_name') AS name")).rows[0]
      ?.name;
    expect(name).toBe(`${app} audit writer`);
    expect(await sessionsNamed(`${app} audit writer`)).toBe(1);
    expect(await show(audit, 'synchronous_commit')).toBe('off');
    expect(await show(audit, 'work_mem')).toBe('7MB');
    expect(await show(audit, 'statement_timeout')).toBe('4321ms');
    // The shared pool keeps its own settings and name.
    expect(await show(shared, 'synchronous_commit')).toBe('on');
    expect(await show(shared, 'application_name')).toBe(app);
  });

  it('never opens more than max connections, however many statements are waiting', async () => {
    const three = own(shared, { max: 3, purpose: 'bounded' });
    let most = 0;
    let running = true;
    const watching = (async () => {
      while (running) {
        most = Math.max(most, await sessionsNamed(`${app} bounded`));
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    const answers = await Promise.all(
      Array.from({ length: 12 }, (_, i) => three.query<{ i: number }>('SELECT $1::int AS i, pg_sleep(0.1)', [i])),
    );
    running = false;
    await watching;
    expect(answers.map((answer) => answer.rows[0]?.i)).toEqual(Array.from({ length: 12 }, (_, i) => i));
    expect(most).toBe(3);
    expect(three.totalCount).toBeLessThanOrEqual(3);
  });

  it('carries the password, which pg-pool keeps out of its enumerable options', async () => {
    const url = new URL(testDatabaseUrl());
    const withPassword = new Pool({
      host: url.hostname,
      port: Number(url.port || 5432),
      user: decodeURIComponent(url.username),
      database: url.pathname.slice(1),
      password: 'not-written-anywhere',
      application_name: app,
      max: 1,
    });
    try {
      expect(Object.keys(withPassword.options)).not.toContain('password');
      const pool = own(withPassword, { max: 1, purpose: 'password' });
      const client = await pool.connect();
      try {
        // The password a connection of the new pool gives when the server asks for one.
        expect((client as unknown as { password?: string }).password).toBe('not-written-anywhere');
        expect(await client.query('SELECT 1 AS one')).toMatchObject({ rows: [{ one: 1 }] });
      } finally {
        client.release();
      }
    } finally {
      await withPassword.end();
    }
  });

  it('survives PostgreSQL ending an idle connection, and the next statement connects anew', async () => {
    const pool = own(shared, { max: 1, purpose: 'terminated' });
    const first = (await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid;
    expect(pool.idleCount).toBe(1);
    // No listener of the test's own: the pool's must hear the error, or it ends the process.
    await observer.query('SELECT pg_terminate_backend($1)', [first]);
    for (let waited = 0; pool.totalCount > 0 && waited < 2000; waited += 10) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(pool.totalCount).toBe(0);
    const next = (await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid;
    expect(next).toEqual(expect.any(Number));
    expect(next).not.toBe(first);
  });
});
