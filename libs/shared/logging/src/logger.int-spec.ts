import { Writable } from 'node:stream';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { dropSchema, testDatabaseUrl, uniqueName } from '@platform/shared-testing';
import { createLogger } from './logger';
import { PinoNestLogger } from './nest-logger';

/**
 * Real PostgreSQL errors put the row they refused into `detail` ("Failing row contains (...)"), the key into
 * `detail` ("Key (nhs_number)=(...) already exists"), the value into the message ("invalid input syntax"),
 * and a function's context into `where`; TypeORM adds the query's `parameters`. None of it may reach a log.
 */
const NHS_NUMBER = '9434765919';
const BIRTH_DATE = '1987-03-14';
const FAMILY = 'Fothergill';
const SECRETS = [NHS_NUMBER, '943 476 5919', BIRTH_DATE, '14/03/1987', FAMILY];

function capture(): { text: () => string; lines: () => Record<string, unknown>[]; stream: Writable } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk.toString());
      callback();
    },
  });
  const text = () => chunks.join('');
  return {
    stream,
    text,
    lines: () =>
      text()
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

async function failure(work: () => Promise<unknown>): Promise<Error> {
  try {
    await work();
  } catch (error) {
    if (error instanceof Error) return error;
    throw error;
  }
  throw new Error('expected the statement to fail');
}

describe('logging real PostgreSQL constraint violations', () => {
  const url = testDatabaseUrl();
  const schema = uniqueName('logging');
  const client = new Client({ connectionString: url });
  const dataSource = new DataSource({ type: 'postgres', url, schema, entities: [] });

  beforeAll(async () => {
    await client.connect();
    await client.query(`CREATE SCHEMA "${schema}"`);
    await client.query(`SET search_path TO "${schema}"`);
    await client.query(`
      CREATE TABLE patients (
        nhs_number char(10) PRIMARY KEY,
        family text NOT NULL,
        birth_date date NOT NULL CHECK (birth_date > DATE '1900-01-01')
      )`);
    await client.query(`
      CREATE FUNCTION admit(nhs text, born date) RETURNS void LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'cannot admit %', nhs USING DETAIL = 'born ' || born, HINT = 'check ' || nhs, ERRCODE = '23514';
      END $$`);
    await client.query('INSERT INTO patients VALUES ($1, $2, $3)', [NHS_NUMBER, FAMILY, BIRTH_DATE]);
    await dataSource.initialize();
  });

  afterAll(async () => {
    await dataSource.destroy();
    await client.end();
    await dropSchema(url, schema);
  });

  it('writes none of the row, key, value or parameters, at any depth, and keeps what an operator needs', async () => {
    const errors = {
      duplicate: await failure(() =>
        client.query('INSERT INTO patients VALUES ($1, $2, $3)', [NHS_NUMBER, FAMILY, BIRTH_DATE]),
      ),
      notNull: await failure(() =>
        client.query('INSERT INTO patients VALUES ($1, NULL, $2)', ['9000000009', BIRTH_DATE]),
      ),
      check: await failure(() =>
        client.query('INSERT INTO patients VALUES ($1, $2, $3)', ['9000000009', FAMILY, '1887-03-14']),
      ),
      badInput: await failure(() => client.query(`SELECT '${NHS_NUMBER}'::uuid`)),
      raised: await failure(() => client.query('SELECT admit($1, $2)', [NHS_NUMBER, BIRTH_DATE])),
      typeorm: await failure(() =>
        dataSource.query(`INSERT INTO "${schema}".patients VALUES ($1, $2, $3)`, [NHS_NUMBER, FAMILY, BIRTH_DATE]),
      ),
    };
    // The errors do carry the patient's data: this is what must be kept out of the log.
    const raw = JSON.stringify(Object.values(errors).map((error) => ({ ...error, message: error.message })));
    for (const secret of [NHS_NUMBER, BIRTH_DATE, FAMILY]) expect(raw).toContain(secret);
    expect(raw).toContain('Failing row contains');

    const out = capture();
    const logger = createLogger({ service: 'pds', destination: out.stream });
    const nest = new PinoNestLogger(logger);
    for (const [name, error] of Object.entries(errors)) {
      logger.error(error);
      logger.error({ err: error }, `${name} failed`);
      logger.warn({ request: { handler: { attempt: { retry: { last: { error } } } } } }, 'deep %s', error.message);
      nest.error(error.message, error.stack, 'ExceptionsHandler');
    }

    const text = out.text();
    for (const secret of [...SECRETS, '9000000009', '1887-03-14', 'Failing row']) expect(text).not.toContain(secret);
    const lines = out.lines();
    expect(lines).toHaveLength(24);
    const logged = (index: number) => lines[index * 4 + 1]?.['err'] as Record<string, unknown>;
    expect(logged(0)).toMatchObject({
      type: 'DatabaseError',
      code: '23505',
      constraint: 'patients_pkey',
      table: 'patients',
      detail: '[redacted]',
    });
    expect(logged(1)).toMatchObject({ code: '23502', column: 'family', detail: '[redacted]' });
    expect(logged(2)).toMatchObject({ code: '23514', constraint: 'patients_birth_date_check', detail: '[redacted]' });
    expect(logged(3)).toMatchObject({ code: '22P02', message: 'invalid input syntax for type uuid: "[nhs-number]"' });
    expect(logged(4)).toMatchObject({
      code: '23514',
      message: 'cannot admit [nhs-number]',
      detail: '[redacted]',
      hint: '[redacted]',
      where: '[redacted]',
    });
    expect(logged(5)).toMatchObject({
      type: 'QueryFailedError',
      code: '23505',
      parameters: '[redacted]',
      query: '[redacted]',
      driverError: { type: 'DatabaseError', detail: '[redacted]' },
    });
  });
});
