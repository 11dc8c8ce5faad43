// `npm run seed -- --patients N [--seed S] [--database-url URL] [--schema pds]`: a synthetic population for
// PDS, bulk-loaded with COPY (migrations run first). Deterministic for a given seed. `--help` lists the options.
import 'reflect-metadata';
import { Presets, SingleBar } from 'cli-progress';
import {
  addDatabaseOptions,
  parseCommandLine,
  runCommandLine,
  wholeNumber,
  type CliOutcome,
  type CliOutput,
  type DatabaseOptions,
} from '@platform/shared-config';
import { loadPopulation } from './population-loader';

export interface SeedCommand extends DatabaseOptions {
  patients: number;
  seed: number;
}

/** `npm run seed -- [options]`, checked: what to seed, or the exit code after help or an error. */
export function parseSeedCommandLine(args: readonly string[], output?: CliOutput): CliOutcome<SeedCommand> {
  return parseCommandLine<SeedCommand>(
    {
      name: 'npm run seed --',
      description:
        'Create a synthetic population for PDS, bulk-loaded with COPY (migrations run first). The tables are locked while the load runs: use a schema no running pds serves, or stop pds first.',
      args,
      output,
    },
    (program, choose) => {
      addDatabaseOptions(
        program
          .requiredOption(
            '--patients <n>',
            'how many patient records to create (1 to 100000000)',
            wholeNumber(1, 100_000_000),
          )
          .option('--seed <s>', 'the same seed always creates the same population', wholeNumber(0, 2 ** 32 - 1), 1),
        {
          variable: 'PDS_DB_SCHEMA',
          fallback: 'pds',
          description: 'the pds schema to fill; created and migrated if needed',
        },
      ).action((options: SeedCommand) => choose(options));
    },
  );
}

/** Where the data goes, without any password the URL may hold. */
function describeTarget(url: string, schema: string): string {
  try {
    const parsed = new URL(url);
    return `schema ${schema} of ${parsed.hostname}:${parsed.port || 5432}${parsed.pathname}`;
  } catch {
    return `schema ${schema}`;
  }
}

async function main({ patients, seed, databaseUrl, schema }: SeedCommand): Promise<number> {
  process.stdout.write(
    `seeding ${patients.toLocaleString('en-GB')} patients (seed ${seed}) into ${describeTarget(databaseUrl, schema)}\n`,
  );
  const bar = new SingleBar(
    {
      format: 'patients |{bar}| {percentage}% | {value}/{total} | {speed} per s | ETA {eta_formatted}',
      hideCursor: true,
      noTTYOutput: true,
      notTTYSchedule: 5000,
      etaBuffer: 50,
      stream: process.stdout,
    },
    Presets.shades_classic,
  );
  let barRunning = true;
  const stopBar = (): void => {
    if (barRunning) bar.stop();
    barRunning = false;
  };
  const copyStarted = performance.now();
  bar.start(patients, 0, { speed: 0 });
  const result = await loadPopulation({
    databaseUrl,
    schema,
    patients,
    seed,
    onProgress: (written) => {
      const seconds = (performance.now() - copyStarted) / 1000;
      bar.update(written, { speed: Math.round(written / Math.max(seconds, 0.001)).toLocaleString('en-GB') });
    },
    onPhase: (phase) => {
      if (phase === 'indexes') {
        stopBar();
        process.stdout.write('building the search indexes\n');
      } else if (phase === 'analyze') {
        process.stdout.write('analysing the tables\n');
      }
    },
  }).finally(stopBar);
  const { copy, indexes, analyze } = result.phases;
  process.stdout.write(
    `seeded ${result.patients.toLocaleString('en-GB')} patients in ${result.seconds.toFixed(1)} s ` +
      `(${Math.round(result.patients / result.seconds).toLocaleString('en-GB')} patients/s): ` +
      `generate + COPY ${copy.toFixed(1)} s, indexes ${indexes.toFixed(1)} s, analyse ${analyze.toFixed(1)} s\n`,
  );
  return 0;
}

// Run as a program (npm run seed); imported (by its test), it only defines the command line.
if (require.main === module) {
  runCommandLine(
    parseSeedCommandLine(process.argv.slice(2)),
    main,
    (error) => `seed failed: ${error instanceof Error ? error.message : String(error)}`,
  );
}
