import { randomUUID } from 'node:crypto';
import type { JetStreamManager } from 'nats';
import { ERS_EVENT_STREAM, ERS_EVENTS } from '@platform/contracts-ers';
import { GP2GP_EVENT_STREAM, GP2GP_EVENTS } from '@platform/contracts-gp2gp';
import type { CallContext } from '@platform/shared-nats';
import {
  addEventStreams,
  countOf,
  deliveredTo,
  eventually,
  publishEvent,
  startNhsmailRelayUnderTest,
  type NhsmailRelayUnderTest,
} from '../nhsmail-relay.test-harness';
import { PracticeNotices } from './practice-notices';

/** The publishing outboxes' duplicate window, shortened here so that the same event ID can arrive twice. */
const DUPLICATE_WINDOW_MS = 500;

function practiceUser(organisation: string): CallContext {
  return {
    requestId: randomUUID(),
    caller: { id: `user-${organisation}`, username: `gp.user.${organisation}`, roles: ['clinician'], organisation },
  };
}

/**
 * Platform events become mail to the GP practice (notices/): a GP2GP timeout (error 99) tells the sending
 * practice to print the record; a rejected referral, returned advice, advice converted to a referral and a
 * cancelled appointment tell the referring practice. Real relay, real NATS JetStream (the services' event streams, durable consumers) and
 * real PostgreSQL; events published as the services' outboxes publish them (with their Nats-Msg-Id).
 */
describe('practice notices from platform events', () => {
  let relay: NhsmailRelayUnderTest;
  let manager: JetStreamManager;
  let schema: string;

  const publish = (subject: string, payload: unknown, eventId: string): Promise<void> =>
    publishEvent(relay.connection, subject, payload, eventId);
  const count = (sql: string, values: unknown[] = []): Promise<number> => countOf(relay, sql, values);
  /** Notices delivered into a mailbox (mailbox_message rows), by the relay's own delivery worker. */
  const delivered = (address: string): Promise<number> => deliveredTo(relay, address);

  beforeAll(async () => {
    relay = await startNhsmailRelayUnderTest({ schemaPrefix: 'nhsmail_notices' });
    schema = `"${relay.schema}"`;
    manager = await relay.connection.jetstreamManager();
    // The services' event streams, as gp2gp and e-referrals create them at start (after the relay here: the
    // relay's consumers wait for them).
    await addEventStreams(manager, { duplicateWindowMs: DUPLICATE_WINDOW_MS });
  }, 60_000);

  afterAll(async () => {
    await relay?.stop();
  });

  it("mails a GP2GP timeout to the sending practice's mailbox, telling it to print the record", async () => {
    const conversationId = randomUUID();
    await publish(
      GP2GP_EVENTS.transferTimedOut,
      {
        conversationId,
        requestingOds: 'A83008',
        sendingOds: 'Y12345',
        reasonCode: '99',
        action: 'print-record',
        occurredAt: '2026-12-05T10:00:00.000Z',
      },
      `gp2gp-outbox-${randomUUID()}`,
    );
    const address = 'gp.y12345@nhs.net';
    expect(
      await eventually(
        () => delivered(address),
        (n) => n === 1,
        15_000,
      ),
    ).toBe(1);

    // The practice's users see the mailbox (made from the practice's ODS code) and read the notice.
    const user = practiceUser('Y12345');
    const mine = await relay.client.myMailboxes(user);
    expect(mine.shared.map((mailbox) => mailbox.address)).toContain(address);
    const page = await relay.client.listMessages({ mailbox: address }, user);
    expect(page.messages).toHaveLength(1);
    const message = await relay.client.readMessage({ mailbox: address, id: page.messages[0]?.id ?? '' }, user);
    expect(message.subject).toBe(`GP2GP transfer not acknowledged: print the record (conversation ${conversationId})`);
    expect(message.text).toContain('8 days (GP2GP error 99');
    expect(message.text).toContain("print the patient's record");
    expect(message.text).toContain('A83008');
    // Another practice's users do not get it.
    await expect(relay.client.listMessages({ mailbox: address }, practiceUser('A83008'))).rejects.toMatchObject({
      code: expect.stringMatching(/FORBIDDEN|ACCESS_DENIED/),
    });
  }, 30_000);

  it('mails a redelivered event once, and dozens of events at once each once to its practice', async () => {
    const before = await count(`SELECT count(*) AS n FROM ${schema}.event_notice`);
    const practices = ['A81001', 'A81002', 'B82003', 'C83004'];
    const events = Array.from({ length: 40 }, (_, index) => {
      const referrer = practices[index % practices.length] ?? 'A81001';
      const kind = index % 5;
      const ubrn = String(100_000_000_000 + index);
      if (kind === 0) {
        return {
          subject: GP2GP_EVENTS.transferTimedOut,
          mailbox: `gp.${referrer.toLowerCase()}@nhs.net`,
          payload: {
            conversationId: randomUUID(),
            requestingOds: 'Z99999',
            sendingOds: referrer,
            reasonCode: '99',
            action: 'print-record',
            occurredAt: new Date().toISOString(),
          },
        };
      }
      const subject = [
        ERS_EVENTS.referralRejected,
        ERS_EVENTS.adviceResponded,
        ERS_EVENTS.adviceConverted,
        ERS_EVENTS.appointmentCancelled,
      ][kind - 1] as string;
      return {
        subject,
        mailbox: `gp.${referrer.toLowerCase()}@nhs.net`,
        payload: {
          ubrn,
          versionId: 3,
          state: 'REJECTED',
          referrerOdsCode: referrer,
          providerOdsCode: 'RR8',
          ...(subject === ERS_EVENTS.adviceConverted ? { actorOdsCode: 'RR8', referralUbrn: ubrn } : {}),
          reason: 'CLINICALLY_INAPPROPRIATE',
          occurredAt: new Date().toISOString(),
        },
      };
    });
    const ids = events.map(() => `e-referrals-outbox-${randomUUID()}`);
    // All at once, and each again once the duplicate window has passed: JetStream stores the second copy and
    // delivers it, as it redelivers an event whose acknowledgement was lost.
    await Promise.all(events.map((event, index) => publish(event.subject, event.payload, ids[index] ?? '')));
    await new Promise((resolve) => setTimeout(resolve, DUPLICATE_WINDOW_MS + 200));
    await Promise.all(events.map((event, index) => publish(event.subject, event.payload, ids[index] ?? '')));
    const streams = await Promise.all([
      manager.streams.info(GP2GP_EVENT_STREAM),
      manager.streams.info(ERS_EVENT_STREAM),
    ]);
    // Both copies of every event are in the streams.
    expect(streams.reduce((total, stream) => total + stream.state.messages, 0)).toBeGreaterThanOrEqual(81);

    // Every event consumed: acknowledged by each durable consumer, nothing pending.
    const pending = async (): Promise<number> => {
      let total = 0;
      for (const [stream, durable] of [
        [GP2GP_EVENT_STREAM, 'nhsmail-gp2gp-timed-out'],
        [ERS_EVENT_STREAM, 'nhsmail-ers-referral-rejected'],
        [ERS_EVENT_STREAM, 'nhsmail-ers-advice-responded'],
        [ERS_EVENT_STREAM, 'nhsmail-ers-advice-converted'],
        [ERS_EVENT_STREAM, 'nhsmail-ers-appointment-cancelled'],
      ] as const) {
        const info = await manager.consumers.info(stream, durable);
        total += info.num_pending + info.num_ack_pending;
      }
      return total;
    };
    expect(await eventually(pending, (n) => n === 0, 20_000)).toBe(0);
    const notices = await count(`SELECT count(*) AS n FROM ${schema}.event_notice`);
    expect(notices - before).toBe(40);
    expect(await count(`SELECT count(*) AS n FROM ${schema}.event_notice WHERE event_id = ANY($1)`, [ids])).toBe(40);
    // Each practice's mailbox holds exactly its notices, delivered once.
    for (const practice of practices) {
      const address = `gp.${practice.toLowerCase()}@nhs.net`;
      const expected = events.filter((event) => event.mailbox === address).length;
      expect(
        await eventually(
          () => delivered(address),
          (n) => n >= expected,
          15_000,
        ),
      ).toBe(expected);
    }
    // No patient data, and the reason and UBRN a practice acts on, in an e-RS notice.
    const sample = await relay.client.listMessages(
      { mailbox: 'gp.a81002@nhs.net', subject: 'rejected' },
      practiceUser('A81002'),
    );
    expect(sample.messages.length).toBeGreaterThan(0);
    const read = await relay.client.readMessage(
      { mailbox: 'gp.a81002@nhs.net', id: sample.messages[0]?.id ?? '' },
      practiceUser('A81002'),
    );
    expect(read.text).toMatch(/Referral \d{12} was returned to your practice by RR8 .*CLINICALLY_INAPPROPRIATE/);
  }, 60_000);

  it('mails a converted advice and guidance request to the referring practice once, naming no patient', async () => {
    const ubrn = '000000071234';
    const eventId = `e-referrals-outbox-${randomUUID()}`;
    // As e-referrals publishes it on A027 (the converting provider is the actor), with a field no notice may use.
    const event = {
      ubrn,
      versionId: 2,
      state: 'CONVERTED',
      actorOdsCode: 'RR8',
      referralUbrn: ubrn,
      referrerOdsCode: 'F86007',
      patientNhsNumber: '9434765919',
      occurredAt: '2026-12-05T14:30:00.000Z',
    };
    await publish(ERS_EVENTS.adviceConverted, event, eventId);
    const address = 'gp.f86007@nhs.net';
    expect(
      await eventually(
        () => delivered(address),
        (n) => n === 1,
        15_000,
      ),
    ).toBe(1);
    const user = practiceUser('F86007');
    const page = await relay.client.listMessages({ mailbox: address }, user);
    expect(page.messages).toHaveLength(1);
    const message = await relay.client.readMessage({ mailbox: address, id: page.messages[0]?.id ?? '' }, user);
    expect(message.subject).toBe(`e-RS advice and guidance ${ubrn} converted to a referral`);
    expect(message.text).toContain(
      `Your advice and guidance request ${ubrn} was converted to a referral by the provider RR8 on 2026-12-05, ` +
        `under the same UBRN (${ubrn}).`,
    );
    expect(message.text).toContain("You do not need to send a new referral: the provider's admin team takes it on");
    expect(message.text).toContain(`The referral shows in e-RS under ${ubrn}`);
    expect(message.text).not.toContain('9434765919');
    expect(JSON.stringify(message)).not.toContain('9434765919');
    await expect(relay.client.listMessages({ mailbox: address }, practiceUser('RR8'))).rejects.toMatchObject({
      code: expect.stringMatching(/FORBIDDEN|ACCESS_DENIED/),
    });

    // The same event again once the duplicate window has passed (a lost ack): consumed, and no second mail.
    await new Promise((resolve) => setTimeout(resolve, DUPLICATE_WINDOW_MS + 200));
    await publish(ERS_EVENTS.adviceConverted, event, eventId);
    const pending = async (): Promise<number> => {
      const info = await manager.consumers.info(ERS_EVENT_STREAM, 'nhsmail-ers-advice-converted');
      return info.num_pending + info.num_ack_pending;
    };
    expect(await eventually(pending, (n) => n === 0, 15_000)).toBe(0);
    expect(await count(`SELECT count(*) AS n FROM ${schema}.event_notice WHERE event_id = $1`, [eventId])).toBe(1);
    expect(await delivered(address)).toBe(1);
    expect((await relay.client.listMessages({ mailbox: address }, user)).messages).toHaveLength(1);
  }, 30_000);

  it('skips a malformed conversion event, and mails one converted under another UBRN naming that UBRN', async () => {
    const before = await count(`SELECT count(*) AS n FROM ${schema}.event_notice`);
    const converted = (fields: Record<string, unknown>): Promise<void> =>
      publish(
        ERS_EVENTS.adviceConverted,
        { versionId: 2, state: 'CONVERTED', actorOdsCode: 'RR8', occurredAt: new Date().toISOString(), ...fields },
        `e-referrals-outbox-${randomUUID()}`,
      );
    await converted({ ubrn: '000000072001', referralUbrn: 'not-a-ubrn', referrerOdsCode: 'H88009' });
    await converted({ ubrn: '000000072002', referralUbrn: '000000072002' });
    await converted({ ubrn: '72003', referralUbrn: '72003', referrerOdsCode: 'H88009' });
    await converted({ ubrn: '000000072004', referralUbrn: '000000072005', referrerOdsCode: 'G87008' });
    expect(
      await eventually(
        () => delivered('gp.g87008@nhs.net'),
        (n) => n === 1,
        15_000,
      ),
    ).toBe(1);
    expect((await count(`SELECT count(*) AS n FROM ${schema}.event_notice`)) - before).toBe(1);
    expect(await count(`SELECT count(*) AS n FROM ${schema}.mailbox WHERE address = 'gp.h88009@nhs.net'`)).toBe(0);
    const user = practiceUser('G87008');
    const page = await relay.client.listMessages({ mailbox: 'gp.g87008@nhs.net' }, user);
    const message = await relay.client.readMessage(
      { mailbox: 'gp.g87008@nhs.net', id: page.messages[0]?.id ?? '' },
      user,
    );
    expect(message.text).toContain('request 000000072004 was converted to a referral by the provider RR8');
    expect(message.text).toContain('under UBRN 000000072005.');
    expect(message.text).not.toContain('same UBRN');
  }, 30_000);

  it('queues one notice when the same event is handled by dozens of callers at once (two replicas racing)', async () => {
    const notices = relay.app.get(PracticeNotices);
    const eventId = `gp2gp-outbox-${randomUUID()}`;
    const results = await Promise.all(
      Array.from({ length: 30 }, () =>
        notices.queue(eventId, GP2GP_EVENTS.transferTimedOut, {
          odsCode: 'D84005',
          subject: 'GP2GP transfer not acknowledged',
          text: 'print',
        }),
      ),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(
      await eventually(
        () => delivered('gp.d84005@nhs.net'),
        (n) => n === 1,
        15_000,
      ),
    ).toBe(1);
    expect(
      await count(`SELECT count(*) AS n FROM ${schema}.message WHERE subject = 'GP2GP transfer not acknowledged'`),
    ).toBe(1);
  }, 30_000);

  it('skips a malformed event without mailing anyone, and keeps consuming', async () => {
    const before = await count(`SELECT count(*) AS n FROM ${schema}.event_notice`);
    await publish(ERS_EVENTS.referralRejected, { ubrn: 'not-a-ubrn', referrerOdsCode: 'A81001' }, randomUUID());
    await publish(ERS_EVENTS.referralRejected, { ubrn: '123456789012', referrerOdsCode: '../../etc' }, randomUUID());
    await publish(
      ERS_EVENTS.referralRejected,
      { ubrn: '123456789012', referrerOdsCode: 'E85006', reason: 'OTHER', occurredAt: new Date().toISOString() },
      randomUUID(),
    );
    expect(
      await eventually(
        () => delivered('gp.e85006@nhs.net'),
        (n) => n === 1,
        15_000,
      ),
    ).toBe(1);
    expect((await count(`SELECT count(*) AS n FROM ${schema}.event_notice`)) - before).toBe(1);
  }, 30_000);
});
