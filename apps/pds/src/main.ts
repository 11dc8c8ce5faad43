import 'reflect-metadata';
import { loadConfigOrExit } from '@platform/shared-config';
import { createLogger } from '@platform/shared-logging';
import { PdsConfig } from './config/pds.config';
import { startPds } from './pds';

async function main(): Promise<void> {
  const config = loadConfigOrExit(PdsConfig, 'pds');
  const logger = createLogger({ service: 'pds', level: config.LOG_LEVEL });
  try {
    await startPds(config, logger);
  } catch (error) {
    logger.fatal({ err: error }, 'pds failed to start');
    process.exit(1);
  }
}

void main();
