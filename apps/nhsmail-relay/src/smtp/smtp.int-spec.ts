import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import nodemailer from 'nodemailer';
import { allAtOnce } from '@platform/shared-testing';
import {
  registryAdmin,
  SmtpTalk,
  startNhsmailRelayUnderTest,
  type NhsmailRelayUnderTest,
} from '../nhsmail-relay.test-harness';

const PASSWORD = 'correct horse battery staple';

describe('the SMTP listeners on real sockets (submission with STARTTLS and AUTH; relay gated by live N3)', () => {
  let relay: NhsmailRelayUnderTest;

  /** A nodemailer client of the submission port: STARTTLS required, the test certificate not verified. */
  const submission = (auth: Record<string, unknown>) =>
    nodemailer.createTransport({
      host: '127.0.0.1',
      port: relay.submissionPort,
      secure: false,
      requireTLS: true,
      tls: { rejectUnauthorized: false },
      auth,
    } as Parameters<typeof nodemailer.createTransport>[0]);

  const inbox = async (address: string): Promise<string[]> =>
    (
      await relay.db.query<{ subject: string }>(
        `SELECT m.subject FROM "${relay.schema}".mailbox_message mm JOIN "${relay.schema}".message m ON m.id = mm.message
          WHERE mm.mailbox = $1 ORDER BY mm.delivered_at`,
        [address],
      )
    ).rows.map((row) => row.subject);

  const eventually = async <T>(probe: () => Promise<T>, done: (value: T) => boolean): Promise<T> => {
    let value = await probe();
    for (let attempt = 0; attempt < 100 && !done(value); attempt += 1) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      value = await probe();
    }
    return value;
  };

  beforeAll(async () => {
    relay = await startNhsmailRelayUnderTest({
      schemaPrefix: 'nhsmail_smtp',
      env: { NHSMAIL_LOCKOUT_ATTEMPTS: '3', NHSMAIL_LOCKOUT_SECONDS: '600' },
    });
    const admin = registryAdmin;
    await relay.client.createMailbox(
      {
        address: 'jane.smith@nhs.net',
        kind: 'personal',
        displayName: 'Jane Smith',
        ownerUsername: 'jane.smith',
        password: PASSWORD,
      },
      admin(),
    );
    await relay.client.createMailbox(
      {
        address: 'john.jones@nhs.net',
        kind: 'personal',
        displayName: 'John Jones',
        ownerUsername: 'john.jones',
        password: PASSWORD,
      },
      admin(),
    );
    await relay.client.createMailbox(
      {
        address: 'pharmacy.fa123@nhs.net',
        kind: 'shared',
        displayName: 'Pharmacy FA123',
        odsCode: 'FA123',
        members: ['jane.smith'],
      },
      admin(),
    );
    await relay.client.createMailbox(
      { address: 'alerts.app@nhs.net', kind: 'application', displayName: 'Alerts app', password: PASSWORD },
      admin(),
    );
    // A live N3 connection owning 127.0.5.0/24, in the real registry (its organisation first).
    await relay.n3.upsertOrganisation(
      { odsCode: 'A83008', name: 'Test Practice', role: 'gp-practice', status: 'active', addressLines: [] },
      admin(),
    );
    const connection = await relay.n3.createConnection(
      {
        odsCode: 'A83008',
        supplier: 'BT',
        bandwidthMbps: 100,
        accessType: 'fttp',
        availabilityTarget: 99.9,
        contractStart: '2026-01-01',
        contractEnd: '2029-01-01',
      },
      admin(),
    );
    await relay.n3.allocateBlock({ connectionId: connection.id, cidr: '127.0.5.0/24' }, admin());
    await relay.n3.transitionConnection({ connectionId: connection.id, to: 'provisioning' }, admin());
    await relay.n3.transitionConnection({ connectionId: connection.id, to: 'live' }, admin());
  });

  afterAll(async () => {
    await relay?.stop();
  });

  it('announces STARTTLS and SIZE on submission, and refuses AUTH and MAIL before TLS', async () => {
    const { talk, greeting } = await SmtpTalk.open(relay.submissionPort);
    expect(greeting).toMatch(/^220 /);
    const ehlo = await talk.send('EHLO client.example');
    expect(ehlo).toContain('STARTTLS');
    expect(ehlo).toContain('SIZE 36700160');
    expect(
      await talk.send(`AUTH PLAIN ${Buffer.from(`\0jane.smith@nhs.net\0${PASSWORD}`).toString('base64')}`),
    ).toMatch(/^538 /);
    expect(await talk.send('MAIL FROM:<jane.smith@nhs.net>')).toMatch(/^530 /);
    expect((await talk.startTls()).startsWith('220')).toBe(true);
    expect(await talk.send('EHLO client.example')).toMatch(/AUTH PLAIN LOGIN XOAUTH2/);
    expect(
      await talk.send(`AUTH PLAIN ${Buffer.from(`\0jane.smith@nhs.net\0${PASSWORD}`).toString('base64')}`),
    ).toMatch(/^235 /);
    talk.close();
  });

  it('takes mail from a mailbox signed in with AUTH PLAIN and LOGIN, and delivers it to the local mailbox', async () => {
    const plain = submission({ user: 'jane.smith@nhs.net', pass: PASSWORD, method: 'PLAIN' });
    const login = submission({ user: 'jane.smith@nhs.net', pass: PASSWORD, method: 'LOGIN' });
    const sent = await plain.sendMail({
      from: 'jane.smith@nhs.net',
      to: 'john.jones@nhs.net',
      subject: 'Clinic list (plain)',
      text: 'See you at nine.',
    });
    expect(sent.response).toMatch(/^250 2\.0\.0 Ok: queued as [0-9a-f-]{36}$/);
    await login.sendMail({
      from: 'jane.smith@nhs.net',
      to: 'john.jones@nhs.net',
      subject: 'Clinic list (login)',
      text: 'x',
    });
    expect(
      await eventually(
        () => inbox('john.jones@nhs.net'),
        (list) => list.length >= 2,
      ),
    ).toEqual(['Clinic list (plain)', 'Clinic list (login)']);
    plain.close();
    login.close();
  });

  it('signs in with XOAUTH2 using a platform access token of the mailbox owner, and refuses anyone else’s token', async () => {
    const good = submission({
      type: 'OAuth2',
      user: 'jane.smith@nhs.net',
      accessToken: await relay.token('jane.smith'),
    });
    await expect(
      good.sendMail({ from: 'jane.smith@nhs.net', to: 'john.jones@nhs.net', subject: 'via XOAUTH2', text: 'x' }),
    ).resolves.toMatchObject({ response: expect.stringMatching(/^250 /) });
    good.close();
    for (const accessToken of [
      await relay.token('john.jones'),
      await relay.token('jane.smith', { typ: 'ID' }),
      await relay.token('jane.smith', { aud: 'another-platform' }),
      `${await relay.token('jane.smith')}x`,
    ]) {
      const bad = submission({ type: 'OAuth2', user: 'jane.smith@nhs.net', accessToken });
      await expect(
        bad.sendMail({ from: 'jane.smith@nhs.net', to: 'john.jones@nhs.net', subject: 'stolen', text: 'x' }),
      ).rejects.toMatchObject({ code: 'EAUTH' });
      bad.close();
    }
  });

  it('refuses an envelope sender or a From header that is not the signed-in mailbox or a shared mailbox it may use', async () => {
    const jane = submission({ user: 'jane.smith@nhs.net', pass: PASSWORD });
    const app = submission({ user: 'alerts.app@nhs.net', pass: PASSWORD });
    const before = await inbox('john.jones@nhs.net');
    // Envelope sender of someone else.
    await expect(
      jane.sendMail({
        envelope: { from: 'john.jones@nhs.net', to: ['john.jones@nhs.net'] },
        from: 'john.jones@nhs.net',
        to: 'john.jones@nhs.net',
        subject: 'forged',
        text: 'x',
      }),
    ).rejects.toMatchObject({ responseCode: 553, response: expect.stringContaining('5.7.1') });
    // Her own envelope, someone else's From header: refused at DATA.
    await expect(
      jane.sendMail({
        envelope: { from: 'jane.smith@nhs.net', to: ['john.jones@nhs.net'] },
        from: 'john.jones@nhs.net',
        to: 'john.jones@nhs.net',
        subject: 'forged header',
        text: 'x',
      }),
    ).rejects.toMatchObject({ responseCode: 553, response: expect.stringContaining('From header refused') });
    // A member sends as the shared mailbox; an application account (no member) may not.
    await expect(
      jane.sendMail({
        from: 'pharmacy.fa123@nhs.net',
        to: 'john.jones@nhs.net',
        subject: 'from the pharmacy',
        text: 'x',
      }),
    ).resolves.toMatchObject({ response: expect.stringMatching(/^250 /) });
    await expect(
      app.sendMail({ from: 'pharmacy.fa123@nhs.net', to: 'john.jones@nhs.net', subject: 'app as pharmacy', text: 'x' }),
    ).rejects.toMatchObject({ responseCode: 553 });
    const after = await eventually(
      () => inbox('john.jones@nhs.net'),
      (list) => list.length > before.length,
    );
    expect(after.slice(before.length)).toEqual(['from the pharmacy']);
    jane.close();
    app.close();
  });

  it('locks a mailbox after repeated failed logins, even against the right password, and says so', async () => {
    const wrong = async (): Promise<unknown> => {
      const client = submission({ user: 'john.jones@nhs.net', pass: 'not the password at all' });
      const error = await client.verify().catch((failure: unknown) => failure);
      client.close();
      return error;
    };
    for (let attempt = 0; attempt < 3; attempt += 1) {
      expect(await wrong()).toMatchObject({ code: 'EAUTH', responseCode: 535 });
    }
    const right = submission({ user: 'john.jones@nhs.net', pass: PASSWORD });
    await expect(right.verify()).rejects.toMatchObject({
      responseCode: 454,
      response: expect.stringContaining('locked'),
    });
    right.close();
    // Jane's mailbox was never attacked: she still signs in.
    const jane = submission({ user: 'jane.smith@nhs.net', pass: PASSWORD });
    await expect(jane.verify()).resolves.toBe(true);
    jane.close();
  });

  it('counts simultaneous wrong passwords without losing any: 10 at once lock the mailbox', async () => {
    await relay.client.createMailbox(
      {
        address: 'target.user@nhs.net',
        kind: 'personal',
        displayName: 'Target',
        ownerUsername: 'target.user',
        password: PASSWORD,
      },
      registryAdmin(),
    );
    const results = await allAtOnce(10, 20_000, async () => {
      const client = submission({ user: 'target.user@nhs.net', pass: 'wrong wrong wrong' });
      try {
        return await client.verify().then(
          () => 'in',
          (error: { responseCode?: number }) => String(error.responseCode),
        );
      } finally {
        client.close();
      }
    });
    expect(results.map((result) => (result.status === 'fulfilled' ? result.value : 'crashed'))).not.toContain('in');
    const locked = await relay.db.query<{ locked: boolean }>(
      `SELECT locked_until > now() AS locked FROM "${relay.schema}".mailbox WHERE address = 'target.user@nhs.net'`,
    );
    expect(locked.rows[0]?.locked).toBe(true);
  });

  it('accepts mail for platform mailboxes from anyone on the relay port, and refuses unknown local recipients (550 5.1.1)', async () => {
    const { talk } = await SmtpTalk.open(relay.relayPort);
    await talk.send('EHLO outside.example');
    expect(await talk.send('MAIL FROM:<someone@outside.example>')).toMatch(/^250 /);
    expect(await talk.send('RCPT TO:<nobody.here@nhs.net>')).toMatch(/^550 5\.1\.1 /);
    expect(await talk.send('RCPT TO:<John.Jones@NHS.net>')).toMatch(/^250 /);
    const reply = await talk.data(
      'From: someone@outside.example\r\nTo: john.jones@nhs.net\r\nSubject: inbound from outside\r\nMessage-ID: <in-1@outside.example>\r\n\r\nHello',
    );
    expect(reply).toMatch(/^250 2\.0\.0 Ok: queued as /);
    talk.close();
    expect(
      await eventually(
        () => inbox('john.jones@nhs.net'),
        (list) => list.includes('inbound from outside'),
      ),
    ).toContain('inbound from outside');
  });

  it('relays to other domains only for an address of a live N3 connection (127.0.5.1), refusing 127.0.0.1 with a reason', async () => {
    const outside = await SmtpTalk.open(relay.relayPort, '127.0.0.1');
    await outside.talk.send('EHLO not-n3.example');
    await outside.talk.send('MAIL FROM:<app@outside.example>');
    const refused = await outside.talk.send('RCPT TO:<someone@example.org>');
    expect(refused).toMatch(
      /^554 5\.7\.1 .*relay access denied: 127\.0\.0\.1 is not an address of a live N3 connection/,
    );
    outside.talk.close();

    const messageId = `<${randomUUID()}@n3.example>`;
    const inside = await SmtpTalk.open(relay.relayPort, '127.0.5.1');
    await inside.talk.send('EHLO app.n3.example');
    expect(await inside.talk.send('MAIL FROM:<alerts@a83008.nhs.uk>')).toMatch(/^250 /);
    expect(await inside.talk.send('RCPT TO:<someone@example.org>')).toMatch(/^250 /);
    expect(
      await inside.talk.data(
        `From: alerts@a83008.nhs.uk\r\nTo: someone@example.org\r\nSubject: alert\r\nMessage-ID: ${messageId}\r\n\r\nSystem alert`,
      ),
    ).toMatch(/^250 /);
    inside.talk.close();
    const delivered = await eventually(
      () => Promise.resolve(relay.sink.received.filter((mail) => mail.raw.includes(messageId))),
      (list) => list.length > 0,
    );
    expect(delivered).toHaveLength(1);
    expect(delivered[0]).toMatchObject({ from: 'alerts@a83008.nhs.uk', to: ['someone@example.org'] });
    expect(delivered[0]?.raw).toMatch(
      /^Received: from app\.n3\.example \(\[127\.0\.5\.1\]\) by relay\.nhs\.net with ESMTP id /m,
    );
  });

  it('keeps serving through malformed commands, an oversized line and a dropped connection', async () => {
    const { talk } = await SmtpTalk.open(relay.relayPort);
    expect(await talk.send('HELO')).toMatch(/^501 /);
    expect(await talk.send('MAIL FROM:<unterminated')).toMatch(/^5\d\d /);
    expect(await talk.send('RCPT TO:<john.jones@nhs.net>')).toMatch(/^503 /);
    expect(await talk.send('NONSENSE')).toMatch(/^500 /);
    talk.write(`EHLO ${'x'.repeat(100_000)}\r\n`);
    expect(await talk.reply()).toMatch(/^421 .*too long/);
    expect(await talk.reply()).toBe('');
    talk.close();
    const dropped = await SmtpTalk.open(relay.relayPort);
    await dropped.talk.send('EHLO a.example');
    await dropped.talk.send('MAIL FROM:<a@outside.example>');
    await dropped.talk.send('RCPT TO:<john.jones@nhs.net>');
    await dropped.talk.send('DATA');
    dropped.talk.write('Subject: half a message\r\n\r\nand then');
    dropped.talk.close();
    const again = await SmtpTalk.open(relay.relayPort);
    expect(await again.talk.send('EHLO b.example')).toMatch(/^250/);
    again.talk.close();
  });
});
