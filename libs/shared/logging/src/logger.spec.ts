import { Writable } from 'node:stream';
import { createLogger } from './logger';
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
});
