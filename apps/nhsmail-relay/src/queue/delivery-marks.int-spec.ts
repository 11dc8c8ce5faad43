import 'reflect-metadata';
import {
  createJaneSmith,
  deliveriesWithEvents,
  eventually,
  sendAsJane,
  startNhsmailRelayUnderTest,
  type NhsmailRelayUnderTest,
} from '../nhsmail-relay.test-harness';

const PASSWORD = 'correct horse battery staple';

/**
 * Copies handed to the smarthost are marked delivered in batches (one statement for the marks that arrive
 * while a batch is written). Each delivered copy must be marked once with exactly one delivered event; a batch
 * that fails leaves its deliveries pending with no event, to be sent again after their lease.
 */
describe('batched marks of delivered copies (real SMTP sink, PostgreSQL)', () => {
  let relay: NhsmailRelayUnderTest;

  beforeAll(async () => {
    relay = await startNhsmailRelayUnderTest({
      schemaPrefix: 'nhsmail_marks',
      env: { NHSMAIL_DELIVERY_LEASE_SECONDS: '2' },
    });
    await createJaneSmith(relay, PASSWORD);
  });

  afterAll(async () => {
    await relay?.stop();
  });

  const deliveries = (subject: string): ReturnType<typeof deliveriesWithEvents> => deliveriesWithEvents(relay, subject);
  const send = (subject: string, to: string[]): Promise<void> =>
    sendAsJane(relay, PASSWORD, { to, subject, text: 'marks' });
  const copiesAtSink = (recipient: string): number =>
    relay.sink.received.filter((mail) => mail.to.includes(recipient)).length;

  it('marks 40 copies delivered at once through the smarthost in fewer transactions than copies, each once with one event', async () => {
    // Each batch statement takes 100 ms (a statement trigger), so marks arriving meanwhile wait and go together.
    await relay.db.query(`
      CREATE FUNCTION "${relay.schema}".slow_marks() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN PERFORM pg_sleep(0.1); RETURN NULL; END $$`);
    await relay.db.query(`
      CREATE TRIGGER slow_marks AFTER UPDATE ON "${relay.schema}".delivery
      FOR EACH STATEMENT EXECUTE FUNCTION "${relay.schema}".slow_marks()`);
    try {
      const recipients = Array.from({ length: 40 }, (_, index) => `many.${index}@example.org`);
      await send('forty at once', recipients);
      const rows = await eventually(
        () => deliveries('forty at once'),
        (list) => list.length === 40 && list.every((row) => row.state === 'delivered'),
        30_000,
      );
      expect(rows.map((row) => ({ state: row.state, events: row.events }))).toEqual(
        recipients.map(() => ({ state: 'delivered', events: 1 })),
      );
      for (const recipient of recipients) expect(copiesAtSink(recipient)).toBe(1);
      // Rows updated by one transaction share its xmin.
      expect(new Set(rows.map((row) => row.xmin)).size).toBeLessThan(40);
    } finally {
      await relay.db.query(`DROP TRIGGER slow_marks ON "${relay.schema}".delivery`);
      await relay.db.query(`DROP FUNCTION "${relay.schema}".slow_marks()`);
    }
  });

  it("writes marks with asynchronous commit on connections of their own, and a message's accept synchronously", async () => {
    // Triggers note the session settings of the statements that queue a message and that mark its copies.
    await relay.db.query(`CREATE TABLE "${relay.schema}".noted (what text, sync text, app text)`);
    await relay.db.query(`
      CREATE FUNCTION "${relay.schema}".note() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO "${relay.schema}".noted
        VALUES (TG_ARGV[0], current_setting('synchronous_commit'), current_setting('application_name'));
        RETURN NULL;
      END $$`);
    await relay.db.query(`
      CREATE TRIGGER note_queued AFTER INSERT ON "${relay.schema}".message FOR EACH ROW
      WHEN (NEW.subject = 'settings') EXECUTE FUNCTION "${relay.schema}".note('queued')`);
    await relay.db.query(`
      CREATE TRIGGER note_marked AFTER UPDATE ON "${relay.schema}".delivery FOR EACH ROW
      WHEN (NEW.state = 'delivered' AND OLD.state = 'pending' AND NEW.recipient LIKE 'settings.%')
      EXECUTE FUNCTION "${relay.schema}".note('marked')`);
    try {
      const recipients = Array.from({ length: 12 }, (_, index) => `settings.${index}@example.org`);
      await send('settings', recipients);
      await eventually(
        () => deliveries('settings'),
        (list) => list.length === 12 && list.every((row) => row.state === 'delivered'),
        30_000,
      );
      const noted = await relay.db.query<{ what: string; sync: string; app: string }>(
        `SELECT what, sync, app FROM "${relay.schema}".noted ORDER BY what`,
      );
      const marked = noted.rows.filter((row) => row.what === 'marked');
      expect(marked).toHaveLength(12);
      for (const row of marked)
        expect(row).toMatchObject({ sync: 'off', app: expect.stringMatching(/ delivered marks$/) });
      expect(noted.rows.filter((row) => row.what === 'queued')).toEqual([
        { what: 'queued', sync: 'on', app: expect.not.stringMatching(/ delivered marks$/) },
      ]);
      for (const recipient of recipients) expect(copiesAtSink(recipient)).toBe(1);
    } finally {
      await relay.db.query(`DROP TABLE "${relay.schema}".noted`);
      await relay.db.query(`DROP TRIGGER note_queued ON "${relay.schema}".message`);
      await relay.db.query(`DROP TRIGGER note_marked ON "${relay.schema}".delivery`);
      await relay.db.query(`DROP FUNCTION "${relay.schema}".note()`);
    }
  });

  it('leaves every delivery of a failed batch pending without an event, sends them again after the lease, and never writes an event without its mark', async () => {
    // The database refuses to mark one recipient delivered: the batch it is in fails whole.
    await relay.db.query(`
      CREATE FUNCTION "${relay.schema}".refuse_mark() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'mark refused'; END $$`);
    await relay.db.query(`
      CREATE TRIGGER refuse_mark BEFORE UPDATE ON "${relay.schema}".delivery FOR EACH ROW
      WHEN (NEW.state = 'delivered' AND NEW.recipient = 'poison@example.org')
      EXECUTE FUNCTION "${relay.schema}".refuse_mark()`);
    const recipients = [
      ...Array.from({ length: 30 }, (_, index) => `fault.${index}@example.org`),
      'poison@example.org',
    ].sort();
    let dropped = false;
    try {
      await send('a fault in a batch', recipients);
      // The poisoned copy reaches the sink, its mark fails, and after the 2 s lease it is claimed again.
      const during = await eventually(
        () => deliveries('a fault in a batch'),
        (list) => list.some((row) => row.recipient === 'poison@example.org' && row.attempts >= 2),
        20_000,
      );
      const poison = during.find((row) => row.recipient === 'poison@example.org');
      expect(poison?.attempts).toBeGreaterThanOrEqual(2);
      expect(poison?.events).toBe(0);
      expect(copiesAtSink('poison@example.org')).toBeGreaterThanOrEqual(1);
      for (const row of during) expect(row.events).toBe(row.state === 'delivered' ? 1 : 0);
      await relay.db.query(`DROP TRIGGER refuse_mark ON "${relay.schema}".delivery`);
      dropped = true;

      const after = await eventually(
        () => deliveries('a fault in a batch'),
        (list) => list.length === 31 && list.every((row) => row.state === 'delivered'),
        20_000,
      );
      expect(after.map((row) => ({ recipient: row.recipient, state: row.state, events: row.events }))).toEqual(
        recipients.map((recipient) => ({ recipient, state: 'delivered', events: 1 })),
      );
      // Nothing lost; a copy whose batch failed was handed on again (at least once, as any SMTP relay).
      for (const recipient of recipients) expect(copiesAtSink(recipient)).toBeGreaterThanOrEqual(1);
      expect(copiesAtSink('poison@example.org')).toBeGreaterThanOrEqual(2);
    } finally {
      if (!dropped) await relay.db.query(`DROP TRIGGER refuse_mark ON "${relay.schema}".delivery`);
      await relay.db.query(`DROP FUNCTION "${relay.schema}".refuse_mark()`);
    }
  });
});
