import 'reflect-metadata';
import { loadConfigOrExit } from '@platform/shared-config';
import { createLogger } from '@platform/shared-logging';
import { N3Config } from './config/n3.config';
import { startN3Registry } from './n3-registry';

async function main(): Promise<void> {
  const config = loadConfigOrExit(N3Config, 'n3-registry');
  const logger = createLogger({ service: 'n3-registry', level: config.LOG_LEVEL });
  try {
    await startN3Registry(config, logger);
  } catch (error) {
    logger.fatal({ err: error }, 'n3-registry failed to start');
    process.exit(1);
  }
}

void main();
