import 'reflect-metadata';
import { loadConfigOrExit } from '@platform/shared-config';
import { createLogger } from '@platform/shared-logging';
import { EpsConfig } from './config/eps.config';
import { startEps } from './eps';

async function main(): Promise<void> {
  const config = loadConfigOrExit(EpsConfig, 'eps');
  const logger = createLogger({ service: 'eps', level: config.LOG_LEVEL });
  try {
    await startEps(config, logger);
  } catch (error) {
    logger.fatal({ err: error }, 'eps failed to start');
    process.exit(1);
  }
}

void main();
