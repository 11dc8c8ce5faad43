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

/** The GP clinician with a client and a correlation ID as well: every field a read_audit row records. */
export function fullGpClinician(requestId: string = randomUUID()): CallContext {
  return {
    requestId,
    correlationId: `corr-${requestId}`,
    caller: {
      id: 'gp-user',
      username: 'clinician',
      clientId: 'gp-system',
      roles: ['clinician'],
      organisation: 'A83008',
      accessMode: 'user-restricted',
    },
  };
}

/** The read_audit row a `fullGpClinician(requestId)` call that showed this patient leaves, as `auditRowsFor` reads it. */
export function fullGpClinicianAuditRow(nhsNumber: string, action: string, requestId: string): Record<string, unknown> {
  return {
    nhs_number: nhsNumber,
    action,
    actor_id: 'gp-user',
    actor_username: 'clinician',
    client_id: 'gp-system',
    organisation: 'A83008',
    roles: ['clinician'],
    request_id: requestId,
    correlation_id: `corr-${requestId}`,
  };
}

/** The read_audit rows written for these request IDs, oldest first, with every field a row holds but its time. */
export async function auditRowsFor(
  under: Pick<PdsUnderTest, 'db' | 'schema'>,
  requestIds: string[],
): Promise<Record<string, unknown>[]> {
  const { rows } = await under.db.query<Record<string, unknown>>(
    `SELECT nhs_number, action, actor_id, actor_username, client_id, organisation, roles, request_id, correlation_id
       FROM "${under.schema}".read_audit WHERE request_id = ANY ($1::text[]) ORDER BY id`,
    [requestIds],
  );
  return rows;
}

/**
 * What `during` gives while no read_audit row can be written (a CHECK (false) constraint on new rows); rows can be
 * written again once it has settled, whether it resolved or threw.
 */
export async function whileAuditRefused<T>(
  under: Pick<PdsUnderTest, 'db' | 'schema'>,
  during: () => Promise<T>,
): Promise<T> {
  await under.db.query(`ALTER TABLE "${under.schema}".read_audit ADD CONSTRAINT refuse_all CHECK (false) NOT VALID`);
  try {
    return await during();
  } finally {
    await under.db.query(`ALTER TABLE "${under.schema}".read_audit DROP CONSTRAINT refuse_all`);
  }
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
