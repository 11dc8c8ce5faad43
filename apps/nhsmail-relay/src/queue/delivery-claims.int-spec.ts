import 'reflect-metadata';
import {
  createJaneSmith,
  deliveriesWithEvents,
  eventually,
  startNhsmailRelayUnderTest,
  submissionClient,
  type NhsmailRelayUnderTest,
} from '../nhsmail-relay.test-harness';

const PASSWORD = 'correct horse battery staple';
const SENDER = 'jane.smith@nhs.net';

/**
 * The delivery worker claims in batches (a new claim waits while more than half of its deliveries are in
 * flight) and is driven by its deliveries finishing, not by the poll: here the poll is a minute, so anything
 * not delivered within seconds would show a worker that stopped looking for work. A message of one chunk is
 * sent from the bytes its claim read, a larger one from its chunks: both arrive whole.
 */
describe('delivery claims (real SMTP sink, PostgreSQL)', () => {
  let relay: NhsmailRelayUnderTest;

  beforeAll(async () => {
    relay = await startNhsmailRelayUnderTest({
      schemaPrefix: 'nhsmail_claims',
      env: { NHSMAIL_DELIVERY_POLL_MS: '60000', NHSMAIL_DELIVERY_CONCURRENCY: '8' },
    });
    await createJaneSmith(relay, PASSWORD);
  });

  afterAll(async () => {
    await relay?.stop();
  });

  const delivered = (prefix: string): ReturnType<typeof deliveriesWithEvents> =>
    deliveriesWithEvents(relay, `${prefix}%`);

  it('delivers 80 copies sent by 20 clients at once within seconds, each once with one event, driven by the deliveries finishing (not the poll)', async () => {
    // 20 messages of 4 recipients each, all accepted within moments: after that, nothing but the deliveries
    // finishing (several at once, as their marks commit in batches) can start the next claims.
    const clients = Array.from({ length: 20 }, () =>
      submissionClient(relay.submissionPort, { user: SENDER, pass: PASSWORD }),
    );
    const recipientsOf = (lane: number): string[] =>
      Array.from({ length: 4 }, (_, index) => `burst.${lane * 4 + index}@example.org`);
    try {
      await Promise.all(
        clients.map((client, lane) =>
          client.sendMail({ from: SENDER, to: recipientsOf(lane), subject: `burst ${lane}`, text: `message ${lane}` }),
        ),
      );
    } finally {
      for (const client of clients) client.close();
    }
    const started = Date.now();
    const rows = await eventually(
      () => delivered('burst '),
      (list) => list.length === 80 && list.every((row) => row.state === 'delivered'),
      30_000,
    );
    expect(rows).toHaveLength(80);
    expect(rows.filter((row) => row.state !== 'delivered' || row.events !== 1)).toEqual([]);
    // Well inside the minute's poll: the worker went on by itself.
    expect(Date.now() - started).toBeLessThan(30_000);
    for (let lane = 0; lane < 20; lane += 1) {
      for (const recipient of recipientsOf(lane)) {
        const copies = relay.sink.received.filter((mail) => mail.to.includes(recipient));
        expect(copies).toHaveLength(1);
        expect(copies[0]?.raw).toContain(`message ${lane}`);
      }
    }
  });

  it('sends a one-chunk message and one of several chunks whole (the first from its claim, the second read in chunks)', async () => {
    const client = submissionClient(relay.submissionPort, { user: SENDER, pass: PASSWORD });
    // 76-character lines of a recognisable pattern; the large one spans four chunks of 256 KiB.
    const body = (lines: number, tag: string): string =>
      Array.from({ length: lines }, (_, line) => `${tag} line ${String(line).padStart(7, '0')} `.padEnd(76, '.')).join(
        '\r\n',
      );
    const small = body(40, 'small');
    const large = body(12_000, 'large');
    // Sent as they are (no transfer encoding chosen by the client), so the sink must see these very bytes.
    const raw = (to: string, subject: string, text: string): string =>
      `From: <${SENDER}>\r\nTo: <${to}>\r\nSubject: ${subject}\r\nMIME-Version: 1.0\r\n` +
      `Content-Type: text/plain; charset=us-ascii\r\n\r\n${text}\r\n`;
    try {
      for (const [to, subject, text] of [
        ['small.whole@example.org', 'whole small', small],
        ['large.whole@example.org', 'whole large', large],
      ] as const) {
        await client.sendMail({ envelope: { from: SENDER, to: [to] }, raw: raw(to, subject, text) });
      }
    } finally {
      client.close();
    }
    const chunks = await relay.db.query<{ subject: string; chunks: number }>(
      `SELECT m.subject, count(c.seq)::int AS chunks FROM "${relay.schema}".message m
         JOIN "${relay.schema}".message_chunk c ON c.message = m.id WHERE m.subject LIKE 'whole %' GROUP BY m.subject
        ORDER BY m.subject`,
    );
    expect(chunks.rows).toEqual([
      { subject: 'whole large', chunks: 4 },
      { subject: 'whole small', chunks: 1 },
    ]);
    const rows = await eventually(
      () => delivered('whole '),
      (list) => list.length === 2 && list.every((row) => row.state === 'delivered'),
      15_000,
    );
    expect(rows.map((row) => row.state)).toEqual(['delivered', 'delivered']);
    const at = (recipient: string): string =>
      relay.sink.received.find((mail) => mail.to.includes(recipient))?.raw ?? '';
    expect(at('small.whole@example.org')).toContain(`\r\n\r\n${small}\r\n`);
    expect(at('large.whole@example.org')).toContain(`\r\n\r\n${large}\r\n`);
    expect(at('large.whole@example.org')).toMatch(/^DKIM-Signature: /m);
  });
});
