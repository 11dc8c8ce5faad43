import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import { N3Client } from '@platform/contracts-n3';
import { loadConfig } from '@platform/shared-config';
import { createLogger } from '@platform/shared-logging';
import { NatsRpcClient, type CallContext } from '@platform/shared-nats';
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

/** A registry administrator's call context, with a request ID of its own unless one is given. */
export const admin = (requestId = randomUUID()): CallContext => ({
  requestId,
  caller: { id: 'registry-admin-1', username: 'registry.admin', roles: ['registry-admin'], organisation: 'X26' },
});

/** The order of an ordinary connection, for tests that need one (add the organisation's ODS code). */
export const ORDER = {
  supplier: 'BT',
  bandwidthMbps: 100,
  accessType: 'fttp' as const,
  availabilityTarget: 99.9,
  contractStart: '2026-01-01',
  contractEnd: '2029-01-01',
};
