import { bufferedOutput } from '@platform/shared-config';
import { parseEpsCommandLine } from './eps.options';

function parse(...args: string[]) {
  const output = bufferedOutput();
  return { outcome: parseEpsCommandLine(args, output), output };
}

/** The first line written to stderr, after checking the command line was refused as a usage error. */
function refusal(...args: string[]): string {
  const { outcome, output } = parse(...args);
  expect(outcome).toEqual({ exitCode: 2 });
  expect(output.err).not.toMatch(/^\s+at /m);
  return output.err.split('\n')[0] ?? '';
}

describe('npm run eps: the command line', () => {
  const saved = { ...process.env };
  beforeEach(() => {
    delete process.env['DATABASE_URL'];
    delete process.env['EPS_DB_SCHEMA'];
  });
  afterEach(() => {
    process.env = { ...saved };
  });

  it('reads keygen with its defaults, and the schema from EPS_DB_SCHEMA', () => {
    expect(parse('keygen', '--sds-user-id', '555086689106').outcome).toEqual({
      run: {
        command: 'keygen',
        sdsUserId: '555086689106',
        dir: 'tmp/eps-keys',
        databaseUrl: 'postgres://postgres@127.0.0.1:5432/postgres',
        schema: 'eps',
      },
    });
    process.env['EPS_DB_SCHEMA'] = 'eps_test';
    process.env['DATABASE_URL'] = 'postgres://postgres@127.0.0.1:5432/test';
    expect(parse('keygen', '--sds-user-id', '555086689106', '--dir', 'keys').outcome).toMatchObject({
      run: { dir: 'keys', schema: 'eps_test', databaseUrl: 'postgres://postgres@127.0.0.1:5432/test' },
    });
  });

  it('reads sign with a Bundle or with a digest (the digest wins, as before)', () => {
    expect(parse('sign', '--bundle', 'order.json', '--key', 'k.pem', '--out', 'signed.json').outcome).toEqual({
      run: { command: 'sign-bundle', bundle: 'order.json', key: 'k.pem', out: 'signed.json' },
    });
    expect(parse('sign', '--digest', 'PFNpZ25lZEluZm8+', '--key', 'k.pem').outcome).toEqual({
      run: { command: 'sign-digest', digest: 'PFNpZ25lZEluZm8+', key: 'k.pem', keyName: 'prescriber' },
    });
    expect(parse('sign', '--bundle', 'b.json', '--digest', 'AA==', '--key', 'k', '--key-name', '1').outcome).toEqual({
      run: { command: 'sign-digest', digest: 'AA==', key: 'k', keyName: '1' },
    });
  });

  it('reads bundles and seed as the benchmark runs them', () => {
    expect(
      parse('bundles', '--count', '25', '--nhs-number', '9449304130', '--key', 'k.pem', '--out', 'b.ndjson').outcome,
    ).toEqual({
      run: { command: 'bundles', count: 25, nhsNumber: '9449304130', key: 'k.pem', out: 'b.ndjson', pharmacy: null },
    });
    expect(
      parse('bundles', '--count', '1', '--nhs-number', '9449304130', '--key', 'k', '--out', 'o', '--pharmacy', 'VNE51')
        .outcome,
    ).toMatchObject({ run: { pharmacy: 'VNE51' } });
    expect(
      parse('seed', '--prescriptions', '1000', '--schema', 'eps_bench', '--database-url', 'postgres://h/db').outcome,
    ).toEqual({
      run: { command: 'seed', prescriptions: 1000, seed: 1, schema: 'eps_bench', databaseUrl: 'postgres://h/db' },
    });
  });

  it('refuses bad options with exit code 2 and says which', () => {
    expect(refusal('keygen', '--sds-user-id', 'dr-who')).toBe(
      "error: option '--sds-user-id <id>' argument 'dr-who' is invalid. It must be the digits of an SDS user ID (6 to 20).",
    );
    expect(refusal('keygen')).toBe("error: required option '--sds-user-id <id>' not specified");
    expect(refusal('keygen', '--sds-user-id', '555086689106', '--schema', 'EPS')).toContain(
      'It must be a lower-case SQL identifier.',
    );
    expect(refusal('sign', '--key', 'k.pem')).toBe('error: sign needs --bundle <file> or --digest <base64>');
    expect(refusal('sign', '--bundle', 'b.json')).toBe("error: required option '--key <file>' not specified");
    // A wrong check digit: 9449304131 is 9449304130 with its last digit changed.
    expect(refusal('bundles', '--count', '1', '--nhs-number', '9449304131', '--key', 'k', '--out', 'o')).toContain(
      'It must be a valid NHS number',
    );
    expect(
      refusal('bundles', '--count', '1000001', '--nhs-number', '9449304130', '--key', 'k', '--out', 'o'),
    ).toContain('It must be a whole number from 1 to 1000000.');
    expect(refusal('bundles', '--count', '1', '--nhs-number', '9449304130', '--key', 'k')).toBe(
      "error: required option '--out <file>' not specified",
    );
    expect(refusal('seed', '--prescriptions', 'lots')).toContain('It must be a whole number from 1 to 20000000.');
    expect(refusal('seed', '--prescriptions', '5', '--seed', '-1')).toContain("'--seed <s>'");
    expect(refusal('seed', '--prescriptions', '5', '--patients', '5')).toBe("error: unknown option '--patients'");
    expect(refusal('publish')).toBe("error: unknown command 'publish'");
    expect(refusal()).toBe('Usage: npm run eps -- [options] [command]');
  });

  it('describes every command and option in --help', () => {
    const { outcome, output } = parse('--help');
    expect(outcome).toEqual({ exitCode: 0 });
    const help = output.out.replace(/\s+/g, ' ');
    for (const command of ['keygen', 'sign', 'bundles', 'seed']) {
      expect(help).toContain(`Usage: npm run eps -- ${command} [options]`);
    }
    for (const option of [
      "--sds-user-id <id> the prescriber's SDS user ID",
      '--dir <dir> where the key files go',
      "--key <file> the prescriber's private key",
      '--bundle <file> a prescription-order Bundle',
      '--digest <base64> a digest that $prepare returned',
      '--key-name <id> with --digest',
      '--out <file> with --bundle',
      '--count <n> how many Bundles',
      '--nhs-number <n> the patient',
      '--pharmacy <ods> nominate this pharmacy',
      '--prescriptions <n> how many',
      '--seed <s> the same seed',
      '--database-url <url> PostgreSQL connection URL',
      "--schema <name> EPS's schema",
    ]) {
      expect(help).toContain(option);
    }
  });
});
