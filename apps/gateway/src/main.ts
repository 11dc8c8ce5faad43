import 'reflect-metadata';
import { loadConfigOrExit } from '@platform/shared-config';
import { createLogger } from '@platform/shared-logging';
import { GatewayConfig } from './config/gateway.config';
import { createGateway } from './gateway';

async function main(): Promise<void> {
  const config = loadConfigOrExit(GatewayConfig, 'gateway');
  const logger = createLogger({ service: 'gateway', level: config.LOG_LEVEL });
  try {
    const app = await createGateway(config, logger);
    await app.listen(config.GATEWAY_PORT, config.GATEWAY_HOST);
    logger.info(
      { url: `http://${config.GATEWAY_HOST}:${config.GATEWAY_PORT}`, sandbox: config.SANDBOX },
      'gateway listening',
    );
  } catch (error) {
    logger.fatal({ err: error }, 'gateway failed to start');
    process.exit(1);
  }
}

void main();
