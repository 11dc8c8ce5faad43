import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { N3Client } from '@platform/contracts-n3';
import { loadConfig } from '@platform/shared-config';
import { createLogger } from '@platform/shared-logging';
import { NatsRpcClient } from '@platform/shared-nats';
import { startServiceUnderTest, type ServiceUnderTest } from '@platform/shared-testing';
import { testCallerEnvironment, testGatewaySigner } from '@platform/testing-services';
import { N3Config } from './config/n3.config';
import { startN3Registry } from './n3-registry';

/** A running registry for one integration test file: its own schema, its own NATS server, a typed client. */
export interface N3UnderTest extends ServiceUnderTest<INestApplication> {
  n3: N3Client;
}

export async function startN3UnderTest(options: { seed?: 'none' | 'sandbox' } = {}): Promise<N3UnderTest> {
  const callerEnv = await testCallerEnvironment('n3-registry');
  const running = await startServiceUnderTest('n3_test', ({ natsUrl, databaseUrl, schema }) =>
    startN3Registry(
      loadConfig(N3Config, {
        ...callerEnv,
        NATS_URL: natsUrl,
        DATABASE_URL: databaseUrl,
        N3_DB_SCHEMA: schema,
        N3_HTTP_PORT: '0',
        N3_SEED: options.seed ?? 'sandbox',
      }),
      createLogger({ service: 'n3-registry', level: 'silent' }),
    ),
  );
  const signer = await testGatewaySigner();
  return { ...running, n3: new N3Client(new NatsRpcClient(running.connection, { timeoutMs: 10_000, signer })) };
}
