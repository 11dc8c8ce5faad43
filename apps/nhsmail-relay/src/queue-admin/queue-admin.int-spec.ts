import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import type { CallContext } from '@platform/shared-nats';
import { allAtOnce, outcomes, tally } from '@platform/shared-testing';
import { eventually, startNhsmailRelayUnderTest, type NhsmailRelayUnderTest } from '../nhsmail-relay.test-harness';

function ops(requestId = randomUUID()): CallContext {
  return { requestId, caller: { id: 'user-ops', username: 'jordan.lee', roles: ['ops'], organisation: 'X26' } };
}

function sender(): CallContext {
  return {
    requestId: randomUUID(),
    caller: { id: 'user-grace', username: 'grace.hughes', roles: ['practice-admin'], organisation: 'A83008' },
  };
}

describe('the queue for operators (list, retry now, purge) over NATS', () => {
  let relay: NhsmailRelayUnderTest;

  const far = async () => (await relay.client.listQueue({ state: 'pending', domain: 'far.example' }, ops())).deliveries;

  beforeAll(async () => {
    // A temporary failure waits an hour: the test's retry is what brings it back.
    relay = await startNhsmailRelayUnderTest({
      schemaPrefix: 'nhsmail_queue_ops',
      env: { NHSMAIL_RETRY_BASE_SECONDS: '3600' },
    });
  });

  afterAll(async () => {
    await relay?.stop();
  });

  it('lists by state, domain and age; retries now; purges a domain once for 20 simultaneous retries of one request', async () => {
    const mailbox = (await relay.client.myMailboxes(sender())).personal.address;
    // The smarthost (a real SMTP sink) defers defer*@ with 451 and accepts the rest.
    const sent = await relay.client.sendMessage(
      {
        mailbox,
        to: ['defer.one@far.example', 'defer.two@far.example', 'someone@near.example'],
        subject: 'x',
        text: 'x',
      },
      sender(),
    );
    const waiting = await eventually(
      far,
      (rows) => rows.length === 2 && rows.every((row) => row.attempts === 1 && !row.inFlight),
    );
    expect(waiting.map((row) => row.recipient).sort()).toEqual(['defer.one@far.example', 'defer.two@far.example']);
    expect(waiting[0]).toMatchObject({
      message: sent.id,
      state: 'pending',
      local: false,
      lastError: expect.stringContaining('4.2.1'),
    });
    await eventually(
      async () => (await relay.client.listQueue({ state: 'delivered', domain: 'near.example' }, ops())).total,
      (total) => total === 1,
    );
    expect((await relay.client.listQueue({ domain: 'far.example', olderThanMinutes: 60 }, ops())).total).toBe(0);
    expect((await relay.client.listQueue({ domain: 'far.example', olderThanMinutes: 0 }, ops())).total).toBe(2);

    // Not operations: refused, nothing changed.
    for (const attempt of [
      relay.client.listQueue({}, sender()),
      relay.client.retryQueue({ domain: 'far.example' }, sender()),
      relay.client.purgeQueue({ domain: 'far.example' }, sender()),
    ]) {
      await expect(attempt).rejects.toMatchObject({ code: 'ACCESS_DENIED' });
    }
    await expect(relay.client.retryQueue({}, ops())).rejects.toMatchObject({ code: 'INVALID_VALUE' });

    await expect(relay.client.retryQueue({ domain: 'far.example' }, ops())).resolves.toEqual({
      changed: 2,
      inFlight: 0,
    });
    await eventually(far, (rows) => rows.every((row) => row.attempts === 2 && !row.inFlight));
    expect((await far()).map((row) => row.attempts)).toEqual([2, 2]);
    const one = (await far())[0]?.id ?? '';
    await expect(relay.client.retryQueue({ deliveryId: one }, ops())).resolves.toEqual({ changed: 1, inFlight: 0 });
    await eventually(far, (rows) => rows.some((row) => row.attempts === 3) && rows.every((row) => !row.inFlight));

    const purge = ops();
    const replies = outcomes(
      await allAtOnce(20, 10_000, () => relay.client.purgeQueue({ domain: 'far.example' }, purge)),
    );
    expect(tally(replies, (reply) => JSON.stringify(reply))).toEqual({
      [JSON.stringify({ changed: 2, inFlight: 0 })]: 20,
    });
    expect(await far()).toEqual([]);
    const bounced = await relay.client.listQueue({ state: 'bounced', domain: 'far.example' }, ops());
    expect(bounced.deliveries.map((row) => row.lastError)).toEqual([
      'purged by operations (jordan.lee)',
      'purged by operations (jordan.lee)',
    ]);
    const events = await relay.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM "${relay.schema}".outbox WHERE subject = 'nhsmail.message.bounced.v1'`,
    );
    expect(events.rows[0]?.n).toBe(2);
    // Nothing left to purge: a new request changes nothing.
    await expect(relay.client.purgeQueue({ messageId: sent.id }, ops())).resolves.toEqual({ changed: 0, inFlight: 0 });
  });
});
