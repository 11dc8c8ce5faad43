// `npm run bench -- <benchmark> [options]`: performance benchmarks of the platform, each a subcommand that
// starts what it measures, measures it, stops everything it started and writes its own section of
// docs/benchmarks.md. Add a benchmark by adding a BenchCommand to COMMANDS.
import path from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { usage, UsageError, type BenchCommand, type OptionValues } from './command';
import { epsCommand } from './eps/eps.command';
import { ersCommand } from './ers/ers.command';
import { gp2gpCommand } from './gp2gp/gp2gp.command';
import { n3Command } from './n3/n3.command';
import { nhsmailCommand } from './nhsmail/nhsmail.command';
import { readScaleCommand } from './read/read-scale.command';
import { readCommand } from './read/read.command';
import { searchCommand } from './search/search.command';
import { Cleanup } from './support/cleanup';
import { Progress } from './support/progress';

const COMMANDS: BenchCommand[] = [
  readCommand,
  readScaleCommand,
  searchCommand,
  n3Command,
  epsCommand,
  ersCommand,
  gp2gpCommand,
  nhsmailCommand,
];

const root = path.resolve(__dirname, '../../../..');

function overview(): string {
  return [
    'usage: npm run bench -- <benchmark> [options]',
    '',
    'benchmarks:',
    ...COMMANDS.map((command) => `  ${command.name.padEnd(12)} ${command.summary}`),
    '',
    'npm run bench -- <benchmark> --help lists its options.',
  ].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${overview()}\n`);
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS.find((candidate) => candidate.name === name);
  if (!command) {
    process.stderr.write(`unknown benchmark "${name}"\n\n${overview()}\n`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`${usage(command)}\n`);
    return 0;
  }
  const options = Object.fromEntries(
    Object.entries(command.options).map(([option, spec]) => [
      option,
      spec.default === undefined ? { type: spec.type } : { type: spec.type, default: spec.default },
    ]),
  ) as NonNullable<ParseArgsConfig['options']>;
  let values: OptionValues;
  try {
    // No option is `multiple`, so every value is a string or a boolean.
    values = parseArgs({ args: rest, options, strict: true, allowPositionals: false }).values as OptionValues;
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n\n${usage(command)}\n`);
    return 2;
  }

  const progress = new Progress();
  const cleanup = new Cleanup((line) => progress.say(line));
  cleanup.handleSignals();
  try {
    return await command.run(values, { root, progress, cleanup, argv });
  } catch (error) {
    if (cleanup.interrupted) return 130;
    if (error instanceof UsageError) {
      process.stderr.write(`${error.message}\n\n${usage(command)}\n`);
      return 2;
    }
    progress.say(`FAILED: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  } finally {
    if (!cleanup.stopping && cleanup.pending > 0) progress.say('stopping everything the benchmark started');
    await cleanup.run();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
