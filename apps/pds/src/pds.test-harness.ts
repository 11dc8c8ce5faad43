import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { connect, type NatsConnection } from 'nats';
import { Client } from 'pg';
import { PdsClient } from '@platform/contracts-pds';
import { loadConfig } from '@platform/shared-config';
import { createLogger } from '@platform/shared-logging';
import { NatsRpcClient } from '@platform/shared-nats';
import { dropSchema, startTestNats, testDatabaseUrl, uniqueName, type TestNats } from '@platform/shared-testing';
import { PdsConfig } from './config/pds.config';
import { startPds } from './pds';

/** A running pds for one integration test file: its own schema, its own NATS server, a typed client. */
export interface PdsUnderTest {
  app: INestApplication;
  /** The typed client, over NATS, as other projects call pds. */
  pds: PdsClient;
  connection: NatsConnection;
  /** A direct connection to the database, for arranging and checking rows. */
  db: Client;
  schema: string;
  databaseUrl: string;
  natsUrl: string;
  stop(): Promise<void>;
}

export async function startPdsUnderTest(options: {
  schemaPrefix: string;
  seed?: 'none' | 'sandbox';
}): Promise<PdsUnderTest> {
  const schema = uniqueName(options.schemaPrefix);
  const databaseUrl = testDatabaseUrl();
  const nats: TestNats = await startTestNats();
  const config = loadConfig(PdsConfig, {
    NATS_URL: nats.url,
    DATABASE_URL: databaseUrl,
    PDS_DB_SCHEMA: schema,
    PDS_HTTP_PORT: '0',
    PDS_SEED: options.seed ?? 'none',
  });
  const app = await startPds(config, createLogger({ service: 'pds', level: 'silent' }));
  const connection = await connect({ servers: nats.url });
  const db = new Client({ connectionString: databaseUrl });
  await db.connect();
  return {
    app,
    pds: new PdsClient(new NatsRpcClient(connection, { timeoutMs: 5000 })),
    connection,
    db,
    schema,
    databaseUrl,
    natsUrl: nats.url,
    stop: async () => {
      await db.end();
      await connection.close();
      await app.close();
      await nats.stop();
      await dropSchema(databaseUrl, schema);
    },
  };
}
