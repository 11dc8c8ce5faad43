import 'reflect-metadata';
import { loadConfigOrExit } from '@platform/shared-config';
import { createLogger } from '@platform/shared-logging';
import { runProcess } from '@platform/shared-service';
import { Gp2gpConfig } from './config/gp2gp.config';
import { startGp2gp } from './gp2gp';

const config = loadConfigOrExit(Gp2gpConfig, 'gp2gp');
const logger = createLogger({ service: 'gp2gp', level: config.LOG_LEVEL });
void runProcess('gp2gp', logger, () => startGp2gp(config, logger));
