import { randomUUID } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import { connect, DeliverPolicy, type JetStreamManager } from 'nats';
import { ERS_EVENT_STREAM, ERS_EVENTS } from '@platform/contracts-ers';
import { GP2GP_EVENT_STREAM, GP2GP_EVENTS } from '@platform/contracts-gp2gp';
import { createLogger } from '@platform/shared-logging';
import { NHSMAIL_RELAY_DATABASE, type NhsmailRelayDatabase } from '../database/database.provider';
import { MailDomains } from '../mailboxes/mail-domains';
import {
  addEventStreams,
  countOf,
  deliveredTo,
  eventually,
  publishEvent,
  startNhsmailRelayUnderTest,
  type NhsmailRelayUnderTest,
} from '../nhsmail-relay.test-harness';
import { MessageStore } from '../queue/message-store';
import { NOTICE_SOURCES } from './notice-content';
import { PracticeNotices } from './practice-notices';

function timedOut(sendingOds: string): Record<string, unknown> {
  return {
    conversationId: randomUUID(),
    requestingOds: 'A83008',
    sendingOds,
    reasonCode: '99',
    action: 'print-record',
    occurredAt: new Date().toISOString(),
  };
}

function rejected(referrerOdsCode: string, index: number): Record<string, unknown> {
  return {
    ubrn: String(200_000_000_000 + index),
    versionId: 2,
    state: 'REJECTED',
    referrerOdsCode,
    providerOdsCode: 'RR8',
    reason: 'CLINICALLY_INAPPROPRIATE',
    occurredAt: new Date().toISOString(),
  };
}

/**
 * Where the relay's event-notice consumers start (issue 15): a first deployment onto streams that already hold
 * events mails none of them; an existing durable keeps its place when the relay stops and starts again, so
 * events published while it was down are mailed once after it comes back, and none twice. Real relay
 * processes' worth (two in turn on one schema), real NATS JetStream, real PostgreSQL.
 */
describe('event notice consumers: where they start', () => {
  let relay: NhsmailRelayUnderTest;
  let manager: JetStreamManager;
  let schema: string;
  /** Events already in the streams when the relay first started (a platform that ran before the relay). */
  const old = {
    gp2gp: Array.from({ length: 3 }, () => `gp2gp-outbox-${randomUUID()}`),
    ers: Array.from({ length: 3 }, () => `e-referrals-outbox-${randomUUID()}`),
  };
  /** Between the two old ERS batches: the point the 'time' consumer below starts from. */
  let between: Date;
  /** The relay started again in the restart test. */
  let restarted: INestApplication | undefined;

  const count = (sql: string, values: unknown[] = []): Promise<number> => countOf(relay, sql, values);
  const noticed = (ids: string[]): Promise<number> =>
    count(`SELECT count(*) AS n FROM ${schema}.event_notice WHERE event_id = ANY($1)`, [ids]);
  const delivered = (address: string): Promise<number> => deliveredTo(relay, address);

  async function pending(durables = NOTICE_SOURCES): Promise<number> {
    let total = 0;
    for (const source of durables) {
      const info = await manager.consumers.info(source.stream, source.durable);
      total += info.num_pending + info.num_ack_pending;
    }
    return total;
  }

  beforeAll(async () => {
    relay = await startNhsmailRelayUnderTest({
      schemaPrefix: 'nhsmail_notice_start',
      beforeStart: async (natsUrl) => {
        const nats = await connect({ servers: natsUrl });
        await addEventStreams(await nats.jetstreamManager());
        for (const id of old.gp2gp) await publishEvent(nats, GP2GP_EVENTS.transferTimedOut, timedOut('F86001'), id);
        await publishEvent(nats, ERS_EVENTS.referralRejected, rejected('F86001', 0), old.ers[0] ?? '');
        await new Promise((resolve) => setTimeout(resolve, 50));
        between = new Date();
        await new Promise((resolve) => setTimeout(resolve, 50));
        await publishEvent(nats, ERS_EVENTS.referralRejected, rejected('F86001', 1), old.ers[1] ?? '');
        await publishEvent(nats, ERS_EVENTS.referralRejected, rejected('F86001', 2), old.ers[2] ?? '');
        await nats.close();
      },
    });
    schema = `"${relay.schema}"`;
    manager = await relay.connection.jetstreamManager();
  }, 60_000);

  afterAll(async () => {
    await relay?.stop();
  });

  it("does not mail the events a stream held before the relay's first start, and mails those after it", async () => {
    // The four durables are made, starting at the relay's first start.
    const made = await eventually(
      async () => {
        const infos = await Promise.all(
          NOTICE_SOURCES.map((source) => manager.consumers.info(source.stream, source.durable).catch(() => undefined)),
        );
        return infos.filter((info) => info !== undefined);
      },
      (infos) => infos.length === NOTICE_SOURCES.length,
      15_000,
    );
    expect(made).toHaveLength(NOTICE_SOURCES.length);
    for (const info of made) expect(info.config.deliver_policy).toBe(DeliverPolicy.StartTime);

    const fresh = [`gp2gp-outbox-${randomUUID()}`, `e-referrals-outbox-${randomUUID()}`];
    await publishEvent(relay.connection, GP2GP_EVENTS.transferTimedOut, timedOut('F86002'), fresh[0] ?? '');
    await publishEvent(relay.connection, ERS_EVENTS.referralRejected, rejected('F86002', 10), fresh[1] ?? '');
    expect(
      await eventually(
        () => delivered('gp.f86002@nhs.net'),
        (n) => n === 2,
        15_000,
      ),
    ).toBe(2);
    expect(await eventually(pending, (n) => n === 0, 10_000)).toBe(0);
    // The stream delivers in order: had the old events been for the relay, they would have come first.
    expect(await noticed([...old.gp2gp, ...old.ers])).toBe(0);
    expect(await count(`SELECT count(*) AS n FROM ${schema}.mailbox WHERE address = 'gp.f86001@nhs.net'`)).toBe(0);
    expect(await noticed(fresh)).toBe(2);
  }, 30_000);

  it('keeps its place across a restart: events published while the relay is down are mailed once after it', async () => {
    const practice = 'gp.f86003@nhs.net';
    const ids: string[] = [];
    let index = 100;
    const send = async (): Promise<void> => {
      const id = `e-referrals-outbox-${randomUUID()}`;
      ids.push(id);
      index += 1;
      if (index % 2 === 0) await publishEvent(relay.connection, GP2GP_EVENTS.transferTimedOut, timedOut('F86003'), id);
      else await publishEvent(relay.connection, ERS_EVENTS.referralRejected, rejected('F86003', index), id);
    };
    // Events while the relay runs, some of them in flight as it shuts down.
    for (let n = 0; n < 10; n += 1) await send();
    // The relay shuts down its consumers (as its shutdown hook does first), some events in flight meanwhile.
    const shutting = relay.app.get(PracticeNotices).stop();
    for (let n = 0; n < 10; n += 1) await send();
    await shutting;
    // The relay is down: these wait in the streams for its durables.
    for (let n = 0; n < 10; n += 1) await send();
    const durableBefore = await manager.consumers.info(GP2GP_EVENT_STREAM, 'nhsmail-gp2gp-timed-out');
    expect(durableBefore.num_pending).toBeGreaterThan(0);

    // Started again (a new process's worth, nothing kept in memory): the same durables, from where they were.
    // (The first one's SMTP listeners and delivery worker keep running: only its consumers stopped.)
    restarted = await relay.startAnother();
    for (let n = 0; n < 10; n += 1) await send();
    expect(
      await eventually(
        () => delivered(practice),
        (n) => n >= ids.length,
        // A pull request the stopped consumers left open can hold one event until its ack_wait (30 s) runs out.
        45_000,
      ),
    ).toBe(ids.length);
    expect(await eventually(pending, (n) => n === 0, 10_000)).toBe(0);
    expect(await noticed(ids)).toBe(ids.length);
    const durableAfter = await manager.consumers.info(GP2GP_EVENT_STREAM, 'nhsmail-gp2gp-timed-out');
    expect(durableAfter.created).toBe(durableBefore.created);
    // Still none of the events from before the first start, and nothing mailed twice.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await delivered(practice)).toBe(ids.length);
    expect(await noticed([...old.gp2gp, ...old.ers])).toBe(0);
  }, 90_000);

  it("starts a new durable from NHSMAIL_NOTICES_START's 'all' or time when configured so", async () => {
    // The relay's components, from the one running since the restart above.
    const running = restarted ?? (await relay.startAnother());
    const database = running.get<NhsmailRelayDatabase>(NHSMAIL_RELAY_DATABASE);
    const store = running.get(MessageStore);
    const domains = running.get(MailDomains);
    const logger = createLogger({ service: 'nhsmail-relay', level: 'silent' });
    const fromAll = new PracticeNotices(
      relay.connection,
      database,
      store,
      domains,
      logger,
      { retryMs: 200, start: 'all' },
      () => undefined,
      [{ stream: GP2GP_EVENT_STREAM, subject: GP2GP_EVENTS.transferTimedOut, durable: 'test-notices-from-all' }],
    );
    const fromTime = new PracticeNotices(
      relay.connection,
      database,
      store,
      domains,
      logger,
      { retryMs: 200, start: between },
      () => undefined,
      [{ stream: ERS_EVENT_STREAM, subject: ERS_EVENTS.referralRejected, durable: 'test-notices-from-time' }],
    );
    fromAll.start();
    fromTime.start();
    try {
      // Every old GP2GP event (the stream's first three), and the old ERS events published after `between` only.
      expect(
        await eventually(
          () => noticed([...old.gp2gp, ...old.ers]),
          (n) => n === 5,
          15_000,
        ),
      ).toBe(5);
      expect(await noticed(old.gp2gp)).toBe(3);
      expect(await noticed(old.ers.slice(1))).toBe(2);
      expect(await noticed(old.ers.slice(0, 1))).toBe(0);
      const info = await manager.consumers.info(ERS_EVENT_STREAM, 'test-notices-from-time');
      expect(new Date(info.config.opt_start_time ?? '').getTime()).toBe(between.getTime());
    } finally {
      await fromAll.stop();
      await fromTime.stop();
    }
  }, 60_000);
});
