// The command line of `npm run n3`: what each command takes, parsed and checked before anything runs.
import { ORGANISATION_ROLE_NAMES, type OrganisationRole } from '@platform/contracts-n3';
import {
  addDatabaseOptions,
  parseCommandLine,
  wholeNumber,
  type CliOutcome,
  type CliOutput,
  type DatabaseOptions,
} from '@platform/shared-config';
import { Option } from 'commander';

export type N3Command =
  | ({ command: 'import'; file: string; role: OrganisationRole; skipInvalid: boolean } & DatabaseOptions)
  | ({ command: 'seed'; connections: number; organisations?: number; seed: number } & DatabaseOptions)
  | { command: 'extract'; organisations: number; out: string; seed: number };

const SCHEMA = {
  variable: 'N3_DB_SCHEMA',
  fallback: 'n3',
  description: "the registry's schema; created and migrated if needed",
};
const SEED_DESCRIPTION = 'the same seed always generates the same data';
const seedNumber = wholeNumber(0, 2 ** 32 - 1);

/** `npm run n3 -- <command> [options]`, checked: what to run, or the exit code after help or an error. */
export function parseN3CommandLine(args: readonly string[], output?: CliOutput): CliOutcome<N3Command> {
  return parseCommandLine<N3Command>(
    {
      name: 'npm run n3 --',
      description:
        "The N3 registry's operator commands, straight against its database (the service need not be running; migrations run first).",
      args,
      output,
    },
    (program, choose) => {
      addDatabaseOptions(
        program
          .command('import')
          .summary('import an ODS extract, with a progress bar')
          .description(
            'Import an ODS extract (the ODS standard 27-column CSV, e.g. epraccur.csv) as organisations of one role. All or nothing: one bad row rejects the file and every bad line is listed, unless --skip-invalid (then the good rows are imported).',
          )
          .argument('<file>', 'the extract (CSV)')
          .addOption(
            new Option('--role <role>', 'the role of every organisation in the extract')
              .choices(ORGANISATION_ROLE_NAMES)
              .makeOptionMandatory(),
          )
          .option('--skip-invalid', 'import the good rows and list the bad ones, instead of rejecting the file', false),
        SCHEMA,
      ).action((file: string, options: { role: OrganisationRole; skipInvalid: boolean } & DatabaseOptions) =>
        choose({ command: 'import', file, ...options }),
      );

      addDatabaseOptions(
        program
          .command('seed')
          .summary('load a generated estate')
          .description(
            'Load a generated estate: organisations Z00001..., connections, IPv4 /27 and some IPv6 /56 blocks.',
          )
          .requiredOption('--connections <n>', 'how many connections (1 to 524288)', wholeNumber(1, 524_288))
          .option(
            '--organisations <n>',
            'how many organisations they belong to (1 to 99999; default: from the connections)',
            wholeNumber(1, 99_999),
          )
          .option('--seed <s>', SEED_DESCRIPTION, seedNumber, 1),
        SCHEMA,
      ).action((options: { connections: number; organisations?: number; seed: number } & DatabaseOptions) =>
        choose({ command: 'seed', ...options }),
      );

      program
        .command('extract')
        .summary('write a synthetic ODS extract')
        .description('Write a synthetic ODS extract, for trying or benchmarking the import.')
        .requiredOption('--organisations <n>', 'how many organisations (1 to 99999)', wholeNumber(1, 99_999))
        .requiredOption('--out <file>', 'the file to write')
        .option('--seed <s>', SEED_DESCRIPTION, seedNumber, 1)
        .action((options: { organisations: number; out: string; seed: number }) =>
          choose({ command: 'extract', ...options }),
        );
    },
  );
}
