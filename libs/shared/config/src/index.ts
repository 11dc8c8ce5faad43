export {
  addDatabaseOptions,
  bufferedOutput,
  DEFAULT_DATABASE_URL,
  matching,
  parseCommandLine,
  runCommandLine,
  satisfying,
  USAGE_EXIT_CODE,
  wholeNumber,
  type CliOutcome,
  type CliOutput,
  type DatabaseOptions,
} from './cli';
export { ConfigError, loadConfig, loadConfigOrExit } from './load-config';
export { CallerTrustConfig } from './caller-trust.config';
