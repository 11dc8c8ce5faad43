import { connect, type NatsConnection } from 'nats';
import { Client } from 'pg';
import { dropSchema, startTestNats, testDatabaseUrl, uniqueName } from './infrastructure';

/** What a started service hands back: something that can be closed (a Nest application). */
export interface Closable {
  close(): Promise<void>;
}

/** A service running for one integration test file: its own schema, its own NATS server. */
export interface ServiceUnderTest<App extends Closable> {
  app: App;
  /** A client connection to the service's NATS server. */
  connection: NatsConnection;
  /** A direct connection to the database, for arranging and checking rows. */
  db: Client;
  schema: string;
  databaseUrl: string;
  natsUrl: string;
  /** Kills the private NATS server and starts it again `downMs` later (same port and streams). */
  restartNats(downMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts a service on a fresh schema (named from `schemaPrefix`) and a private NATS server, with a client
 * connection to each; `stop()` closes everything and drops the schema.
 */
export async function startServiceUnderTest<App extends Closable>(
  schemaPrefix: string,
  start: (settings: { natsUrl: string; databaseUrl: string; schema: string }) => Promise<App>,
): Promise<ServiceUnderTest<App>> {
  const schema = uniqueName(schemaPrefix);
  const databaseUrl = testDatabaseUrl();
  const nats = await startTestNats();
  const app = await start({ natsUrl: nats.url, databaseUrl, schema });
  const connection = await connect({ servers: nats.url });
  const db = new Client({ connectionString: databaseUrl });
  await db.connect();
  return {
    app,
    connection,
    db,
    schema,
    databaseUrl,
    natsUrl: nats.url,
    restartNats: (downMs) => nats.restart(downMs),
    stop: async () => {
      await db.end();
      await connection.close();
      await app.close();
      await nats.stop();
      await dropSchema(databaseUrl, schema);
    },
  };
}
