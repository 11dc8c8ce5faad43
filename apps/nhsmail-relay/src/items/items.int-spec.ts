import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import type { NatsConnection } from 'nats';
import type { Client } from 'pg';
import { NHSMAIL_EVENT_STREAM, NHSMAIL_EVENTS, type NhsmailRelayClient } from '@platform/contracts-nhsmail';
import type { CallContext } from '@platform/shared-nats';
import { allAtOnce, outcomes, rejectionOf } from '@platform/shared-testing';
import { startNhsmailRelayUnderTest, type NhsmailRelayUnderTest } from '../nhsmail-relay.test-harness';

function context(requestId: string = randomUUID(), caller = 'user-1'): CallContext {
  return { requestId, caller: { id: caller, roles: ['ops'] } };
}

describe('nhsmail-relay items over NATS against PostgreSQL', () => {
  let under: NhsmailRelayUnderTest;
  let client: NhsmailRelayClient;
  let db: Client;
  let schema: string;
  let app: INestApplication;
  let connection: NatsConnection;

  const count = async (name: string): Promise<number> =>
    (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${schema}".item WHERE name = $1`, [name])).rows[0]
      .n;

  beforeAll(async () => {
    under = await startNhsmailRelayUnderTest({ schemaPrefix: 'nhsmail_it' });
    ({ client, db, schema, app, connection } = under);
  });

  afterAll(async () => {
    await under?.stop();
  });

  it('is ready: PostgreSQL answers and its queue group answers its health subject', async () => {
    const response = await fetch(`${await app.getUrl()}/health/ready`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok', checks: { postgres: 'up', nats: 'up' } });
    await expect(client.health(context())).resolves.toEqual({ status: 'ok', service: 'nhsmail-relay' });
  });

  it('creates an item, reads it back, and publishes nhsmail.item.created.v1 to NHSMAIL_EVENTS', async () => {
    const created = await client.createItem({ name: 'first', description: 'the first item' }, context());
    expect(created).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      name: 'first',
      description: 'the first item',
      version: 1,
      createdAt: expect.any(String),
    });
    await expect(client.getItem({ itemId: created.id }, context())).resolves.toEqual(created);
    const jetstream = await connection.jetstreamManager();
    let published: { subject: string; data: unknown } | undefined;
    for (let attempt = 0; attempt < 50 && !published; attempt += 1) {
      try {
        const message = await jetstream.streams.getMessage(NHSMAIL_EVENT_STREAM, {
          last_by_subj: NHSMAIL_EVENTS.itemCreated,
        });
        published = { subject: message.subject, data: message.json() };
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    expect(published).toEqual({
      subject: NHSMAIL_EVENTS.itemCreated,
      data: { itemId: created.id, version: 1, occurredAt: created.createdAt },
    });
  });

  it('answers NHSMAIL_ITEM_NOT_FOUND for an unknown item, and INVALID_VALUE for an ID that is not a UUID', async () => {
    expect((await rejectionOf(client.getItem({ itemId: randomUUID() }, context()))).code).toBe(
      'NHSMAIL_ITEM_NOT_FOUND',
    );
    expect((await rejectionOf(client.getItem({ itemId: 'not-a-uuid' }, context()))).code).toBe('INVALID_VALUE');
    expect((await rejectionOf(client.createItem({ name: '' }, context()))).code).toBe('INVALID_VALUE');
  });

  it('creates once for a retried request, and refuses the same X-Request-ID for another request', async () => {
    const retry = context();
    const first = await client.createItem({ name: 'retried' }, retry);
    const second = await client.createItem({ name: 'retried' }, retry);
    expect(second).toEqual(first);
    expect(await count('retried')).toBe(1);
    expect((await rejectionOf(client.createItem({ name: 'another' }, retry))).code).toBe('INVALID_VALUE');
    expect(await count('another')).toBe(0);
    // Another caller's request with the same ID is its own write.
    const other = await client.createItem({ name: 'retried' }, context(retry.requestId, 'user-2'));
    expect(other.id).not.toBe(first.id);
  });

  it('under concurrency: 30 retries of one write at once create one item; 30 different writes create 30', async () => {
    const retry = context();
    const same = outcomes(await allAtOnce(30, 10_000, () => client.createItem({ name: 'raced' }, retry)));
    expect(same.filter((item) => typeof item === 'string')).toEqual([]);
    expect(new Set(same.map((item) => (typeof item === 'string' ? item : item.id))).size).toBe(1);
    expect(await count('raced')).toBe(1);
    const different = outcomes(
      await allAtOnce(30, 10_000, (index) => client.createItem({ name: `many-${index}` }, context())),
    );
    expect(different.filter((item) => typeof item === 'string')).toEqual([]);
    expect(new Set(different.map((item) => (typeof item === 'string' ? item : item.id))).size).toBe(30);
    const rows = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM "${schema}".item WHERE name LIKE 'many-%'`,
    );
    expect(rows.rows[0].n).toBe(30);
  });
});
