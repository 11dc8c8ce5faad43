import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import { PdsClient } from '@platform/contracts-pds';
import { loadConfig } from '@platform/shared-config';
import { createLogger } from '@platform/shared-logging';
import { NatsRpcClient, type CallContext } from '@platform/shared-nats';
import { startServiceUnderTest, type ServiceUnderTest } from '@platform/shared-testing';
import { testCallerEnvironment, testGatewaySigner } from '@platform/testing-services';
import { PdsConfig } from './config/pds.config';
import { startPds } from './pds';

/** A GP practice's clinician at A83008 with a user present (user-restricted), as the gateway signs one. */
export function gpClinician(requestId: string = randomUUID()): CallContext {
  return {
    requestId,
    caller: {
      id: 'gp-user',
      username: 'clinician',
      roles: ['clinician'],
      organisation: 'A83008',
      accessMode: 'user-restricted',
    },
  };
}

/** A running pds for one integration test file: its own schema, its own NATS server, a typed client. */
export interface PdsUnderTest extends ServiceUnderTest<INestApplication> {
  /** The typed client, over NATS, as other projects call pds. */
  pds: PdsClient;
}

export async function startPdsUnderTest(options: {
  schemaPrefix: string;
  seed?: 'none' | 'sandbox';
}): Promise<PdsUnderTest> {
  const callerEnv = await testCallerEnvironment('pds');
  const running = await startServiceUnderTest(options.schemaPrefix, ({ natsUrl, databaseUrl, schema }) =>
    startPds(
      loadConfig(PdsConfig, {
        ...callerEnv,
        NATS_URL: natsUrl,
        DATABASE_URL: databaseUrl,
        PDS_DB_SCHEMA: schema,
        PDS_HTTP_PORT: '0',
        PDS_SEED: options.seed ?? 'none',
      }),
      createLogger({ service: 'pds', level: 'silent' }),
    ),
  );
  const signer = await testGatewaySigner();
  return { ...running, pds: new PdsClient(new NatsRpcClient(running.connection, { timeoutMs: 5000, signer })) };
}
