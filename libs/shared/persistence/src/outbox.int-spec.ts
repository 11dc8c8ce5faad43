import { connect, type NatsConnection } from 'nats';
import { Client } from 'pg';
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { createLogger } from '@platform/shared-logging';
import {
  allAtOnce,
  dropSchema,
  startTestNats,
  testDatabaseUrl,
  uniqueName,
  type TestNats,
} from '@platform/shared-testing';
import { migrationSchema, openServiceDatabase, type ServiceDatabase } from './database';
import { ensureEventStream, Outbox } from './outbox';
import { withTransaction } from './transaction';
import { createWriteTables } from './write-tables';

class Tables implements MigrationInterface {
  name = 'Tables1700000000002';
  async up(queryRunner: QueryRunner): Promise<void> {
    await createWriteTables(queryRunner, migrationSchema(queryRunner, 'public'));
  }
  async down(): Promise<void> {
    // never reverted here
  }
}

/**
 * The outbox relay publishes a batch of events together (their acks awaited together). Every event must
 * reach the stream once, in the order of the outbox; a batch one of whose publishes fails is published again
 * whole, and JetStream's duplicate window keeps what was already stored from being stored twice.
 */
describe('the outbox relay, against PostgreSQL and JetStream', () => {
  const schema = uniqueName('outbox_relay');
  const stream = uniqueName('OUTBOX_TEST').toUpperCase();
  const subject = `${stream.toLowerCase()}.thing.happened.v1`;
  const url = testDatabaseUrl();
  let database: ServiceDatabase;
  let natsServer: TestNats;
  let nats: NatsConnection;
  let outbox: Outbox;
  let db: Client;

  beforeAll(async () => {
    database = await openServiceDatabase({
      url,
      schema,
      poolSize: 5,
      migrations: [Tables],
      applicationName: 'outbox-relay-test',
      timeouts: { acquireMs: 10_000, statementMs: 10_000, idleInTransactionMs: 30_000 },
    });
    natsServer = await startTestNats();
    nats = await connect({ servers: natsServer.url });
    await ensureEventStream(nats, stream, [subject]);
    outbox = new Outbox(database, nats, createLogger({ service: 'outbox-test', level: 'silent' }), 'outbox-test');
    db = new Client({ connectionString: url });
    await db.connect();
  });

  afterAll(async () => {
    await outbox?.stop();
    await db?.end();
    await nats?.close();
    await natsServer?.stop();
    await database?.dataSource.destroy();
    await dropSchema(url, schema);
  });

  /** The stream's messages in order: their outbox row (from Nats-Msg-Id) and payload. */
  const inStream = async (): Promise<{ row: number; n: number }[]> => {
    const manager = await nats.jetstreamManager();
    const info = await manager.streams.info(stream);
    const messages: { row: number; n: number }[] = [];
    for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq += 1) {
      const message = await manager.streams.getMessage(stream, { seq });
      const id = message.header.get('Nats-Msg-Id');
      messages.push({ row: Number(id.replace('outbox-test-outbox-', '')), n: message.json<{ n: number }>().n });
    }
    return messages;
  };
  const unpublished = async (): Promise<number> =>
    Number(
      (await db.query<{ n: string }>(`SELECT count(*) AS n FROM "${schema}".outbox WHERE published_at IS NULL`)).rows[0]
        ?.n,
    );
  const rows = async (): Promise<{ id: number; n: number }[]> =>
    (
      await db.query<{ id: string; n: number }>(
        `SELECT id, (payload->>'n')::int AS n FROM "${schema}".outbox ORDER BY id`,
      )
    ).rows.map((row) => ({ id: Number(row.id), n: row.n }));

  it('publishes the events of 60 simultaneous writers (each kicking the relay) and 400 more, each once, those of one transaction in their order', async () => {
    const results = await allAtOnce(60, 20_000, async (index) => {
      await withTransaction(database.pool, (transaction) =>
        outbox.append(transaction, subject, { n: index }, { requestId: `writer-${index}` }),
      );
      outbox.kick();
    });
    expect(results.every((result) => result.status === 'fulfilled')).toBe(true);
    // More than two of the relay's batches of 200 at once.
    await withTransaction(database.pool, async (transaction) => {
      for (let n = 60; n < 460; n += 1) await outbox.append(transaction, subject, { n }, { requestId: `bulk-${n}` });
    });
    outbox.kick();
    await outbox.idle();
    expect(await unpublished()).toBe(0);
    const stored = await inStream();
    // Each row once. The 60 writers commit in any order (a row committed after a later one is published
    // after it); the 400 of one transaction are published in their order.
    expect([...stored].sort((a, b) => a.row - b.row)).toEqual((await rows()).map((row) => ({ row: row.id, n: row.n })));
    const bulk = stored.filter((message) => message.n >= 60).map((message) => message.n);
    expect(bulk).toEqual(Array.from({ length: 400 }, (_, index) => 60 + index));
  });

  it('publishes the events of 60 simultaneous writers that only kickSoon, each once, and folds kicks within the delay into one pass', async () => {
    const before = new Set((await rows()).map((row) => row.id));
    const results = await allAtOnce(60, 20_000, async (index) => {
      await withTransaction(database.pool, (transaction) =>
        outbox.append(transaction, subject, { n: 1000 + index }, { requestId: `soon-${index}` }),
      );
      outbox.kickSoon();
    });
    expect(results.every((result) => result.status === 'fulfilled')).toBe(true);
    // Nothing but the kicks publishes here (the test starts no sweep): idle() waits for the pass they scheduled.
    await outbox.idle();
    expect(await unpublished()).toBe(0);
    const published = (await rows()).filter((row) => !before.has(row.id)).map((row) => row.n);
    expect(published.sort((a, b) => a - b)).toEqual(Array.from({ length: 60 }, (_, i) => 1000 + i));
    const stored = (await inStream()).filter((message) => message.n >= 1000).map((message) => message.n);
    expect(stored.sort((a, b) => a - b)).toEqual(published);

    // Twenty commits one after another, each kicking an outbox that folds kicks over longer than they take:
    // one pass, which marks its batch in one transaction (one published_at). With kick() the first commit's
    // pass would already have run before the second commit.
    const folding = new Outbox(
      database,
      nats,
      createLogger({ service: 'outbox-test', level: 'silent' }),
      'outbox-test',
      { foldMs: 3000 },
    );
    try {
      for (let index = 0; index < 20; index += 1) {
        await withTransaction(database.pool, (transaction) =>
          folding.append(transaction, subject, { n: 2000 + index }, { requestId: `later-${index}` }),
        );
        folding.kickSoon();
      }
      await folding.idle();
    } finally {
      await folding.stop();
    }
    const passes = await db.query<{ n: string; rows: string }>(
      `SELECT count(DISTINCT published_at) AS n, count(*) AS rows FROM "${schema}".outbox WHERE (payload->>'n')::int >= 2000`,
    );
    expect(passes.rows[0]).toEqual({ n: '1', rows: '20' });
  });

  it('publishes a batch again whole when one of its publishes fails, with nothing stored twice or lost', async () => {
    const before = (await inStream()).length;
    // The tenth event's subject has no stream: its publish fails (no responders) while the others are stored.
    await withTransaction(database.pool, async (transaction) => {
      for (let n = 1000; n < 1030; n += 1) {
        await outbox.append(transaction, n === 1009 ? `${subject}.nowhere` : subject, { n }, { requestId: `f-${n}` });
      }
    });
    outbox.kick();
    await outbox.idle();
    // The batch was rolled back: none of its rows is marked, though the stream already holds the other 29.
    expect(await unpublished()).toBe(30);
    expect((await inStream()).length - before).toBe(29);

    await db.query(`UPDATE "${schema}".outbox SET subject = $1 WHERE payload->>'n' = '1009'`, [subject]);
    outbox.kick();
    await outbox.idle();
    expect(await unpublished()).toBe(0);
    const stored = (await inStream()).slice(before);
    // Each once: the 29 published again were dropped as duplicates; the failed one came last.
    expect(stored.map((message) => message.n).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 30 }, (_, index) => 1000 + index),
    );
    expect(stored[stored.length - 1]?.n).toBe(1009);
  });
});
