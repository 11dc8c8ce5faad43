import { bufferedOutput } from '@platform/shared-config';
import { parseN3CommandLine } from './n3.options';

function parse(...args: string[]) {
  const output = bufferedOutput();
  return { outcome: parseN3CommandLine(args, output), output };
}

/** The first line written to stderr, after checking the command line was refused as a usage error. */
function refusal(...args: string[]): string {
  const { outcome, output } = parse(...args);
  expect(outcome).toEqual({ exitCode: 2 });
  expect(output.err).not.toMatch(/^\s+at /m);
  return output.err.split('\n')[0] ?? '';
}

describe('npm run n3: the command line', () => {
  const saved = { ...process.env };
  beforeEach(() => {
    delete process.env['DATABASE_URL'];
    delete process.env['N3_DB_SCHEMA'];
  });
  afterEach(() => {
    process.env = { ...saved };
  });

  it('reads import as the README and the benchmark give it', () => {
    expect(parse('import', 'epraccur.csv', '--role', 'gp-practice').outcome).toEqual({
      run: {
        command: 'import',
        file: 'epraccur.csv',
        role: 'gp-practice',
        skipInvalid: false,
        databaseUrl: 'postgres://postgres@127.0.0.1:5432/postgres',
        schema: 'n3',
      },
    });
    process.env['N3_DB_SCHEMA'] = 'n3_env';
    expect(
      parse(
        'import',
        'x.csv',
        '--role',
        'pharmacy',
        '--skip-invalid',
        '--schema',
        'n3_bench_import',
        '--database-url',
        'postgres://h/d',
      ).outcome,
    ).toMatchObject({
      run: { role: 'pharmacy', skipInvalid: true, schema: 'n3_bench_import', databaseUrl: 'postgres://h/d' },
    });
    expect(parse('import', 'x.csv', '--role', 'pharmacy').outcome).toMatchObject({ run: { schema: 'n3_env' } });
  });

  it('reads seed and extract with their defaults', () => {
    expect(parse('seed', '--connections', '50000').outcome).toEqual({
      run: {
        command: 'seed',
        connections: 50000,
        seed: 1,
        databaseUrl: 'postgres://postgres@127.0.0.1:5432/postgres',
        schema: 'n3',
      },
    });
    expect(parse('seed', '--connections', '10', '--organisations', '4', '--seed', '7').outcome).toMatchObject({
      run: { connections: 10, organisations: 4, seed: 7 },
    });
    expect(parse('extract', '--organisations', '50000', '--out', 'extract.csv').outcome).toEqual({
      run: { command: 'extract', organisations: 50000, out: 'extract.csv', seed: 1 },
    });
  });

  it('refuses bad options with exit code 2 and says which', () => {
    expect(refusal('import', 'x.csv')).toBe("error: required option '--role <role>' not specified");
    expect(refusal('import', 'x.csv', '--role', 'dentist')).toBe(
      "error: option '--role <role>' argument 'dentist' is invalid. Allowed choices are gp-practice, pharmacy, nhs-trust, trust-site, commissioner, other.",
    );
    expect(refusal('import', '--role', 'pharmacy')).toBe("error: missing required argument 'file'");
    expect(refusal('import', 'x.csv', '--role', 'pharmacy', '--schema', 'n3; drop')).toContain(
      'It must be a lower-case SQL identifier.',
    );
    expect(refusal('seed')).toBe("error: required option '--connections <n>' not specified");
    expect(refusal('seed', '--connections', '524289')).toContain('It must be a whole number from 1 to 524288.');
    expect(refusal('seed', '--connections', '10', '--organisations', '0')).toContain(
      'It must be a whole number from 1 to 99999.',
    );
    expect(refusal('extract', '--organisations', '100000', '--out', 'x')).toContain(
      'It must be a whole number from 1 to 99999.',
    );
    expect(refusal('extract', '--organisations', '10')).toBe("error: required option '--out <file>' not specified");
    expect(refusal('extract', '--organisations', '10', '--out', 'x', '--seed', 'abc')).toContain("'--seed <s>'");
    expect(refusal('seed', '--connections', '10', '--skip-invalid')).toBe("error: unknown option '--skip-invalid'");
    expect(refusal('export')).toContain("error: unknown command 'export'");
    expect(refusal()).toBe('Usage: npm run n3 -- [options] [command]');
  });

  it('reports a refused environment schema under the variable that holds it', () => {
    process.env['N3_DB_SCHEMA'] = 'N3';
    expect(refusal('seed', '--connections', '1')).toContain("from env 'N3_DB_SCHEMA' is invalid");
  });

  it('describes every command and option in --help', () => {
    const { outcome, output } = parse('-h');
    expect(outcome).toEqual({ exitCode: 0 });
    const help = output.out.replace(/\s+/g, ' ');
    expect(help).toContain('Usage: npm run n3 -- import [options] <file>');
    expect(help).toContain('Usage: npm run n3 -- seed [options]');
    expect(help).toContain('Usage: npm run n3 -- extract [options]');
    for (const option of [
      'file the extract (CSV)',
      '--role <role> the role of every organisation in the extract (choices: "gp-practice", "pharmacy"',
      '--skip-invalid import the good rows',
      '--connections <n> how many connections',
      '--organisations <n> how many organisations they belong to',
      '--organisations <n> how many organisations (1 to 99999)',
      '--out <file> the file to write',
      '--seed <s> the same seed always generates the same data',
      '--database-url <url> PostgreSQL connection URL',
      "--schema <name> the registry's schema",
    ]) {
      expect(help).toContain(option);
    }
  });
});
