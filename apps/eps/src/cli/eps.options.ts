// The command line of `npm run eps`: what each command takes, parsed and checked before anything runs.
import {
  addDatabaseOptions,
  matching,
  parseCommandLine,
  satisfying,
  wholeNumber,
  type CliOutcome,
  type CliOutput,
  type DatabaseOptions,
} from '@platform/shared-config';
import { isValidNhsNumber } from '@platform/shared-identifiers';
import type { Command } from 'commander';

export type EpsCommand =
  | ({ command: 'keygen'; sdsUserId: string; dir: string } & DatabaseOptions)
  | { command: 'sign-bundle'; bundle: string; key: string; out?: string }
  | { command: 'sign-digest'; digest: string; key: string; keyName: string }
  | { command: 'bundles'; count: number; nhsNumber: string; key: string; out: string; pharmacy: string | null }
  | ({ command: 'seed'; prescriptions: number; seed: number } & DatabaseOptions);

const SCHEMA = { variable: 'EPS_DB_SCHEMA', fallback: 'eps', description: "EPS's schema" };
const SDS_USER_ID = matching(/^\d{6,20}$/, 'the digits of an SDS user ID (6 to 20)');

const NHS_NUMBER = satisfying(isValidNhsNumber, 'a valid NHS number (10 digits, the last a check digit)');

/** `npm run eps -- <command> [options]`, checked: what to run, or the exit code after help or an error. */
export function parseEpsCommandLine(args: readonly string[], output?: CliOutput): CliOutcome<EpsCommand> {
  return parseCommandLine<EpsCommand>(
    {
      name: 'npm run eps --',
      description:
        'What a prescribing system does with keys and signatures, for local runs, demos and tests against EPS.',
      args,
      output,
    },
    (program, choose) => {
      addDatabaseOptions(
        program
          .command('keygen')
          .summary("a prescriber's key pair, the public key registered with EPS")
          .description(
            "Make an RSA-2048 key pair for a prescriber: the private key goes to <dir>/<id>.key.pem (readable by you only), the public key is registered in EPS's database as the prescriber's current key, recorded (the operating-system user as who) and its event left in the outbox. Earlier keys stay valid for the prescriptions they signed; new prescriptions need this one.",
          )
          .requiredOption('--sds-user-id <id>', "the prescriber's SDS user ID", SDS_USER_ID)
          .option('--dir <dir>', 'where the key files go', 'tmp/eps-keys'),
        SCHEMA,
      ).action((options: { sdsUserId: string; dir: string } & DatabaseOptions) =>
        choose({ command: 'keygen', ...options }),
      );

      program
        .command('sign')
        .summary('sign a prescription-order Bundle, or a digest $prepare returned')
        .description(
          "Sign as a prescribing system does after $prepare. With --bundle: compute the digest of a prescription-order Bundle, sign it and put the signature in the Bundle's Provenance (printed, or written to --out). With --digest: print Provenance.signature.data for a digest $prepare returned.",
        )
        .requiredOption('--key <file>', "the prescriber's private key (PEM), as keygen writes it")
        .option('--bundle <file>', 'a prescription-order Bundle (JSON) to sign')
        .option(
          '--digest <base64>',
          'a digest that $prepare returned, to sign instead of a Bundle (wins over --bundle)',
        )
        .option('--key-name <id>', 'with --digest: the KeyName put in the signature', 'prescriber')
        .option('--out <file>', 'with --bundle: write the signed Bundle here instead of printing it')
        .action(function (
          this: Command,
          options: { key: string; bundle?: string; digest?: string; keyName: string; out?: string },
        ) {
          if (options.digest !== undefined) {
            choose({ command: 'sign-digest', digest: options.digest, key: options.key, keyName: options.keyName });
          } else if (options.bundle !== undefined) {
            choose({ command: 'sign-bundle', bundle: options.bundle, key: options.key, out: options.out });
          } else {
            this.error('error: sign needs --bundle <file> or --digest <base64>');
          }
        });

      program
        .command('bundles')
        .summary('signed prescription-order Bundles for load tests')
        .description(
          'Write new signed prescription-order Bundles (one item each, fresh IDs), one JSON per line, for load tests.',
        )
        .requiredOption('--count <n>', 'how many Bundles (1 to 1000000)', wholeNumber(1, 1_000_000))
        .requiredOption('--nhs-number <n>', 'the patient: a living patient PDS holds', NHS_NUMBER)
        .requiredOption('--key <file>', "the prescriber's private key (PEM)")
        .requiredOption('--out <file>', 'the file to write')
        .option('--pharmacy <ods>', 'nominate this pharmacy (ODS code) on every prescription')
        .action((options: { count: number; nhsNumber: string; key: string; out: string; pharmacy?: string }) =>
          choose({ command: 'bundles', ...options, pharmacy: options.pharmacy ?? null }),
        );

      addDatabaseOptions(
        program
          .command('seed')
          .summary('synthetic prescriptions loaded with COPY')
          .description(
            'Load synthetic prescriptions with COPY (volume for benchmarks: their signatures are placeholders).',
          )
          .requiredOption('--prescriptions <n>', 'how many (1 to 20000000)', wholeNumber(1, 20_000_000))
          .option('--seed <s>', 'the same seed always makes the same prescriptions', wholeNumber(0, 2 ** 32 - 1), 1),
        SCHEMA,
      ).action((options: { prescriptions: number; seed: number } & DatabaseOptions) =>
        choose({ command: 'seed', ...options }),
      );
    },
  );
}
