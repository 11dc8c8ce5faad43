import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { connect, type NatsConnection } from 'nats';
import { Client } from 'pg';
import { N3Client } from '@platform/contracts-n3';
import { loadConfig } from '@platform/shared-config';
import { createLogger } from '@platform/shared-logging';
import { NatsRpcClient } from '@platform/shared-nats';
import { dropSchema, startTestNats, testDatabaseUrl, uniqueName, type TestNats } from '@platform/shared-testing';
import { N3Config } from './config/n3.config';
import { startN3Registry } from './n3-registry';

/** A running registry for one integration test file: its own schema, its own NATS server, a typed client. */
export interface N3UnderTest {
  app: INestApplication;
  n3: N3Client;
  connection: NatsConnection;
  db: Client;
  schema: string;
  databaseUrl: string;
  natsUrl: string;
  stop(): Promise<void>;
}

export async function startN3UnderTest(options: { seed?: 'none' | 'sandbox' } = {}): Promise<N3UnderTest> {
  const schema = uniqueName('n3_test');
  const databaseUrl = testDatabaseUrl();
  const nats: TestNats = await startTestNats();
  const config = loadConfig(N3Config, {
    NATS_URL: nats.url,
    DATABASE_URL: databaseUrl,
    N3_DB_SCHEMA: schema,
    N3_HTTP_PORT: '0',
    N3_SEED: options.seed ?? 'sandbox',
  });
  const app = await startN3Registry(config, createLogger({ service: 'n3-registry', level: 'silent' }));
  const connection = await connect({ servers: nats.url });
  const db = new Client({ connectionString: databaseUrl });
  await db.connect();
  return {
    app,
    n3: new N3Client(new NatsRpcClient(connection, { timeoutMs: 10_000 })),
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
