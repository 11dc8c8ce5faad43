import 'reflect-metadata';
import { loadConfigOrExit } from '@platform/shared-config';
import { createLogger } from '@platform/shared-logging';
import { runProcess } from '@platform/shared-service';
import { NhsmailRelayConfig } from './config/nhsmail.config';
import { startNhsmailRelay } from './nhsmail-relay';

const config = loadConfigOrExit(NhsmailRelayConfig, 'nhsmail-relay');
const logger = createLogger({ service: 'nhsmail-relay', level: config.LOG_LEVEL });
void runProcess('nhsmail-relay', logger, () => startNhsmailRelay(config, logger));
