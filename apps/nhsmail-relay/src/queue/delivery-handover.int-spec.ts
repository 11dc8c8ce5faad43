import 'reflect-metadata';
import {
  createJaneSmith,
  deliveriesWithEvents,
  eventually,
  sendAsJane,
  startNhsmailRelayUnderTest,
  submissionClient,
  type NhsmailRelayUnderTest,
} from '../nhsmail-relay.test-harness';

const PASSWORD = 'correct horse battery staple';
const CONCURRENCY = 8;

interface Noted {
  recipient: string;
  what: 'inserted' | 'claimed';
  leased: boolean;
  attempts: number;
}

/**
 * The group commit leases a one-chunk message's deliveries to the running worker in the statement that queues
 * the message, as many as the worker has room for, and hands them over with the bytes in memory: no claim, no
 * read back. The rest are queued unleased and claimed. Triggers note, per delivery row, whether it was leased
 * when inserted and whether a claim leased it later.
 */
describe('deliveries handed from the group commit to the worker (real SMTP sink, PostgreSQL)', () => {
  let relay: NhsmailRelayUnderTest;

  beforeAll(async () => {
    relay = await startNhsmailRelayUnderTest({
      schemaPrefix: 'nhsmail_handover',
      env: { NHSMAIL_DELIVERY_CONCURRENCY: String(CONCURRENCY), NHSMAIL_DELIVERY_LEASE_SECONDS: '60' },
    });
    await createJaneSmith(relay, PASSWORD);
    const s = `"${relay.schema}"`;
    await relay.db.query(`CREATE TABLE ${s}.noted (recipient text, what text, leased boolean, attempts int)`);
    await relay.db.query(`
      CREATE FUNCTION ${s}.note() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'INSERT' THEN
          INSERT INTO ${s}.noted VALUES (NEW.recipient, 'inserted', NEW.lease_owner IS NOT NULL, NEW.attempts);
        ELSIF OLD.lease_owner IS NULL AND NEW.lease_owner IS NOT NULL THEN
          INSERT INTO ${s}.noted VALUES (NEW.recipient, 'claimed', true, NEW.attempts);
        END IF;
        RETURN NULL;
      END $$`);
    await relay.db.query(
      `CREATE TRIGGER note AFTER INSERT OR UPDATE ON ${s}.delivery FOR EACH ROW EXECUTE FUNCTION ${s}.note()`,
    );
  });

  afterAll(async () => {
    await relay?.stop();
  });

  const noted = async (prefix: string): Promise<Noted[]> => {
    const result = await relay.db.query<Noted>(
      `SELECT recipient, what, leased, attempts FROM "${relay.schema}".noted WHERE recipient LIKE $1
        ORDER BY recipient, what DESC`,
      [`${prefix}%`],
    );
    return result.rows;
  };
  const copiesAtSink = (recipient: string): number =>
    relay.sink.received.filter((mail) => mail.to.includes(recipient)).length;
  const allDelivered = (subject: string, count: number): ReturnType<typeof deliveriesWithEvents> =>
    eventually(
      () => deliveriesWithEvents(relay, subject),
      (list) => list.length === count && list.every((row) => row.state === 'delivered'),
      30_000,
    );

  it('leases a small message’s deliveries in the statement that queues it and delivers them without a claim', async () => {
    const recipients = ['small.1@example.org', 'small.2@example.org', 'small.3@example.org'];
    await sendAsJane(relay, PASSWORD, { to: recipients, subject: 'handed over', text: 'one chunk' });
    const rows = await allDelivered('handed over', 3);
    expect(rows.map((row) => ({ recipient: row.recipient, attempts: row.attempts, events: row.events }))).toEqual(
      recipients.map((recipient) => ({ recipient, attempts: 1, events: 1 })),
    );
    expect(await noted('small.')).toEqual(
      recipients.map((recipient) => ({ recipient, what: 'inserted', leased: true, attempts: 1 })),
    );
    for (const recipient of recipients) {
      expect(copiesAtSink(recipient)).toBe(1);
      const copy = relay.sink.received.find((mail) => mail.to.includes(recipient));
      expect(copy?.raw).toContain('Subject: handed over');
      expect(copy?.raw).toContain('one chunk');
      expect(copy?.raw).toMatch(/^DKIM-Signature:/m);
    }
  });

  it('queues a message of more than one chunk unleased, for a claim that reads its bytes back', async () => {
    // About 400 KB: two chunks.
    const body = Array.from({ length: 12_000 }, (_, index) => `line ${index} of the long message`).join('\n');
    await sendAsJane(relay, PASSWORD, { to: 'large@example.org', subject: 'two chunks', text: body });
    const rows = await allDelivered('two chunks', 1);
    expect(rows[0]).toMatchObject({ attempts: 1, events: 1 });
    expect(await noted('large@')).toEqual([
      { recipient: 'large@example.org', what: 'inserted', leased: false, attempts: 0 },
      { recipient: 'large@example.org', what: 'claimed', leased: true, attempts: 1 },
    ]);
    expect(copiesAtSink('large@example.org')).toBe(1);
    const copy = relay.sink.received.find((mail) => mail.to.includes('large@example.org'))?.raw ?? '';
    expect(copy).toContain('line 0 of the long message');
    // The end arrived too (quoted-printable may fold the last line after this).
    expect(copy).toContain('line 11999 of the long');
  });

  it('hands over only as many deliveries as the worker has room for; the rest are claimed, each copy sent once', async () => {
    const recipients = Array.from({ length: 20 }, (_, index) => `room.${String(index).padStart(2, '0')}@example.org`);
    await sendAsJane(relay, PASSWORD, { to: recipients, subject: 'more than the room', text: 'twenty' });
    const rows = await allDelivered('more than the room', 20);
    for (const row of rows) expect(row).toMatchObject({ attempts: 1, events: 1 });
    const inserted = (await noted('room.')).filter((row) => row.what === 'inserted');
    expect(inserted).toHaveLength(20);
    const handed = inserted.filter((row) => row.leased).length;
    expect(handed).toBeGreaterThan(0);
    expect(handed).toBeLessThanOrEqual(CONCURRENCY);
    const claimed = (await noted('room.')).filter((row) => row.what === 'claimed');
    expect(claimed).toHaveLength(20 - handed);
    for (const recipient of recipients) expect(copiesAtSink(recipient)).toBe(1);
  });

  it('delivers 60 messages sent at once over 12 connections each exactly once, handed over or claimed', async () => {
    const clients = Array.from({ length: 12 }, () =>
      submissionClient(relay.submissionPort, { user: 'jane.smith@nhs.net', pass: PASSWORD }, true),
    );
    try {
      await Promise.all(
        Array.from({ length: 60 }, (_, index) =>
          clients[index % clients.length].sendMail({
            from: 'jane.smith@nhs.net',
            to: `burst.${String(index).padStart(2, '0')}@example.org`,
            subject: `burst ${index}`,
            text: `message ${index}`,
          }),
        ),
      );
    } finally {
      for (const client of clients) client.close();
    }
    const rows = await allDelivered('burst %', 60);
    for (const row of rows) expect(row).toMatchObject({ attempts: 1, events: 1 });
    const inserted = (await noted('burst.')).filter((row) => row.what === 'inserted');
    expect(inserted).toHaveLength(60);
    // Under this load most go by hand; whichever way each went, it reached the sink once.
    expect(inserted.filter((row) => row.leased).length).toBeGreaterThan(0);
    for (let index = 0; index < 60; index += 1) {
      const recipient = `burst.${String(index).padStart(2, '0')}@example.org`;
      expect(copiesAtSink(recipient)).toBe(1);
      expect(relay.sink.received.find((mail) => mail.to.includes(recipient))?.raw).toContain(`message ${index}`);
    }
  });

  it('gives back the room of a group whose statement fails: mail after many failed groups is still handed over', async () => {
    const s = `"${relay.schema}"`;
    await relay.db.query(`
      CREATE FUNCTION ${s}.refuse() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'refused'; END $$`);
    await relay.db.query(`
      CREATE TRIGGER refuse BEFORE INSERT ON ${s}.delivery FOR EACH ROW
      WHEN (NEW.recipient LIKE 'refused.%') EXECUTE FUNCTION ${s}.refuse()`);
    try {
      // One after another, so that each is a group of its own: twice the worker's room in failed groups.
      for (let index = 0; index < 2 * CONCURRENCY; index += 1) {
        await expect(
          sendAsJane(relay, PASSWORD, { to: `refused.${index}@example.org`, subject: 'refused', text: 'no' }),
        ).rejects.toMatchObject({ responseCode: 451 });
      }
    } finally {
      await relay.db.query(`DROP TRIGGER refuse ON ${s}.delivery`);
      await relay.db.query(`DROP FUNCTION ${s}.refuse()`);
    }
    expect(await deliveriesWithEvents(relay, 'refused')).toEqual([]);
    await sendAsJane(relay, PASSWORD, { to: 'after.refusals@example.org', subject: 'after refusals', text: 'ok' });
    await allDelivered('after refusals', 1);
    expect(await noted('after.refusals')).toEqual([
      { recipient: 'after.refusals@example.org', what: 'inserted', leased: true, attempts: 1 },
    ]);
    expect(copiesAtSink('after.refusals@example.org')).toBe(1);
  });
});
