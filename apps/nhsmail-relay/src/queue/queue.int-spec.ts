import 'reflect-metadata';
import { randomBytes, randomUUID } from 'node:crypto';
import { NHSMAIL_EVENT_STREAM, NHSMAIL_EVENTS } from '@platform/contracts-nhsmail';
import { allAtOnce } from '@platform/shared-testing';
import {
  createJaneSmith,
  createJohnJones,
  eventually,
  type NhsmailRelayUnderTest,
  SmtpTalk,
  startNhsmailRelayUnderTest,
  submissionClient,
} from '../nhsmail-relay.test-harness';

const PASSWORD = 'correct horse battery staple';
const LIMIT = 1024 * 1024;

describe('the durable queue and the delivery worker (real SMTP, PostgreSQL and NATS)', () => {
  let relay: NhsmailRelayUnderTest;

  const count = async (sql: string, values: unknown[] = []): Promise<number> =>
    (await relay.db.query<{ n: number }>(sql.replaceAll('$schema', `"${relay.schema}"`), values)).rows[0]?.n ?? -1;
  const messages = (): Promise<number> => count(`SELECT count(*)::int AS n FROM $schema.message`);
  const chunks = (): Promise<number> => count(`SELECT count(*)::int AS n FROM $schema.message_chunk`);
  const inboxOf = async (address: string): Promise<{ subject: string | null; kind: string }[]> =>
    (
      await relay.db.query<{ subject: string | null; kind: string }>(
        `SELECT m.subject, m.kind FROM "${relay.schema}".mailbox_message mm JOIN "${relay.schema}".message m ON m.id = mm.message
          WHERE mm.mailbox = $1 ORDER BY mm.delivered_at`,
        [address],
      )
    ).rows;
  const rawOf = async (subjectLike: string, mailbox: string): Promise<string> => {
    const rows = await relay.db.query<{ data: Buffer }>(
      `SELECT c.data FROM "${relay.schema}".mailbox_message mm JOIN "${relay.schema}".message m ON m.id = mm.message
         JOIN "${relay.schema}".message_chunk c ON c.message = m.id
        WHERE mm.mailbox = $1 AND m.subject LIKE $2 ORDER BY c.seq`,
      [mailbox, subjectLike],
    );
    return Buffer.concat(rows.rows.map((row) => row.data)).toString('latin1');
  };

  beforeAll(async () => {
    relay = await startNhsmailRelayUnderTest({
      schemaPrefix: 'nhsmail_queue',
      env: {
        NHSMAIL_MAX_MESSAGE_BYTES: String(LIMIT),
        NHSMAIL_RETRY_LIMIT: '3',
        NHSMAIL_RETRY_BASE_SECONDS: '1',
        NHSMAIL_DELAY_NOTICE_SECONDS: '1',
      },
    });
    await createJaneSmith(relay, PASSWORD);
    await createJohnJones(relay);
  });

  afterAll(async () => {
    await relay?.stop();
  });

  it('has the message, its deliveries and its accepted event committed when the 250 arrives', async () => {
    const { talk } = await SmtpTalk.open(relay.relayPort);
    await talk.send('EHLO outside.example');
    await talk.send('MAIL FROM:<someone@outside.example>');
    await talk.send('RCPT TO:<john.jones@nhs.net>');
    const reply = await talk.data('From: someone@outside.example\r\nSubject: durable\r\n\r\nbody');
    talk.close();
    const id = /queued as ([0-9a-f-]{36})/.exec(reply)?.[1] ?? '';
    // Read at once, from another connection: committed, not merely in the relay's memory.
    const row = await relay.db.query<{ state: string; subject: string }>(
      `SELECT state, subject FROM "${relay.schema}".message WHERE id = $1`,
      [id],
    );
    expect(row.rows[0]).toEqual({ state: 'queued', subject: 'durable' });
    expect(await count(`SELECT count(*)::int AS n FROM $schema.delivery WHERE message = $1`, [id])).toBe(1);
    expect(
      await count(`SELECT count(*)::int AS n FROM $schema.outbox WHERE subject = $1 AND payload->>'messageId' = $2`, [
        NHSMAIL_EVENTS.messageAccepted,
        id,
      ]),
    ).toBe(1);
    const manager = await relay.connection.jetstreamManager();
    const event = await eventually(
      () =>
        manager.streams
          .getMessage(NHSMAIL_EVENT_STREAM, { last_by_subj: NHSMAIL_EVENTS.messageDelivered })
          .then((message) => message.json<{ messageId: string; local: boolean }>())
          .catch(() => undefined),
      (found) => found?.messageId === id,
    );
    expect(event).toMatchObject({ messageId: id, local: true });
  });

  it('announces SIZE, refuses a declared size over it at MAIL, and an undeclared one while streaming, storing nothing', async () => {
    const before = { messages: await messages(), chunks: await chunks() };
    const { talk } = await SmtpTalk.open(relay.relayPort);
    expect(await talk.send('EHLO outside.example')).toContain(`SIZE ${LIMIT}`);
    expect(await talk.send(`MAIL FROM:<a@outside.example> SIZE=${LIMIT + 1}`)).toMatch(/^552 /);
    expect(await talk.send('MAIL FROM:<a@outside.example>')).toMatch(/^250 /);
    expect(await talk.send('RCPT TO:<john.jones@nhs.net>')).toMatch(/^250 /);
    const line = `${'A'.repeat(76)}\r\n`;
    const body = `Subject: too big\r\n\r\n${line.repeat(Math.ceil((LIMIT * 1.5) / line.length))}`;
    expect(await talk.data(body)).toMatch(/^552 5\.3\.4 /);
    expect(await talk.send('NOOP')).toMatch(/^250 /);
    talk.close();
    expect({ messages: await messages(), chunks: await chunks() }).toEqual(before);
  });

  it('refuses blocked attachment types at DATA with the reason, and takes broken MIME and bad base64 without falling over', async () => {
    const before = await messages();
    const { talk } = await SmtpTalk.open(relay.relayPort);
    await talk.send('EHLO outside.example');
    const send = (message: string): Promise<string> => talk.mail('a@outside.example', 'john.jones@nhs.net', message);
    const withAttachment = (name: string, type: string): string =>
      [
        'From: a@outside.example',
        'Subject: attachment',
        'MIME-Version: 1.0',
        'Content-Type: multipart/mixed; boundary="b1"',
        '',
        '--b1',
        'Content-Type: text/plain',
        '',
        'see attached',
        '--b1',
        `Content-Type: ${type}; name="${name}"`,
        `Content-Disposition: attachment; filename="${name}"`,
        'Content-Transfer-Encoding: base64',
        '',
        randomBytes(3000).toString('base64').replace(/.{76}/g, '$&\r\n'),
        '--b1--',
      ].join('\r\n');
    expect(await send(withAttachment('setup.exe', 'application/octet-stream'))).toMatch(
      /^550 5\.7\.1 Message refused: 'setup\.exe' is a blocked attachment type/,
    );
    expect(await send(withAttachment('budget.xlsm', 'application/vnd.ms-excel.sheet.macroEnabled.12'))).toMatch(
      /^550 5\.7\.1 .*budget\.xlsm/,
    );
    expect(await messages()).toBe(before);
    // Allowed attachment, bad base64, and a multipart that never closes: accepted as they are, relay still serving.
    expect(await send(withAttachment('letter.pdf', 'application/pdf'))).toMatch(/^250 /);
    expect(
      await send(
        'Subject: bad base64\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="x"\r\n\r\n--x\r\nContent-Type: application/pdf; name="a.pdf"\r\nContent-Transfer-Encoding: base64\r\n\r\n@@@not base64!!!\r\n',
      ),
    ).toMatch(/^250 /);
    expect(await send('Subject: no body at all')).toMatch(/^250 /);
    talk.close();
    expect(await messages()).toBe(before + 3);
  });

  it('relays to other domains through the smarthost DKIM-signed, and bounces a permanent refusal to the sender with an RFC 3464 report', async () => {
    const jane = submissionClient(relay.submissionPort, { user: 'jane.smith@nhs.net', pass: PASSWORD });
    const messageId = `<${randomUUID()}@nhs.net>`;
    await jane.sendMail({
      from: 'jane.smith@nhs.net',
      to: 'someone@example.org',
      subject: 'Referral letter',
      text: 'hello',
      messageId,
    });
    await jane.sendMail({ from: 'jane.smith@nhs.net', to: 'reject.me@example.org', subject: 'Will bounce', text: 'x' });
    jane.close();
    const outward = await eventually(
      () => Promise.resolve(relay.sink.received.filter((mail) => mail.raw.includes(messageId))),
      (list) => list.length > 0,
    );
    expect(outward).toHaveLength(1);
    expect(outward[0]?.raw).toMatch(
      /^DKIM-Signature: v=1; a=rsa-sha256; c=relaxed\/relaxed; d=nhs\.net; q=dns\/txt;\s+s=relay; bh=[A-Za-z0-9+/=]{44};/m,
    );
    const bounces = await eventually(
      () => inboxOf('jane.smith@nhs.net'),
      (list) => list.some((mail) => mail.kind === 'bounce'),
    );
    expect(bounces.filter((mail) => mail.kind === 'bounce')).toEqual([
      { subject: 'Undelivered Mail Returned to Sender', kind: 'bounce' },
    ]);
    const report = await rawOf('Undelivered%', 'jane.smith@nhs.net');
    expect(report).toMatch(/Content-Type: multipart\/report; report-type=delivery-status/);
    expect(report).toMatch(/Final-Recipient: rfc822; reject\.me@example\.org\r\nAction: failed\r\nStatus: 5\.1\.1/);
    expect(report).toMatch(/Content-Type: text\/rfc822-headers\r\n\r\nReceived: from /);
    expect(report).toContain('Subject: Will bounce');
  });

  it('retries a temporary failure with back-off, tells the sender of the delay once, and bounces at the retry limit', async () => {
    const jane = submissionClient(relay.submissionPort, { user: 'jane.smith@nhs.net', pass: PASSWORD });
    await jane.sendMail({
      from: 'jane.smith@nhs.net',
      to: 'defer.me@example.org',
      subject: 'Keeps failing',
      text: 'x',
    });
    jane.close();
    const delivery = async () =>
      (
        await relay.db.query<{ state: string; attempts: number; last_error: string }>(
          `SELECT state, attempts, last_error FROM "${relay.schema}".delivery WHERE recipient = 'defer.me@example.org'`,
        )
      ).rows[0];
    const final = await eventually(delivery, (row) => row?.state === 'bounced', 15_000);
    expect(final).toMatchObject({ state: 'bounced', attempts: 3 });
    expect(final?.last_error).toMatch(/retry limit reached \(3\): .*4\.2\.1 mailbox busy/);
    const report = await eventually(
      () => rawOf('Undelivered%', 'jane.smith@nhs.net'),
      (raw) => raw.includes('Final-Recipient: rfc822; defer.me@example.org'),
    );
    expect(report).toContain('Final-Recipient: rfc822; defer.me@example.org\r\nAction: failed\r\nStatus: 4.2.1');
    const notices = (await inboxOf('jane.smith@nhs.net')).filter((mail) => mail.kind === 'delay-notice');
    expect(notices).toHaveLength(1);
    expect(await rawOf('Delayed%', 'jane.smith@nhs.net')).toContain('Action: delayed');
  }, 20_000);

  it('takes 30 messages sent at once, each delivered exactly once', async () => {
    const tag = randomUUID();
    const results = await allAtOnce(30, 20_000, async (index) => {
      const { talk } = await SmtpTalk.open(relay.relayPort);
      await talk.send('EHLO outside.example');
      const reply = await talk.mail(
        'a@outside.example',
        'john.jones@nhs.net',
        `Subject: ${tag} ${index}\r\nMessage-ID: <${tag}-${index}@outside.example>\r\n\r\nx`,
      );
      talk.close();
      return reply.slice(0, 3);
    });
    expect(results.map((result) => (result.status === 'fulfilled' ? result.value : 'crashed'))).toEqual(
      Array.from({ length: 30 }, () => '250'),
    );
    const landed = await eventually(
      async () => (await inboxOf('john.jones@nhs.net')).filter((mail) => mail.subject?.startsWith(tag)),
      (list) => list.length >= 30,
    );
    expect(new Set(landed.map((mail) => mail.subject)).size).toBe(30);
    expect(landed).toHaveLength(30);
  });
});
