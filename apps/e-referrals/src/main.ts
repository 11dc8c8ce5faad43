import 'reflect-metadata';
import { loadConfigOrExit } from '@platform/shared-config';
import { createLogger } from '@platform/shared-logging';
import { runProcess } from '@platform/shared-service';
import { EReferralsConfig } from './config/ers.config';
import { startEReferrals } from './e-referrals';

const config = loadConfigOrExit(EReferralsConfig, 'e-referrals');
const logger = createLogger({ service: 'e-referrals', level: config.LOG_LEVEL });
void runProcess('e-referrals', logger, () => startEReferrals(config, logger));
