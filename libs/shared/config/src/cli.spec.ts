import { addDatabaseOptions, bufferedOutput, parseCommandLine, runCommandLine, wholeNumber } from './cli';

type Chosen = { command: 'load'; count: number; databaseUrl: string; schema: string } | { command: 'other' };

function parse(args: string[], output = bufferedOutput()) {
  const outcome = parseCommandLine<Chosen>(
    { name: 'npm run demo --', description: 'A demonstration program.', args, output },
    (program, choose) => {
      addDatabaseOptions(
        program
          .command('load')
          .description('Load things.')
          .requiredOption('--count <n>', 'how many things', wholeNumber(1, 10)),
        { variable: 'DEMO_DB_SCHEMA', fallback: 'demo', description: "the demo's schema" },
      ).action((options: { count: number; databaseUrl: string; schema: string }) =>
        choose({ command: 'load', ...options }),
      );
      program
        .command('other')
        .description('Something else.')
        .action(() => choose({ command: 'other' }));
    },
  );
  return { outcome, output };
}

describe('the shared command-line convention', () => {
  const saved = { ...process.env };
  beforeEach(() => {
    delete process.env['DATABASE_URL'];
    delete process.env['DEMO_DB_SCHEMA'];
  });
  afterEach(() => {
    process.env = { ...saved };
  });

  it('answers a good command line with what to run, defaults filled in', () => {
    expect(parse(['load', '--count', '3']).outcome).toEqual({
      run: {
        command: 'load',
        count: 3,
        databaseUrl: 'postgres://postgres@127.0.0.1:5432/postgres',
        schema: 'demo',
      },
    });
    expect(parse(['other']).outcome).toEqual({ run: { command: 'other' } });
  });

  it('takes the database and schema from the environment when not given, and the options over both', () => {
    process.env['DATABASE_URL'] = 'postgres://u@db.example:5433/x';
    process.env['DEMO_DB_SCHEMA'] = 'from_env';
    expect(parse(['load', '--count', '1']).outcome).toMatchObject({
      run: { databaseUrl: 'postgres://u@db.example:5433/x', schema: 'from_env' },
    });
    expect(
      parse(['load', '--count', '1', '--schema', 'given', '--database-url', 'postgres://127.0.0.1/y']).outcome,
    ).toMatchObject({ run: { databaseUrl: 'postgres://127.0.0.1/y', schema: 'given' } });
  });

  it.each([
    [['load', '--count', '3', '--frobnicate'], "error: unknown option '--frobnicate'"],
    [['load'], "error: required option '--count <n>' not specified"],
    [
      ['load', '--count', '0'],
      "error: option '--count <n>' argument '0' is invalid. It must be a whole number from 1 to 10.",
    ],
    [['load', '--count', '2.5'], 'It must be a whole number from 1 to 10.'],
    [['load', '--count', '1e1'], 'It must be a whole number from 1 to 10.'],
    [['load', '--count', '11'], 'It must be a whole number from 1 to 10.'],
    [['load', '--count', '1', '--schema', 'Robert"; DROP'], "error: option '--schema <name>' argument"],
    [['unload'], "error: unknown command 'unload'"],
    [['other', 'extra'], 'error: too many arguments'],
  ])('refuses %j with exit code 2 and one clear error line, not a stack trace', (args, message) => {
    const { outcome, output } = parse(args);
    expect(outcome).toEqual({ exitCode: 2 });
    expect(output.err.split('\n')[0]).toContain(message);
    expect(output.err).toContain('(npm run demo -- --help describes the options)');
    expect(output.err).not.toMatch(/^\s+at /m);
    expect(output.out).toBe('');
  });

  it('refuses a bad schema from the environment, naming the variable', () => {
    process.env['DEMO_DB_SCHEMA'] = 'Bad-Schema';
    const { outcome, output } = parse(['load', '--count', '1']);
    expect(outcome).toEqual({ exitCode: 2 });
    expect(output.err).toContain("from env 'DEMO_DB_SCHEMA' is invalid. It must be a lower-case SQL identifier.");
  });

  it('shows help on stderr and exits 2 when no command is given', () => {
    const { outcome, output } = parse([]);
    expect(outcome).toEqual({ exitCode: 2 });
    expect(output.err).toContain('Usage: npm run demo -- [options] [command]');
  });

  it('answers --help and -h with exit code 0 and every command and option described', () => {
    for (const flag of ['--help', '-h']) {
      const { outcome, output } = parse([flag]);
      expect(outcome).toEqual({ exitCode: 0 });
      expect(output.err).toBe('');
      for (const text of [
        'A demonstration program.',
        'Load things.',
        'Something else.',
        '--count <n> how many things',
        "the demo's schema",
        'env: DEMO_DB_SCHEMA',
        'env: DATABASE_URL',
      ]) {
        expect(output.out.replace(/\s+/g, ' ')).toContain(text);
      }
    }
    const { outcome, output } = parse(['load', '--help']);
    expect(outcome).toEqual({ exitCode: 0 });
    expect(output.out).toContain('Usage: npm run demo -- load [options]');
    expect(output.out).toContain('how many things');
  });

  it('exits with the usage code without running anything when the command line was refused', async () => {
    const run = jest.fn(() => Promise.resolve(0));
    const before = process.exitCode;
    try {
      runCommandLine<Chosen>({ exitCode: 2 }, run, String);
      await new Promise((resolve) => setImmediate(resolve));
      expect(process.exitCode).toBe(2);
      expect(run).not.toHaveBeenCalled();
    } finally {
      process.exitCode = before;
    }
  });
});
