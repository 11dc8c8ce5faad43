import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { EReferralsClient } from '@platform/contracts-ers';
import { loadConfig } from '@platform/shared-config';
import { createLogger } from '@platform/shared-logging';
import { NatsRpcClient } from '@platform/shared-nats';
import { startServiceUnderTest, type ServiceUnderTest } from '@platform/shared-testing';
import { testCallerEnvironment, testGatewaySigner } from '@platform/testing-services';
import { EReferralsConfig } from './config/ers.config';
import { startEReferrals } from './e-referrals';

/** A running e-referrals for one integration test file: its own schema, its own NATS server, a typed client. */
export interface EReferralsUnderTest extends ServiceUnderTest<INestApplication> {
  /** The typed client, over NATS, as other projects call e-referrals. */
  client: EReferralsClient;
}

export async function startEReferralsUnderTest(options: { schemaPrefix: string }): Promise<EReferralsUnderTest> {
  const callerEnv = await testCallerEnvironment('e-referrals');
  const running = await startServiceUnderTest(options.schemaPrefix, ({ natsUrl, databaseUrl, schema }) =>
    startEReferrals(
      loadConfig(EReferralsConfig, {
        ...callerEnv,
        NATS_URL: natsUrl,
        DATABASE_URL: databaseUrl,
        ERS_DB_SCHEMA: schema,
        ERS_HTTP_PORT: '0',
      }),
      createLogger({ service: 'e-referrals', level: 'silent' }),
    ),
  );
  // Signs as the gateway does, so the service's own caller checks let the test's requests in.
  const signer = await testGatewaySigner();
  return {
    ...running,
    client: new EReferralsClient(new NatsRpcClient(running.connection, { timeoutMs: 5000, signer })),
  };
}
