// `npm run ers -- <command>`: loading the e-Referral Service (commands and options in ers.options.ts):
//   seed --services N --slots M --referrals K    a generated national directory and referrals, with progress
//   postcodes --file CSV                         a postcode file in the ONS Postcode Directory layout
import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import { MultiBar, Presets } from 'cli-progress';
import { runCommandLine } from '@platform/shared-config';
import { openEReferralsDatabase } from '../database/database';
import { DirectoryRepository } from '../directory/directory.repository';
import { readPostcodeFile } from '../directory/postcode-file';
import { loadNational } from '../population/national-loader';
import { parseErsCommandLine, type ErsCommand } from './ers.options';

async function main(command: ErsCommand): Promise<number> {
  const database = await openEReferralsDatabase({ url: command.databaseUrl, schema: command.schema, poolSize: 2 });
  try {
    switch (command.command) {
      case 'seed': {
        const bars = new MultiBar(
          {
            format: ' {stage} [{bar}] {percentage}% | {value}/{total} | {duration}s',
            hideCursor: true,
            noTTYOutput: true,
            notTTYSchedule: 2000,
          },
          Presets.shades_classic,
        );
        const stages = {
          services: bars.create(command.services, 0, { stage: 'services ' }),
          slots: bars.create(command.slots, 0, { stage: 'slots    ' }),
          referrals: bars.create(command.referrals, 0, { stage: 'referrals' }),
        };
        const started = Date.now();
        try {
          await loadNational(database, command, (stage, done) => stages[stage].update(done));
        } finally {
          bars.stop();
        }
        process.stdout.write(
          `loaded ${command.services.toLocaleString('en-GB')} services, ${command.slots.toLocaleString('en-GB')} slots and ${command.referrals.toLocaleString('en-GB')} referrals into schema ${command.schema} in ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
        );
        return 0;
      }
      case 'postcodes': {
        const { positions, skipped } = readPostcodeFile(readFileSync(command.file, 'utf8'));
        const directory = new DirectoryRepository(database);
        let loaded = 0;
        for (let start = 0; start < positions.length; start += 10_000) {
          loaded += await directory.loadPostcodes(positions.slice(start, start + 10_000));
          process.stdout.write(`postcodes: ${Math.min(start + 10_000, positions.length)} of ${positions.length}\n`);
        }
        process.stdout.write(
          `loaded ${loaded} new postcodes (${positions.length - loaded} known already, ${skipped} rows without a position skipped)\n`,
        );
        return 0;
      }
    }
  } finally {
    await database.dataSource.destroy();
  }
}

runCommandLine(
  parseErsCommandLine(process.argv.slice(2)),
  main,
  (error) => `ers: ${error instanceof Error ? error.message : String(error)}`,
);
