import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { Gp2gpClient } from '@platform/contracts-gp2gp';
import { loadConfig } from '@platform/shared-config';
import { createLogger } from '@platform/shared-logging';
import { NatsRpcClient } from '@platform/shared-nats';
import { startServiceUnderTest, type ServiceUnderTest } from '@platform/shared-testing';
import { testCallerEnvironment, testGatewaySigner } from '@platform/testing-services';
import { Gp2gpConfig } from './config/gp2gp.config';
import { startGp2gp } from './gp2gp';

/** A running gp2gp for one integration test file: its own schema, its own NATS server, a typed client. */
export interface Gp2gpUnderTest extends ServiceUnderTest<INestApplication> {
  /** The typed client, over NATS, as other projects call gp2gp. */
  client: Gp2gpClient;
}

export async function startGp2gpUnderTest(options: { schemaPrefix: string }): Promise<Gp2gpUnderTest> {
  const callerEnv = await testCallerEnvironment('gp2gp');
  const running = await startServiceUnderTest(options.schemaPrefix, ({ natsUrl, databaseUrl, schema }) =>
    startGp2gp(
      loadConfig(Gp2gpConfig, {
        ...callerEnv,
        NATS_URL: natsUrl,
        DATABASE_URL: databaseUrl,
        GP2GP_DB_SCHEMA: schema,
        GP2GP_HTTP_PORT: '0',
      }),
      createLogger({ service: 'gp2gp', level: 'silent' }),
    ),
  );
  // Signs as the gateway does, so the service's own caller checks let the test's requests in.
  const signer = await testGatewaySigner();
  return { ...running, client: new Gp2gpClient(new NatsRpcClient(running.connection, { timeoutMs: 5000, signer })) };
}
