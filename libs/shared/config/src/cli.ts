import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';

/**
 * The platform's command-line convention, shared by `npm run eps`, `npm run n3` and `npm run seed`: options
 * parsed by commander, `--help` (or `-h`) on the program and on every command, every option described, and a
 * wrong command line answered with one `error: ...` line and a hint on stderr and exit code 2, never a
 * stack trace. Parsing is separate from running, so a command line can be checked without touching a database.
 */

/** Exit code for a command line the program cannot run (unknown option, missing or bad value). */
export const USAGE_EXIT_CODE = 2;

/** Where a program's help and errors go: the process's stdout and stderr, or a test's buffers. */
export interface CliOutput {
  writeOut(text: string): void;
  writeErr(text: string): void;
}

const processOutput: CliOutput = {
  writeOut: (text) => process.stdout.write(text),
  writeErr: (text) => process.stderr.write(text),
};

/** A CliOutput that keeps what is written (for tests, or to print it elsewhere). */
export function bufferedOutput(): CliOutput & { out: string; err: string } {
  const buffer = {
    out: '',
    err: '',
    writeOut: (text: string) => {
      buffer.out += text;
    },
    writeErr: (text: string) => {
      buffer.err += text;
    },
  };
  return buffer;
}

/** What a command line asks for: a command to run, or an exit (help printed, or a usage error reported). */
export type CliOutcome<T> = { run: T } | { exitCode: number };

/**
 * Parses `args` (what follows the script name) with the program `define` describes. `define` is given a
 * program that already has the conventions, and `choose`, which its actions call with what to run.
 */
export function parseCommandLine<T>(
  settings: { name: string; description: string; args: readonly string[]; output?: CliOutput },
  define: (program: Command, choose: (run: T) => void) => void,
): CliOutcome<T> {
  const output = settings.output ?? processOutput;
  // Settings made before .command() are inherited by every command.
  const program = new Command(settings.name)
    .description(settings.description)
    .helpOption('-h, --help', 'show this help')
    .configureOutput({ writeOut: (text) => output.writeOut(text), writeErr: (text) => output.writeErr(text) })
    .configureHelp({ showGlobalOptions: true })
    .showHelpAfterError(`(${settings.name} --help describes the options)`)
    .exitOverride();
  let chosen: { run: T } | undefined;
  define(program, (run) => {
    chosen = { run };
  });
  if (program.commands.length > 0) {
    program.addHelpText('after', () => `\n${program.commands.map((command) => commandHelp(command)).join('\n\n')}`);
  }
  try {
    program.parse([...settings.args], { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help asked for exits 0; help shown because no command was given, or any parse error, exits 2.
      return { exitCode: error.exitCode === 0 ? 0 : USAGE_EXIT_CODE };
    }
    throw error;
  }
  if (!chosen) {
    output.writeErr(`error: nothing to run\n(${settings.name} --help describes the options)\n`);
    return { exitCode: USAGE_EXIT_CODE };
  }
  return chosen;
}

/** Every command's own help (usage, description, options), so that the program's --help describes everything. */
function commandHelp(command: Command): string {
  return command
    .helpInformation()
    .trimEnd()
    .split('\n')
    .map((line) => (line.length > 0 ? `  ${line}` : line))
    .join('\n');
}

/** Runs what the command line chose, then exits: 0 or the code `run` returns, 1 with one line if it throws. */
export function runCommandLine<T>(
  outcome: CliOutcome<T>,
  run: (chosen: T) => Promise<number>,
  describeFailure: (error: unknown) => string,
): void {
  if ('exitCode' in outcome) {
    process.exitCode = outcome.exitCode;
    return;
  }
  run(outcome.run).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`${describeFailure(error)}\n`);
      process.exit(1);
    },
  );
}

/** An option parser for a whole number from `min` to `max` (digits only: no signs, decimals or exponents). */
export function wholeNumber(min: number, max: number): (raw: string) => number {
  return (raw) => {
    if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
      throw new InvalidArgumentError(`It must be a whole number from ${min} to ${max}.`);
    }
    return Number(raw);
  };
}

/** An option parser for a value `check` accepts; `what` says what was expected. */
export function satisfying(check: (raw: string) => boolean, what: string): (raw: string) => string {
  return (raw) => {
    if (!check(raw)) throw new InvalidArgumentError(`It must be ${what}.`);
    return raw;
  };
}

/** An option parser for a value matching `pattern`; `what` says what was expected. */
export function matching(pattern: RegExp, what: string): (raw: string) => string {
  return satisfying((raw) => pattern.test(raw), what);
}

/** PostgreSQL, as every command that writes to a database is told where it is. */
export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

export interface DatabaseOptions {
  databaseUrl: string;
  schema: string;
}

/**
 * Adds `--database-url` (default DATABASE_URL, else local PostgreSQL) and `--schema` (default the service's
 * schema variable, else its schema name) to `command`; values from the environment are checked as typed ones are.
 */
export function addDatabaseOptions(
  command: Command,
  schema: { variable: string; fallback: string; description: string },
): Command {
  return command
    .addOption(
      new Option('--database-url <url>', 'PostgreSQL connection URL').env('DATABASE_URL').default(DEFAULT_DATABASE_URL),
    )
    .addOption(
      new Option('--schema <name>', schema.description)
        .env(schema.variable)
        .default(schema.fallback)
        .argParser(matching(/^[a-z_][a-z0-9_]{0,62}$/, 'a lower-case SQL identifier')),
    );
}
