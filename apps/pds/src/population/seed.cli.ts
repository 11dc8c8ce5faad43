// `npm run seed -- --patients N [--seed S] [--database-url URL] [--schema pds]`: a synthetic population for
// PDS, bulk-loaded with COPY (migrations run first). Deterministic for a given seed.
import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { Presets, SingleBar } from 'cli-progress';
import { loadPopulation } from './population-loader';

const USAGE = `usage: npm run seed -- --patients <n> [--seed <s>] [--database-url <url>] [--schema <name>]

  --patients <n>        how many patient records to create (1 to 100000000)
  --seed <s>            the same seed always creates the same population (default 1)
  --database-url <url>  PostgreSQL (default: DATABASE_URL, else postgres://postgres@127.0.0.1:5432/postgres)
  --schema <name>       the pds schema to fill (default: PDS_DB_SCHEMA, else pds); created and migrated if needed

The tables are locked while the load runs: use a schema no running pds serves, or stop pds first.`;

function fail(message: string): never {
  process.stderr.write(`${message}\n\n${USAGE}\n`);
  process.exit(2);
}

function wholeNumber(name: string, raw: string | undefined, fallback: number, max: number): number {
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) > max) fail(`--${name} must be a whole number from 0 to ${max}`);
  return Number(raw);
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

async function main(): Promise<void> {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({
      args: process.argv.slice(2),
      options: {
        patients: { type: 'string' },
        seed: { type: 'string' },
        'database-url': { type: 'string' },
        schema: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (error) {
    fail(error instanceof Error ? error.message : String(error));
  }
  if (values['help'] === true) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (values['patients'] === undefined) fail('--patients is required');
  const patients = wholeNumber('patients', values['patients'] as string, 0, 100_000_000);
  if (patients < 1) fail('--patients must be at least 1');
  const seed = wholeNumber('seed', values['seed'] as string | undefined, 1, 2 ** 32 - 1);
  const databaseUrl =
    (values['database-url'] as string | undefined) ??
    process.env['DATABASE_URL'] ??
    'postgres://postgres@127.0.0.1:5432/postgres';
  const schema = (values['schema'] as string | undefined) ?? process.env['PDS_DB_SCHEMA'] ?? 'pds';
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) fail('--schema must be a lower-case SQL identifier');

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
}

main().catch((error: unknown) => {
  process.stderr.write(`seed failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
