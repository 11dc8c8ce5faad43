export { ConfigError, loadConfig, loadConfigOrExit } from './load-config';
