import 'reflect-metadata';
import { loadConfigOrExit } from '@platform/shared-config';
import { createLogger } from '@platform/shared-logging';
import { runProcess } from '@platform/shared-service';
import { PdsConfig } from './config/pds.config';
import { startPds } from './pds';

const config = loadConfigOrExit(PdsConfig, 'pds');
const logger = createLogger({ service: 'pds', level: config.LOG_LEVEL });
void runProcess('pds', logger, () => startPds(config, logger));
