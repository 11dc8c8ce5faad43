import { createLogger } from '@platform/shared-logging';
import { validateSync, type ValidationError } from 'class-validator';

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

function describe(errors: ValidationError[]): string[] {
  return errors.flatMap((error) =>
    Object.values(error.constraints ?? {}).map((constraint) => `${error.property}: ${constraint}`),
  );
}

/** 'true'/'false'/'1'/'0' become booleans; anything else stays a string so that validation names it. */
function parseBoolean(value: string): boolean | string {
  if (/^(true|1|yes)$/i.test(value)) return true;
  if (/^(false|0|no)$/i.test(value)) return false;
  return value;
}

/**
 * Reads a service's configuration once, at start, from environment variables into a validated class whose
 * property names are the variable names; numbers and booleans are converted by the type of their default. Throws ConfigError naming every wrong variable.
 */
export function loadConfig<T extends object>(type: new () => T, env: NodeJS.ProcessEnv = process.env): T {
  const defaults = new type() as Record<string, unknown>;
  const source: Record<string, unknown> = {};
  for (const key of Object.keys(defaults)) {
    const value = env[key];
    if (value === undefined || value === '') source[key] = defaults[key];
    else if (typeof defaults[key] === 'boolean') source[key] = parseBoolean(value);
    else if (typeof defaults[key] === 'number')
      source[key] = /^-?\d+(\.\d+)?$/.test(value.trim()) ? Number(value) : value;
    else source[key] = value;
  }
  const config = Object.assign(new type(), source);
  const problems = describe(validateSync(config, { skipMissingProperties: false }));
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/**
 * For a process's entry point: the configuration, or (on bad configuration) one fatal JSON log line naming
 * every wrong variable and exit code 1. A service refuses to start rather than run half-configured.
 */
export function loadConfigOrExit<T extends object>(type: new () => T, processName: string): T {
  try {
    return loadConfig(type);
  } catch (error) {
    if (error instanceof ConfigError) {
      createLogger({ service: processName }).fatal(
        { problems: error.problems },
        `${processName} not started: ${error.problems.join('; ')}`,
      );
      process.exit(1);
    }
    throw error;
  }
}
