// `npm run n3 -- <command>`: the N3 registry's operator commands, straight against its database (the service
// need not be running; migrations run first).
//   import FILE --role R [--skip-invalid]   an ODS extract (standard 27-column CSV), with a progress bar
//   seed --connections N [--seed S]         a generated estate: organisations, connections, IP blocks
//   extract --organisations N --out FILE    a synthetic ODS extract (for trying or benchmarking the import)
import 'reflect-metadata';
import { createReadStream, createWriteStream, statSync } from 'node:fs';
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import { Presets, SingleBar } from 'cli-progress';
import { ORGANISATION_ROLE_NAMES, type OrganisationRole } from '@platform/contracts-n3';
import { PlatformError } from '@platform/shared-errors';
import { withTransaction } from '@platform/shared-persistence';
import { openRegistryDatabase } from '../database/database';
import { estateOrganisation, odsExtractLine } from '../estate/estate';
import { loadEstate } from '../estate/estate-loader';
import { importExtract } from '../imports/import-extract';
import { OrganisationRepository } from '../organisations/organisation.repository';

const USAGE = `usage: npm run n3 -- <command> [options]

  import <file> --role <role> [--skip-invalid]
        Import an ODS extract (the ODS standard 27-column CSV, e.g. epraccur.csv) as organisations of one
        role (${ORGANISATION_ROLE_NAMES.join(', ')}). All or nothing: one bad row rejects the file, every
        bad line is listed, unless --skip-invalid (then the good rows are imported).
  seed --connections <n> [--organisations <n>] [--seed <s>]
        Load a generated estate (organisations Z00001..., connections, IPv4 /27 and some IPv6 /56 blocks).
  extract --organisations <n> --out <file> [--seed <s>]
        Write a synthetic ODS extract of <n> organisations.

common options:
  --database-url <url>  PostgreSQL (default: DATABASE_URL, else postgres://postgres@127.0.0.1:5432/postgres)
  --schema <name>       the registry's schema (default: N3_DB_SCHEMA, else n3); created and migrated if needed`;

function fail(message: string): never {
  process.stderr.write(`${message}\n\n${USAGE}\n`);
  process.exit(2);
}

function wholeNumber(
  name: string,
  raw: string | undefined,
  fallback: number | undefined,
  min: number,
  max: number,
): number {
  if (raw === undefined) {
    if (fallback === undefined) fail(`--${name} is required`);
    return fallback;
  }
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max)
    fail(`--${name} must be a whole number from ${min} to ${max}`);
  return Number(raw);
}

function bar(format: string): SingleBar {
  return new SingleBar({ format, hideCursor: true, noTTYOutput: true, notTTYSchedule: 2000 }, Presets.shades_classic);
}

async function main(): Promise<number> {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: process.argv.slice(2),
      options: {
        role: { type: 'string' },
        'skip-invalid': { type: 'boolean' },
        connections: { type: 'string' },
        organisations: { type: 'string' },
        seed: { type: 'string' },
        out: { type: 'string' },
        'database-url': { type: 'string' },
        schema: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: true,
    });
  } catch (error) {
    fail(error instanceof Error ? error.message : String(error));
  }
  const { values, positionals } = parsed;
  const [command, ...rest] = positionals;
  if (values['help'] === true || command === undefined) {
    process.stdout.write(`${USAGE}\n`);
    return command === undefined && values['help'] !== true ? 2 : 0;
  }
  const seed = wholeNumber('seed', values['seed'] as string | undefined, 1, 0, 2 ** 32 - 1);

  if (command === 'extract') {
    const organisations = wholeNumber(
      'organisations',
      values['organisations'] as string | undefined,
      undefined,
      1,
      99_999,
    );
    const out = values['out'] as string | undefined;
    if (!out) fail('--out is required');
    const file = createWriteStream(out);
    for (let index = 0; index < organisations; index += 1) {
      if (!file.write(`${odsExtractLine(estateOrganisation(index, seed))}\r\n`)) await once(file, 'drain');
    }
    file.end();
    await once(file, 'finish');
    process.stdout.write(`wrote ${organisations.toLocaleString('en-GB')} organisations to ${out}\n`);
    return 0;
  }

  const schema = (values['schema'] as string | undefined) ?? process.env['N3_DB_SCHEMA'] ?? 'n3';
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) fail('--schema must be a lower-case SQL identifier');
  const url =
    (values['database-url'] as string | undefined) ??
    process.env['DATABASE_URL'] ??
    'postgres://postgres@127.0.0.1:5432/postgres';

  if (command === 'seed') {
    const connections = wholeNumber('connections', values['connections'] as string | undefined, undefined, 1, 524_288);
    const organisations =
      values['organisations'] === undefined
        ? undefined
        : wholeNumber('organisations', values['organisations'] as string, undefined, 1, 99_999);
    const database = await openRegistryDatabase({ url, schema, poolSize: 2 });
    try {
      const loaded = await loadEstate(database, { connections, organisations, seed }, (step) =>
        process.stdout.write(`loading ${step}...\n`),
      );
      process.stdout.write(
        `loaded ${loaded.organisations.toLocaleString('en-GB')} organisations, ${loaded.connections.toLocaleString('en-GB')} connections and ${loaded.blocks.toLocaleString('en-GB')} IP blocks into schema ${schema} in ${(loaded.ms / 1000).toFixed(1)} s\n`,
      );
    } finally {
      await database.dataSource.destroy();
    }
    return 0;
  }

  if (command === 'import') {
    const [file] = rest;
    if (!file) fail('import needs the extract file');
    const role = values['role'] as string | undefined;
    if (!role || !(ORGANISATION_ROLE_NAMES as string[]).includes(role)) {
      fail(`--role is required: one of ${ORGANISATION_ROLE_NAMES.join(', ')}`);
    }
    let size: number;
    try {
      size = statSync(file).size;
    } catch {
      fail(`cannot read ${file}`);
    }
    const database = await openRegistryDatabase({ url, schema, poolSize: 2 });
    const progress = bar('reading |{bar}| {percentage}% | {value}/{total} bytes | ETA {eta_formatted}');
    const input = createReadStream(file);
    let bytes = 0;
    input.on('data', (chunk) => {
      bytes += chunk.length;
      progress.update(bytes);
    });
    progress.start(size, 0);
    try {
      const report = await withTransaction(database.pool, (client) =>
        importExtract(client, new OrganisationRepository(database), input, {
          role: role as OrganisationRole,
          skipInvalid: values['skip-invalid'] === true,
        }),
      );
      progress.update(size);
      progress.stop();
      for (const row of report.rejected) process.stderr.write(`line ${row.line}: ${row.reason}\n`);
      process.stdout.write(
        `imported ${report.rows - report.rejected.length} of ${report.rows} rows (${report.inserted} new, ${report.updated} updated${report.partial ? `, ${report.rejected.length} bad rows skipped` : ''}) in ${(report.ms / 1000).toFixed(1)} s\n`,
      );
      return 0;
    } catch (error) {
      progress.stop();
      if (error instanceof PlatformError && error.code === 'INVALID_IMPORT') {
        const rejected = (error.details?.['rejected'] ?? []) as { line: number; reason: string }[];
        for (const row of rejected) process.stderr.write(`line ${row.line}: ${row.reason}\n`);
        process.stderr.write(`${error.diagnostics}\n(--skip-invalid imports the good rows and skips these)\n`);
        return 1;
      }
      throw error;
    } finally {
      await database.dataSource.destroy();
    }
  }
  fail(`unknown command "${command}"`);
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`n3: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
