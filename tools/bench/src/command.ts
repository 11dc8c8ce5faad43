import type { Cleanup } from './support/cleanup';
import type { Progress } from './support/progress';

export interface OptionSpec {
  type: 'string' | 'boolean';
  /** For string options: what the value looks like, for the usage text. */
  value?: string;
  default?: string;
  description: string;
}

export type OptionValues = Record<string, string | boolean | undefined>;

export interface BenchContext {
  /** Repository root. */
  root: string;
  progress: Progress;
  cleanup: Cleanup;
  /** The command line as a user would type it to repeat this run (`npm run bench -- ...`). */
  argv: string[];
}

/** One benchmark: `npm run bench -- <name> [options]`. */
export interface BenchCommand {
  name: string;
  summary: string;
  options: Record<string, OptionSpec>;
  /** Answers the process exit code. */
  run(values: OptionValues, context: BenchContext): Promise<number>;
}

export class UsageError extends Error {}

export function intOption(values: OptionValues, name: string, min: number, max: number): number {
  const raw = values[name];
  const value = Number(raw);
  if (typeof raw !== 'string' || !/^\d+$/.test(raw) || value < min || value > max) {
    throw new UsageError(`--${name} must be a whole number from ${min} to ${max} (got ${String(raw)})`);
  }
  return value;
}

export function usage(command: BenchCommand): string {
  const lines = [`npm run bench -- ${command.name} [options]`, `  ${command.summary}`, '', 'options:'];
  for (const [name, spec] of Object.entries(command.options)) {
    const flag = spec.type === 'string' ? `--${name} <${spec.value ?? 'value'}>` : `--${name}`;
    lines.push(
      `  ${flag.padEnd(26)} ${spec.description}${spec.default !== undefined ? ` (default ${spec.default})` : ''}`,
    );
  }
  return lines.join('\n');
}
