import 'reflect-metadata';
import { loadConfigOrExit } from '@platform/shared-config';
import { createLogger } from '@platform/shared-logging';
import { runProcess } from '@platform/shared-service';
import { EpsConfig } from './config/eps.config';
import { startEps } from './eps';

const config = loadConfigOrExit(EpsConfig, 'eps');
const logger = createLogger({ service: 'eps', level: config.LOG_LEVEL });
void runProcess('eps', logger, () => startEps(config, logger));
