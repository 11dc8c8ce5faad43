import { Client } from 'pg';
import { testDatabaseUrl } from '@platform/shared-testing';
import { prepared } from './prepared';

describe('prepared statements against PostgreSQL', () => {
  let client: Client;

  beforeAll(async () => {
    client = new Client({ connectionString: testDatabaseUrl() });
    await client.connect();
  });

  afterAll(async () => {
    await client.end();
  });

  const statements = async (): Promise<string[]> =>
    (await client.query<{ statement: string }>('SELECT statement FROM pg_prepared_statements')).rows.map(
      (row) => row.statement,
    );

  it('prepares a text once per connection and answers each run with its own values', async () => {
    const text = 'SELECT $1::int * 2 AS doubled';
    const answers = [];
    for (const value of [1, 2, 3, 4, 5, 6, 7]) {
      answers.push((await client.query<{ doubled: number }>(prepared(text, [value]))).rows[0]?.doubled);
    }
    expect(answers).toEqual([2, 4, 6, 8, 10, 12, 14]);
    expect(await statements()).toEqual([text]);
  });

  it('gives another text a statement of its own, never the first one under its name', async () => {
    const other = 'SELECT $1::int + 1 AS next';
    expect((await client.query<{ next: number }>(prepared(other, [41]))).rows[0]?.next).toBe(42);
    expect(prepared(other, []).name).not.toBe(prepared('SELECT $1::int * 2 AS doubled', []).name);
    expect((await statements()).sort()).toEqual(['SELECT $1::int * 2 AS doubled', other].sort());
  });
});
