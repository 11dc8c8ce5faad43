import 'reflect-metadata';
import { loadConfigOrExit } from '@platform/shared-config';
import { createLogger } from '@platform/shared-logging';
import { runProcess } from '@platform/shared-service';
import { N3Config } from './config/n3.config';
import { startN3Registry } from './n3-registry';

const config = loadConfigOrExit(N3Config, 'n3-registry');
const logger = createLogger({ service: 'n3-registry', level: config.LOG_LEVEL });
void runProcess('n3-registry', logger, () => startN3Registry(config, logger));
