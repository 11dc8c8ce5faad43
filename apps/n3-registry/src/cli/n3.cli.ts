// `npm run n3 -- <command>`: the N3 registry's operator commands, straight against its database (the service
// need not be running; migrations run first). The commands and their options are in n3.options.ts (`--help`):
//   import FILE --role R [--skip-invalid]   an ODS extract (standard 27-column CSV), with a progress bar
//   seed --connections N [--seed S]         a generated estate: organisations, connections, IP blocks
//   extract --organisations N --out FILE    a synthetic ODS extract (for trying or benchmarking the import)
import 'reflect-metadata';
import { createReadStream, createWriteStream, statSync } from 'node:fs';
import { once } from 'node:events';
import { Transform } from 'node:stream';
import { Presets, SingleBar } from 'cli-progress';
import { runCommandLine, USAGE_EXIT_CODE } from '@platform/shared-config';
import { PlatformError } from '@platform/shared-errors';
import { withTransaction } from '@platform/shared-persistence';
import { openRegistryDatabase } from '../database/database';
import { estateOrganisation, odsExtractLine } from '../estate/estate';
import { loadEstate } from '../estate/estate-loader';
import { importExtract } from '../imports/import-extract';
import { OrganisationRepository } from '../shared/organisation.repository';
import { parseN3CommandLine, type N3Command } from './n3.options';

function bar(format: string): SingleBar {
  return new SingleBar({ format, hideCursor: true, noTTYOutput: true, notTTYSchedule: 2000 }, Presets.shades_classic);
}

async function main(command: N3Command): Promise<number> {
  switch (command.command) {
    case 'extract': {
      const { organisations, out, seed } = command;
      const file = createWriteStream(out);
      for (let index = 0; index < organisations; index += 1) {
        if (!file.write(`${odsExtractLine(estateOrganisation(index, seed))}\r\n`)) await once(file, 'drain');
      }
      file.end();
      await once(file, 'finish');
      process.stdout.write(`wrote ${organisations.toLocaleString('en-GB')} organisations to ${out}\n`);
      return 0;
    }

    case 'seed': {
      const { connections, organisations, seed, schema } = command;
      const database = await openRegistryDatabase({ url: command.databaseUrl, schema, poolSize: 2 });
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

    case 'import': {
      const { file, role, skipInvalid, schema } = command;
      let size: number;
      try {
        size = statSync(file).size;
      } catch {
        process.stderr.write(`error: cannot read ${file}\n`);
        return USAGE_EXIT_CODE;
      }
      const database = await openRegistryDatabase({ url: command.databaseUrl, schema, poolSize: 2 });
      const progress = bar('reading |{bar}| {percentage}% | {value}/{total} bytes | ETA {eta_formatted}');
      // Bytes are counted as the import reads them: a 'data' listener on the file itself would start it
      // flowing while the transaction opens, and the import would then find the extract empty.
      let bytes = 0;
      const source = createReadStream(file);
      const input = source.pipe(
        new Transform({
          transform(chunk: Buffer, _encoding, done) {
            bytes += chunk.length;
            progress.update(bytes);
            done(null, chunk);
          },
        }),
      );
      source.once('error', (error) => input.destroy(error));
      progress.start(size, 0);
      try {
        const report = await withTransaction(database.pool, (client) =>
          importExtract(client, new OrganisationRepository(database), input, { role, skipInvalid }),
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
  }
}

runCommandLine(parseN3CommandLine(process.argv.slice(2)), main, (error) =>
  error instanceof PlatformError
    ? `n3: ${error.code}: ${error.diagnostics ?? error.message}`
    : `n3: ${error instanceof Error ? error.message : String(error)}`,
);
