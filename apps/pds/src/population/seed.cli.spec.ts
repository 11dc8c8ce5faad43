import { bufferedOutput } from '@platform/shared-config';
import { parseSeedCommandLine } from './seed.cli';

function parse(...args: string[]) {
  const output = bufferedOutput();
  return { outcome: parseSeedCommandLine(args, output), output };
}

/** The first line written to stderr, after checking the command line was refused as a usage error. */
function refusal(...args: string[]): string {
  const { outcome, output } = parse(...args);
  expect(outcome).toEqual({ exitCode: 2 });
  expect(output.err).not.toMatch(/^\s+at /m);
  return output.err.split('\n')[0] ?? '';
}

describe('npm run seed: the command line', () => {
  const saved = { ...process.env };
  beforeEach(() => {
    delete process.env['DATABASE_URL'];
    delete process.env['PDS_DB_SCHEMA'];
  });
  afterEach(() => {
    process.env = { ...saved };
  });

  it('reads the options the benchmarks pass, and the defaults', () => {
    expect(parse('--patients', '1000000').outcome).toEqual({
      run: { patients: 1_000_000, seed: 1, databaseUrl: 'postgres://postgres@127.0.0.1:5432/postgres', schema: 'pds' },
    });
    expect(
      parse('--patients', '100', '--seed', '0', '--database-url', 'postgres://h:5433/d', '--schema', 'pds_bench')
        .outcome,
    ).toEqual({ run: { patients: 100, seed: 0, databaseUrl: 'postgres://h:5433/d', schema: 'pds_bench' } });
    process.env['PDS_DB_SCHEMA'] = 'pds_env';
    process.env['DATABASE_URL'] = 'postgres://env/db';
    expect(parse('--patients', '1').outcome).toMatchObject({
      run: { schema: 'pds_env', databaseUrl: 'postgres://env/db' },
    });
  });

  it('refuses bad options with exit code 2 and says which', () => {
    expect(refusal()).toBe("error: required option '--patients <n>' not specified");
    expect(refusal('--patients', '0')).toBe(
      "error: option '--patients <n>' argument '0' is invalid. It must be a whole number from 1 to 100000000.",
    );
    expect(refusal('--patients', '100000001')).toContain('It must be a whole number from 1 to 100000000.');
    expect(refusal('--patients', '10', '--seed', '4294967296')).toContain(
      'It must be a whole number from 0 to 4294967295.',
    );
    expect(refusal('--patients', '10', '--schema', 'public; drop')).toContain(
      'It must be a lower-case SQL identifier.',
    );
    expect(refusal('--patients', '10', '--prescriptions', '5')).toBe("error: unknown option '--prescriptions'");
    expect(refusal('--patients', '10', 'extra')).toContain('error: too many arguments');
  });

  it('describes every option in --help', () => {
    const { outcome, output } = parse('--help');
    expect(outcome).toEqual({ exitCode: 0 });
    const help = output.out.replace(/\s+/g, ' ');
    for (const option of [
      'Usage: npm run seed -- [options]',
      'The tables are locked while the load runs',
      '--patients <n> how many patient records to create (1 to 100000000)',
      '--seed <s> the same seed always creates the same population (default: 1)',
      '--database-url <url> PostgreSQL connection URL',
      '--schema <name> the pds schema to fill; created and migrated if needed (default: "pds", env: PDS_DB_SCHEMA)',
    ]) {
      expect(help).toContain(option);
    }
  });
});
