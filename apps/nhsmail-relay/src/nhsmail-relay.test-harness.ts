import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { NhsmailRelayClient } from '@platform/contracts-nhsmail';
import { loadConfig } from '@platform/shared-config';
import { createLogger } from '@platform/shared-logging';
import { NatsRpcClient } from '@platform/shared-nats';
import { startServiceUnderTest, type ServiceUnderTest } from '@platform/shared-testing';
import { testCallerEnvironment, testGatewaySigner } from '@platform/testing-services';
import { NhsmailRelayConfig } from './config/nhsmail.config';
import { startNhsmailRelay } from './nhsmail-relay';

/** A running nhsmail-relay for one integration test file: its own schema, its own NATS server, a typed client. */
export interface NhsmailRelayUnderTest extends ServiceUnderTest<INestApplication> {
  /** The typed client, over NATS, as other projects call nhsmail-relay. */
  client: NhsmailRelayClient;
}

export async function startNhsmailRelayUnderTest(options: { schemaPrefix: string }): Promise<NhsmailRelayUnderTest> {
  const callerEnv = await testCallerEnvironment('nhsmail-relay');
  const running = await startServiceUnderTest(options.schemaPrefix, ({ natsUrl, databaseUrl, schema }) =>
    startNhsmailRelay(
      loadConfig(NhsmailRelayConfig, {
        ...callerEnv,
        NATS_URL: natsUrl,
        DATABASE_URL: databaseUrl,
        NHSMAIL_DB_SCHEMA: schema,
        NHSMAIL_HTTP_PORT: '0',
      }),
      createLogger({ service: 'nhsmail-relay', level: 'silent' }),
    ),
  );
  // Signs as the gateway does, so the service's own caller checks let the test's requests in.
  const signer = await testGatewaySigner();
  return {
    ...running,
    client: new NhsmailRelayClient(new NatsRpcClient(running.connection, { timeoutMs: 5000, signer })),
  };
}
