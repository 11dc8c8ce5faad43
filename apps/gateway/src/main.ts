import 'reflect-metadata';
import { loadConfigOrExit } from '@platform/shared-config';
import { createLogger } from '@platform/shared-logging';
import { runProcess } from '@platform/shared-service';
import { GatewayConfig } from './config/gateway.config';
import { createGateway } from './gateway';

const config = loadConfigOrExit(GatewayConfig, 'gateway');
const logger = createLogger({ service: 'gateway', level: config.LOG_LEVEL });
void runProcess('gateway', logger, async () => {
  const app = await createGateway(config, logger);
  await app.listen(config.GATEWAY_PORT, config.GATEWAY_HOST);
  logger.info(
    { url: `http://${config.GATEWAY_HOST}:${config.GATEWAY_PORT}`, sandbox: config.SANDBOX },
    'gateway listening',
  );
  return app;
});
