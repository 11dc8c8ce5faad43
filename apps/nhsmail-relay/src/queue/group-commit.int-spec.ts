import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { NHSMAIL_EVENTS } from '@platform/contracts-nhsmail';
import { allAtOnce } from '@platform/shared-testing';
import {
  registryAdmin,
  SmtpTalk,
  startNhsmailRelayUnderTest,
  type NhsmailRelayUnderTest,
} from '../nhsmail-relay.test-harness';
import { GROUP_PARALLEL, MessageStore, type MessageMeta } from './message-store';

const MAILBOX = 'group.commit@nhs.net';

/**
 * Group commit: messages that reach their commit together are written in one transaction. Every 250 must
 * mean the message, its chunk, its delivery and its event are committed; a group that fails must answer
 * 451 to each of its messages and leave none of their rows.
 */
describe('group commit of accepted messages', () => {
  let relay: NhsmailRelayUnderTest;
  let store: MessageStore;

  beforeAll(async () => {
    relay = await startNhsmailRelayUnderTest({ schemaPrefix: 'nhsmail_group' });
    store = relay.app.get(MessageStore);
    await relay.client.createMailbox(
      { address: MAILBOX, kind: 'shared', displayName: 'Group commit', odsCode: 'GC001', members: ['someone'] },
      registryAdmin(),
    );
  });

  afterAll(async () => {
    await relay?.stop();
  });

  /** What is stored of a message with this Message-ID header: its rows in every table a commit writes. */
  const stored = async (messageId: string) => {
    const rows = await relay.db.query<{ state: string; chunks: string; deliveries: string; events: string }>(
      `SELECT m.state,
              (SELECT count(*) FROM "${relay.schema}".message_chunk c WHERE c.message = m.id) AS chunks,
              (SELECT count(*) FROM "${relay.schema}".delivery d WHERE d.message = m.id) AS deliveries,
              (SELECT count(*) FROM "${relay.schema}".outbox o
                WHERE o.subject = $2 AND o.payload->>'messageId' = m.id::text) AS events
         FROM "${relay.schema}".message m WHERE m.message_id = $1`,
      [messageId, NHSMAIL_EVENTS.messageAccepted],
    );
    return rows.rows.map((row) => ({
      state: row.state,
      chunks: Number(row.chunks),
      deliveries: Number(row.deliveries),
      events: Number(row.events),
    }));
  };

  const send = async (messageId: string, subject: string): Promise<string> => {
    const { talk } = await SmtpTalk.open(relay.relayPort);
    try {
      await talk.send('EHLO many.example');
      await talk.send('MAIL FROM:<sender@outside.example>');
      await talk.send(`RCPT TO:<${MAILBOX}>`);
      return await talk.data(
        `From: sender@outside.example\r\nTo: ${MAILBOX}\r\nSubject: ${subject}\r\nMessage-ID: ${messageId}\r\n\r\nHello`,
      );
    } finally {
      talk.close();
    }
  };

  it('answers 250 to 40 simultaneous SMTP clients, each message whole (row, chunk, delivery, event), in fewer transactions than messages', async () => {
    const before = { ...store.group.stats };
    const ids = Array.from({ length: 40 }, () => `<${randomUUID()}@outside.example>`);
    const results = await allAtOnce(40, 20_000, (index) => send(ids[index], `many ${index}`));
    for (const result of results) {
      expect(result.status).toBe('fulfilled');
      expect(result.status === 'fulfilled' ? result.value : '').toMatch(/^250 2\.0\.0 Ok: queued as /);
    }
    for (const id of ids) {
      expect(await stored(id)).toEqual([{ state: 'queued', chunks: 1, deliveries: 1, events: 1 }]);
    }
    expect(store.group.stats.items - before.items).toBe(40);
    expect(store.group.stats.batches - before.batches).toBeLessThan(40);
  });

  it('fails a whole group when one of its messages cannot be written: every message of it rejected, none of their rows left', async () => {
    const meta = (id: string = randomUUID()): MessageMeta => ({
      id,
      envelopeFrom: 'sender@outside.example',
      receivedVia: 'relay',
      clientIp: '127.0.0.1',
      authenticatedAs: null,
    });
    const commit = async (spoolMeta: MessageMeta, messageId: string): Promise<void> => {
      const spool = store.spool(spoolMeta);
      await spool.write(Buffer.from(`Message-ID: ${messageId}\r\n\r\nHello\r\n`));
      await spool.commit(
        { messageId, fromHeader: 'sender@outside.example', subject: 'group' },
        [{ address: MAILBOX, local: true }],
        undefined,
        { subject: NHSMAIL_EVENTS.messageAccepted, payload: { messageId: spoolMeta.id }, requestId: spoolMeta.id },
      );
    };
    const first = meta();
    await commit(first, `<${randomUUID()}@first.example>`);

    // Submitted in one tick: at most GROUP_PARALLEL groups start at once (one message each), so the 21 last ones
    // (the poisoned one, reusing the first message's id, among them) wait and are written together.
    const leaders = Array.from({ length: GROUP_PARALLEL }, () => `<${randomUUID()}@leader.example>`);
    const followers = Array.from({ length: 20 }, () => `<${randomUUID()}@follower.example>`);
    const poisoned = `<${randomUUID()}@poisoned.example>`;
    const outcomes = await Promise.allSettled([
      ...leaders.map((id) => commit(meta(), id)),
      ...followers.slice(0, 10).map((id) => commit(meta(), id)),
      commit(meta(first.id), poisoned),
      ...followers.slice(10).map((id) => commit(meta(), id)),
    ]);
    expect(outcomes.slice(0, GROUP_PARALLEL).every((outcome) => outcome.status === 'fulfilled')).toBe(true);
    expect(outcomes.slice(GROUP_PARALLEL).every((outcome) => outcome.status === 'rejected')).toBe(true);
    for (const id of leaders) {
      expect(await stored(id)).toEqual([{ state: 'queued', chunks: 1, deliveries: 1, events: 1 }]);
    }
    for (const id of [...followers, poisoned]) expect(await stored(id)).toEqual([]);
    const orphans = await relay.db.query<{ n: string }>(
      `SELECT (SELECT count(*) FROM "${relay.schema}".message_chunk c
                WHERE NOT EXISTS (SELECT 1 FROM "${relay.schema}".message m WHERE m.id = c.message))
            + (SELECT count(*) FROM "${relay.schema}".outbox o WHERE o.subject = $1
                AND NOT EXISTS (SELECT 1 FROM "${relay.schema}".message m WHERE m.id::text = o.payload->>'messageId')) AS n`,
      [NHSMAIL_EVENTS.messageAccepted],
    );
    expect(Number(orphans.rows[0]?.n)).toBe(0);
  });

  it("fails a whole group by the statement's own check when a message in it is no longer receiving: none of the group's rows stay", async () => {
    const meta = (): MessageMeta => ({
      id: randomUUID(),
      envelopeFrom: 'sender@outside.example',
      receivedVia: 'relay',
      clientIp: '127.0.0.1',
      authenticatedAs: null,
    });
    const headers = (messageId: string) => ({ messageId, fromHeader: 'sender@outside.example', subject: 'check' });
    const event = (id: string) => ({
      subject: NHSMAIL_EVENTS.messageAccepted,
      payload: { messageId: id },
      requestId: id,
    });
    // A large message: its `receiving` row and first chunk are written before the commit. Something else then
    // moves the row on (here by hand), so the commit's update finds no receiving row while every foreign key
    // still holds: only the count check can refuse it.
    const large = meta();
    const largeId = `<${randomUUID()}@large.example>`;
    const spool = store.spool(large);
    await spool.write(Buffer.alloc(300 * 1024, 'a'));
    await relay.db.query(`UPDATE "${relay.schema}".message SET state = 'queued', message_id = $2 WHERE id = $1`, [
      large.id,
      largeId,
    ]);

    const leaders = Array.from({ length: GROUP_PARALLEL }, () => `<${randomUUID()}@leader.example>`);
    const followers = Array.from({ length: 24 }, () => `<${randomUUID()}@follower.example>`);
    const small = (messageId: string): Promise<void> => {
      const m = meta();
      const s = store.spool(m);
      return s
        .write(Buffer.from(`Message-ID: ${messageId}\r\n\r\nHello\r\n`))
        .then(() => s.commit(headers(messageId), [{ address: MAILBOX, local: true }], undefined, event(m.id)));
    };
    const outcomes = await Promise.allSettled([
      ...leaders.map(small),
      ...followers.slice(0, 12).map(small),
      // After a write, as the small ones, so that it is submitted in their order, behind the leaders.
      spool
        .write(Buffer.alloc(0))
        .then(() => spool.commit(headers(largeId), [{ address: MAILBOX, local: true }], undefined, event(large.id))),
      ...followers.slice(12).map(small),
    ]);
    expect(outcomes.slice(0, GROUP_PARALLEL).every((outcome) => outcome.status === 'fulfilled')).toBe(true);
    const refused = outcomes.slice(GROUP_PARALLEL);
    expect(refused.every((outcome) => outcome.status === 'rejected')).toBe(true);
    expect(String((refused[12] as PromiseRejectedResult).reason)).toMatch(/messages were still receiving/);
    for (const id of leaders) {
      expect(await stored(id)).toEqual([{ state: 'queued', chunks: 1, deliveries: 1, events: 1 }]);
    }
    for (const id of followers) expect(await stored(id)).toEqual([]);
    // The large message keeps only what was there before its commit: its first chunk, no delivery, no event.
    expect(await stored(largeId)).toEqual([{ state: 'queued', chunks: 1, deliveries: 0, events: 0 }]);
    await relay.db.query(`DELETE FROM "${relay.schema}".message WHERE id = $1`, [large.id]);
  });

  it('answers 451 to each SMTP client whose message shared a group with one the database refuses, and 250 only for whole messages', async () => {
    // The database refuses one subject (a trigger): that message's group fails, whoever else is in it.
    await relay.db.query(`
      CREATE FUNCTION "${relay.schema}".refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'poisoned message'; END $$`);
    await relay.db.query(`
      CREATE TRIGGER refuse_poison BEFORE INSERT ON "${relay.schema}".message
      FOR EACH ROW WHEN (NEW.subject = 'poison') EXECUTE FUNCTION "${relay.schema}".refuse_poison()`);
    try {
      const ids = Array.from({ length: 30 }, () => `<${randomUUID()}@outside.example>`);
      const results = await allAtOnce(30, 20_000, (index) =>
        send(ids[index], index === 15 ? 'poison' : `fine ${index}`),
      );
      const replies = results.map((result) => (result.status === 'fulfilled' ? result.value : 'failed'));
      expect(replies[15]).toMatch(/^451 4\.3\.0 /);
      for (const [index, reply] of replies.entries()) {
        expect(reply).toMatch(/^(250 2\.0\.0|451 4\.3\.0) /);
        const rows = await stored(ids[index]);
        if (reply.startsWith('250')) expect(rows).toEqual([{ state: 'queued', chunks: 1, deliveries: 1, events: 1 }]);
        else expect(rows).toEqual([]);
      }
      // The relay keeps serving once the group is gone.
      const after = `<${randomUUID()}@outside.example>`;
      expect(await send(after, 'after the poison')).toMatch(/^250 /);
    } finally {
      await relay.db.query(`DROP TRIGGER refuse_poison ON "${relay.schema}".message`);
      await relay.db.query(`DROP FUNCTION "${relay.schema}".refuse_poison()`);
    }
  });
});
