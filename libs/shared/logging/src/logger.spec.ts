import { Writable } from 'node:stream';
import { createLogger } from './logger';
import { SCRUB_LIMITS, scrubRecord, scrubText } from './redaction';
import { runWithRequestContext } from './request-context';

function capture(): { lines: () => Record<string, unknown>[]; stream: Writable } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk.toString());
      callback();
    },
  });
  return {
    stream,
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

describe('createLogger', () => {
  it('writes one JSON line with the request and correlation IDs of the current context', () => {
    const out = capture();
    const logger = createLogger({ service: 'pds', destination: out.stream });
    runWithRequestContext({ requestId: 'r-1', correlationId: 'c-1' }, () => logger.info('patient read'));
    expect(out.lines()).toEqual([
      expect.objectContaining({
        service: 'pds',
        requestId: 'r-1',
        correlationId: 'c-1',
        msg: 'patient read',
        level: 'info',
      }),
    ]);
  });

  it('redacts patient fields by path and NHS-number-shaped text in messages', () => {
    const out = capture();
    const logger = createLogger({ service: 'pds', destination: out.stream });
    logger.info(
      { nhsNumber: '9000000009', patient: { name: 'Jane Smith' }, query: { birthDate: '2010-10-22' } },
      'read 900 000 0009 for 9000000009',
    );
    const text = JSON.stringify(out.lines());
    expect(text).not.toContain('9000000009');
    expect(text).not.toContain('900 000 0009');
    expect(text).not.toContain('Jane');
    expect(text).not.toContain('2010-10-22');
    expect(out.lines()[0]?.['msg']).toBe('read [nhs-number] for [nhs-number]');
  });

  it('scrubs NHS numbers from error messages and stacks', () => {
    const out = capture();
    const logger = createLogger({ service: 'pds', destination: out.stream });
    logger.error({ err: new Error('duplicate key 9000000009') }, 'insert failed');
    expect(JSON.stringify(out.lines())).not.toContain('9000000009');
  });

  it("scrubs PostgreSQL's detail, where and hint and every string of a record at any depth", () => {
    const out = capture();
    const logger = createLogger({ service: 'pds', destination: out.stream });
    // The shape node-postgres gives a constraint violation, wrapped the way TypeORM and callers wrap it.
    const database = Object.assign(new Error('null value in column "family" violates not-null constraint'), {
      name: 'error',
      code: '23502',
      detail: 'Failing row contains (9000000009, null, 2010-10-22).',
      where: 'SQL function "check_patient" statement 1 with 943 476 5919 and 22/10/2010',
      hint: 'Patient 900-000-0009',
      table: 'patients',
      column: 'family',
    });
    const wrapped = Object.assign(new Error('query failed', { cause: database }), {
      parameters: ['9000000009', 'Jane', '2010-10-22'],
    });
    logger.error(
      {
        level1: {
          level2: { level3: { level4: { level5: { err: wrapped, note: 'row 9434765919, born 2010/10/22' } } } },
        },
      },
      'write failed for %s born %s',
      '943 476 5919',
      '22.10.2010',
    );
    const [line] = out.lines();
    const text = JSON.stringify(line);
    for (const secret of ['9000000009', '900-000-0009', '943 476 5919', '9434765919', '2010-10-22', '22/10/2010']) {
      expect(text).not.toContain(secret);
    }
    for (const secret of ['2010/10/22', '22.10.2010', 'Failing row', 'Jane']) expect(text).not.toContain(secret);
    expect(line?.['msg']).toBe('write failed for [nhs-number] born [date]');
    type Nested = { level1: { level2: { level3: { level4: { level5: { note: string; err: { cause: unknown } } } } } } };
    const level5 = (line as unknown as Nested).level1.level2.level3.level4.level5;
    expect(level5.note).toBe('row [nhs-number], born [date]');
    expect(level5.err).toMatchObject({ type: 'Error', message: 'query failed', parameters: '[redacted]' });
    // What the operator needs stays: the type, the SQLSTATE, the constraint's table and column.
    expect(level5.err.cause).toMatchObject({
      type: 'Error',
      message: 'null value in column "family" violates not-null constraint',
      code: '23502',
      detail: '[redacted]',
      where: '[redacted]',
      hint: '[redacted]',
      table: 'patients',
      column: 'family',
    });
  });

  it('takes the message of an error logged alone, scrubbed, and scrubs child bindings and the request context', () => {
    const out = capture();
    const logger = createLogger({ service: 'pds', destination: out.stream })
      .child({ subject: 'for 9000000009' })
      .child({ patient: { nhsNumber: '9000000009' }, born: '2010-10-22' });
    runWithRequestContext({ requestId: '12345678-1234-4123-8123-123456789012', correlationId: 'nhs 9000000009' }, () =>
      logger.error(new Error('duplicate key 9000000009 born 2010-10-22')),
    );
    const [line] = out.lines();
    expect(line).toMatchObject({
      msg: 'duplicate key [nhs-number] born [date]',
      subject: 'for [nhs-number]',
      patient: '[redacted]',
      born: '[date]',
      requestId: '12345678-1234-4123-8123-123456789012',
      correlationId: 'nhs [nhs-number]',
      err: { type: 'Error', message: 'duplicate key [nhs-number] born [date]' },
    });
    expect(JSON.stringify(line)).not.toMatch(/9000000009|2010-10-22/);
  });

  it('keeps instants and UUIDs, and scrubs dates in their usual forms and ten-digit numbers', () => {
    expect(scrubText('at 2026-11-24T10:00:00.000Z')).toBe('at 2026-11-24T10:00:00.000Z');
    expect(scrubText('born 2010-10-22, 2010/1/2, 22/10/2010, 2-1-2010 or 22.10.2010.')).toBe(
      'born [date], [date], [date], [date] or [date].',
    );
    expect(scrubText('9000000009 900 000 0009 900-000-0009 12345678901')).toBe(
      '[nhs-number] [nhs-number] [nhs-number] 12345678901',
    );
    expect(scrubRecord({ id: '90000000-0900-4000-8000-900000000091', n: 9000000009, count: 12 })).toEqual({
      id: '90000000-0900-4000-8000-900000000091',
      n: '[nhs-number]',
      count: 12,
    });
    expect(scrubRecord({ nested: { deeper: { nhs_number: 'x', NHSNumber: 'y', keys: { '9000000009': 1 } } } })).toEqual(
      {
        nested: { deeper: { nhs_number: '[redacted]', NHSNumber: '[redacted]', keys: { '[nhs-number]': 1 } } },
      },
    );
  });

  it('survives cycles and bounds its work on huge or deep records', () => {
    const cyclic: Record<string, unknown> = { text: '9000000009' };
    cyclic['self'] = cyclic;
    cyclic['list'] = [cyclic, { back: cyclic }];
    expect(scrubRecord(cyclic)).toEqual({
      text: '[nhs-number]',
      self: '[Circular]',
      list: ['[Circular]', { back: '[Circular]' }],
    });
    const causeLoop = new Error('a 9000000009');
    (causeLoop as { cause?: unknown }).cause = causeLoop;
    expect(scrubRecord(causeLoop)).toMatchObject({ message: 'a [nhs-number]', cause: '[Circular]' });

    let deep: Record<string, unknown> = { nhs: '9000000009' };
    for (let level = 0; level < 100_000; level++) deep = { next: deep };
    const wide = Array.from({ length: 1_000_000 }, () => ({ text: '9000000009' }));
    const huge = `${'9000000009 '.repeat(1_000_000)}`;
    const started = Date.now();
    const out = capture();
    createLogger({ service: 'pds', destination: out.stream }).info({ deep, wide, huge }, 'big');
    expect(Date.now() - started).toBeLessThan(2000);
    const [line] = out.lines();
    const text = JSON.stringify(line);
    expect(text).not.toContain('9000000009');
    expect(text.length).toBeLessThan(200_000);
    expect(line?.['huge']).toMatch(/^\[nhs-number\](?: \[nhs-number\])*\.{3}\[cut from 11000000 characters\]$/);
    expect(line?.['wide']).toHaveLength(SCRUB_LIMITS.fieldsPerObject + 1);
  });
});
