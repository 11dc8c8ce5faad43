import 'reflect-metadata';
import { loadConfigOrExit } from '@platform/shared-config';
import { createLogger } from '@platform/shared-logging';
import { IdentityProviderConfig } from './config';
import { DEMO_CLIENTS, DEMO_USERS } from './demo-realm';
import { startIdentityProvider, type RunningIdentityProvider } from './identity-provider';

const logger = createLogger({ service: 'identity-provider' });

async function main(): Promise<void> {
  const config = loadConfigOrExit(IdentityProviderConfig, 'identity-provider');

  let provider: RunningIdentityProvider;
  try {
    provider = await startIdentityProvider({
      host: config.IDP_HOST,
      port: config.IDP_PORT,
      issuer: config.IDP_ISSUER,
      audience: config.IDP_AUDIENCE,
      accessTokenTtlSeconds: config.IDP_ACCESS_TOKEN_TTL,
      demoPassword: config.IDP_DEMO_PASSWORD,
      logger,
    });
  } catch (error) {
    logger.fatal({ err: error }, `identity provider failed to start on ${config.IDP_HOST}:${config.IDP_PORT}`);
    process.exit(1);
  }

  logger.info(
    {
      event: 'listening',
      issuer: provider.issuer,
      url: provider.url,
      users: DEMO_USERS.map((user) => user.username),
      clients: DEMO_CLIENTS.map((client) => client.clientId),
    },
    'identity provider listening',
  );

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ event: 'stopping', signal }, 'identity provider stopping');
    const forced = setTimeout(() => {
      logger.warn({ event: 'stopped', forced: true }, 'identity provider did not close in time');
      process.exit(1);
    }, 5000);
    forced.unref();
    // No process.exit() on success: the process ends once the listener is closed and the log is flushed, so the
    // log lines keep their order.
    provider.close().then(
      () => logger.info({ event: 'stopped' }, 'identity provider stopped'),
      (error: unknown) => {
        logger.error({ err: error }, 'identity provider failed to close');
        process.exitCode = 1;
      },
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((error: unknown) => {
  logger.fatal({ err: error }, 'identity provider crashed');
  process.exit(1);
});
