// The command line of `npm run ers`: what each command takes, parsed and checked before anything runs.
import {
  addDatabaseOptions,
  matching,
  parseCommandLine,
  wholeNumber,
  type CliOutcome,
  type CliOutput,
  type DatabaseOptions,
} from '@platform/shared-config';

export type ErsCommand =
  | ({
      command: 'seed';
      services: number;
      slots: number;
      referrals: number;
      seed: number;
      worklistProvider: string;
      worklistReferrals: number;
    } & DatabaseOptions)
  | ({ command: 'postcodes'; file: string } & DatabaseOptions);

const SCHEMA = { variable: 'ERS_DB_SCHEMA', fallback: 'ers', description: "e-referrals's schema" };

/** `npm run ers -- <command> [options]`, checked: what to run, or the exit code after help or an error. */
export function parseErsCommandLine(args: readonly string[], output?: CliOutput): CliOutcome<ErsCommand> {
  return parseCommandLine<ErsCommand>(
    {
      name: 'npm run ers --',
      description:
        'Load the e-Referral Service: a national-scale generated directory and referrals, or a postcode file.',
      args,
      output,
    },
    (program, choose) => {
      addDatabaseOptions(
        program
          .command('seed')
          .summary('a generated national directory (services, slots) and referrals, with progress')
          .description(
            "Generate services across England (from the sample and synthetic postcodes), their slots from tomorrow, and referrals (NOT_BOOKED, except --worklist-referrals awaiting triage at --worklist-provider's triage service), inside PostgreSQL. Run it against e-referrals's migrated schema (start the service once first).",
          )
          .requiredOption('--services <n>', 'how many services (1 to 100000)', wholeNumber(1, 100_000))
          .requiredOption('--slots <n>', 'how many slots in all (0 to 50000000)', wholeNumber(0, 50_000_000))
          .requiredOption('--referrals <n>', 'how many referrals (0 to 20000000)', wholeNumber(0, 20_000_000))
          .option(
            '--worklist-provider <ods>',
            'the trust whose worklist fills up',
            matching(/^[A-Z0-9]{3,6}$/, 'an ODS code'),
            'RR8',
          )
          .option('--worklist-referrals <n>', 'open referrals on its worklist', wholeNumber(0, 1_000_000), 5000)
          .option('--seed <s>', 'the same seed always makes the same directory', wholeNumber(0, 2 ** 32 - 1), 1),
        SCHEMA,
      ).action(
        (
          options: {
            services: number;
            slots: number;
            referrals: number;
            seed: number;
            worklistProvider: string;
            worklistReferrals: number;
          } & DatabaseOptions,
        ) => choose({ command: 'seed', ...options }),
      );

      addDatabaseOptions(
        program
          .command('postcodes')
          .summary('load a postcode file (ONS Postcode Directory layout: pcds, lat, long)')
          .description(
            'Load the positions of a postcode file in the ONS Postcode Directory layout (a header naming pcds, lat and long; other columns ignored) into the postcode table; postcodes already known keep their position.',
          )
          .requiredOption('--file <csv>', 'the CSV file'),
        SCHEMA,
      ).action((options: { file: string } & DatabaseOptions) => choose({ command: 'postcodes', ...options }));
    },
  );
}
