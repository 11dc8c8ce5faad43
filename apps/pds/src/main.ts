import 'reflect-metadata';
import { ConfigError, loadConfig } from '@platform/shared-config';
import { createLogger } from '@platform/shared-logging';
import { PdsConfig } from './config/pds.config';
import { startPds } from './pds';

async function main(): Promise<void> {
  let config: PdsConfig;
  try {
    config = loadConfig(PdsConfig);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`pds: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  const logger = createLogger({ service: 'pds', level: config.LOG_LEVEL });
  try {
    await startPds(config, logger);
  } catch (error) {
    logger.fatal({ err: error }, 'pds failed to start');
    process.exit(1);
  }
}

void main();
