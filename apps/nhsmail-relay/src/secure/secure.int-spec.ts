import 'reflect-metadata';
import { randomBytes, randomUUID } from 'node:crypto';
import { simpleParser } from 'mailparser';
import { NHSMAIL_SECURE_WEB_CALLER, SecureMailClient } from '@platform/contracts-nhsmail';
import { PlatformError } from '@platform/shared-errors';
import { NatsRpcClient, type CallContext } from '@platform/shared-nats';
import { allAtOnce } from '@platform/shared-testing';
import { MailDomains } from '../mailboxes/mail-domains';
import { MessageStore } from '../queue/message-store';
import { testGatewaySigner } from '@platform/testing-services';
import {
  createJaneSmith,
  createJohnJones,
  eventually,
  type NhsmailRelayUnderTest,
  sendAsJane,
  startNhsmailRelayUnderTest,
  submissionClient,
} from '../nhsmail-relay.test-harness';
import { parseSecureKeys, SecureMail, type SecureSettings } from './secure-mail';

const PASSWORD = 'correct horse battery staple';
/** A TEST-ONLY key, made per run. */
const KEY = `test-1:${randomBytes(32).toString('base64')}`;

describe('[secure] mail (real SMTP, PostgreSQL and NATS)', () => {
  let relay: NhsmailRelayUnderTest;
  let page: SecureMailClient;
  const web = (): CallContext => ({
    requestId: randomUUID(),
    caller: { ...NHSMAIL_SECURE_WEB_CALLER, roles: ['patient'] },
  });

  const sinkMail = async (to: string, subjectLike: RegExp): Promise<{ text: string; raw: string }[]> => {
    const found = relay.sink.received.filter((mail) => mail.to.includes(to));
    const parsed = await Promise.all(
      found.map(async (mail) => ({ parsed: await simpleParser(mail.raw), raw: mail.raw })),
    );
    return parsed
      .filter((mail) => subjectLike.test(mail.parsed.subject ?? ''))
      .map((mail) => ({ text: mail.parsed.text ?? '', raw: mail.raw }));
  };
  const linkFor = async (to: string): Promise<string> => {
    const notices = await eventually(
      () => sinkMail(to, /secure message from/),
      (list) => list.length > 0,
    );
    const token = /\/nhsmail\/secure\/([A-Za-z0-9_-]{43})/.exec(notices[0]?.text ?? '')?.[1];
    if (!token) throw new Error(`no link reached ${to}`);
    return token;
  };
  const codeFor = async (to: string, already: number): Promise<string> => {
    const codes = await eventually(
      () => sinkMail(to, /security code/),
      (list) => list.length > already,
    );
    const code = /security code is (\d{6})/.exec(codes[already]?.text ?? '')?.[1];
    if (!code) throw new Error(`no code reached ${to}`);
    return code;
  };
  const send = async (to: string[], subject: string, text: string, attachments = false): Promise<void> => {
    await sendAsJane(relay, PASSWORD, {
      to,
      subject,
      text,
      ...(attachments
        ? { attachments: [{ filename: 'results.pdf', content: Buffer.from('%PDF-1.4 test results') }] }
        : {}),
    });
  };
  const rows = async <T extends object>(sql: string, values: unknown[] = []): Promise<T[]> =>
    (await relay.db.query<T>(sql.replaceAll('$schema', `"${relay.schema}"`), values)).rows;

  beforeAll(async () => {
    relay = await startNhsmailRelayUnderTest({
      schemaPrefix: 'nhsmail_secure',
      env: { NHSMAIL_SECURE_KEYS: KEY, NHSMAIL_ACCREDITED_DOMAINS: 'accredited.example' },
    });
    page = new SecureMailClient(
      new NatsRpcClient(relay.connection, { timeoutMs: 10_000, signer: await testGatewaySigner() }),
    );
    await createJaneSmith(relay, PASSWORD);
    await createJohnJones(relay);
  });

  afterAll(async () => {
    await relay?.stop();
  });

  it('sends an outside recipient a DKIM-signed notice with a link instead of the message, keeps its copy encrypted, and leaves platform mailboxes and accredited domains unchanged', async () => {
    const secret = `Potassium 6.8 mmol/L ${randomUUID()}`;
    await send(
      ['someone@example.org', 'john.jones@nhs.net', 'partner@accredited.example'],
      'Blood results [SECURE]',
      secret,
    );
    const notices = await eventually(
      () => sinkMail('someone@example.org', /secure message from jane\.smith@nhs\.net/),
      (list) => list.length > 0,
    );
    expect(notices).toHaveLength(1);
    expect(notices[0]?.raw).toMatch(/^DKIM-Signature: v=1; a=rsa-sha256;/m);
    expect(notices[0]?.text).toMatch(/http:\/\/127\.0\.0\.1:8080\/nhsmail\/secure\/[A-Za-z0-9_-]{43}\s/);
    // Nothing of the message reached the outside recipient in clear.
    const toOutside = relay.sink.received.filter((mail) => mail.to.includes('someone@example.org'));
    expect(toOutside.some((mail) => mail.raw.includes(secret) || mail.raw.includes('Blood results'))).toBe(false);
    // The accredited domain gets the message itself; the platform mailbox holds it.
    const accredited = await eventually(
      () => sinkMail('partner@accredited.example', /Blood results/),
      (list) => list.length > 0,
    );
    expect(accredited[0]?.text).toContain(secret);
    const inbox = await eventually(
      () =>
        rows<{ subject: string }>(
          `SELECT m.subject FROM $schema.mailbox_message mm JOIN $schema.message m ON m.id = mm.message WHERE mm.mailbox = 'john.jones@nhs.net'`,
        ),
      (list) => list.length > 0,
    );
    expect(inbox).toEqual([{ subject: 'Blood results [SECURE]' }]);
    // The stored copy for the outside recipient is ciphertext under the configured key's id.
    const copies = await rows<{ key_id: string; data: Buffer }>(
      `SELECT m.key_id, c.data FROM $schema.secure_message m JOIN $schema.secure_chunk c ON c.message = m.message`,
    );
    expect(copies.length).toBeGreaterThan(0);
    expect(
      copies.every((copy) => copy.key_id === 'test-1' && !copy.data.toString('latin1').includes('Potassium')),
    ).toBe(true);
  });

  it('keeps no plaintext of a message whose only recipients are outside: the page reads it after a code mailed to that address, audited', async () => {
    const secret = `Diagnosis for ${randomUUID()}`;
    await send(['reader@example.org'], 'Referral [secure]', secret, true);
    const token = await linkFor('reader@example.org');
    const message = await rows<{ id: string; subject: string }>(
      `SELECT m.id, m.subject FROM $schema.message m JOIN $schema.secure_link l ON l.message = m.id WHERE l.recipient = 'reader@example.org'`,
    );
    expect(message).toHaveLength(1);
    expect(message[0]?.subject).toBe('[secure]');
    expect(await rows(`SELECT 1 FROM $schema.message_chunk WHERE message = $1`, [message[0]?.id])).toEqual([]);
    // Only a hash of the token is stored.
    expect(await rows(`SELECT 1 FROM $schema.secure_link WHERE token_hash::text LIKE $1`, [`%${token}%`])).toEqual([]);

    expect(await page.link({ token }, web())).toMatchObject({ state: 'open', maskedAddress: 'r***@example.org' });
    expect(await page.requestCode({ token }, web())).toEqual({ outcome: 'sent', maskedAddress: 'r***@example.org' });
    const code = await codeFor('reader@example.org', 0);
    const wrong = code === '000000' ? '000001' : '000000';
    expect(await page.verifyCode({ token, code: wrong }, web())).toEqual({ outcome: 'wrong', attemptsLeft: 4 });
    const verified = await page.verifyCode({ token, code }, web());
    expect(verified.outcome).toBe('ok');
    const session = verified.outcome === 'ok' ? verified.session : '';
    // A code works once.
    expect(await page.verifyCode({ token, code }, web())).toEqual({ outcome: 'no-code' });

    const view = await page.read({ token, session }, web());
    expect(view).toMatchObject({ from: 'jane.smith@nhs.net', to: 'reader@example.org', subject: 'Referral [secure]' });
    expect(view.text).toContain(secret);
    expect(view.attachments).toEqual([
      { index: 0, filename: 'results.pdf', contentType: 'application/pdf', size: 21, downloadable: true },
    ]);
    const file = await page.attachment({ token, session, index: 0 }, web());
    expect(Buffer.from(file.contentBase64, 'base64').toString()).toBe('%PDF-1.4 test results');
    // The notice and the code, once sent, are not kept (their link and code are credentials).
    const kept = await eventually(
      () =>
        rows(
          `SELECT 1 FROM $schema.message_chunk c JOIN $schema.message m ON m.id = c.message
            JOIN $schema.delivery d ON d.message = m.id
            WHERE m.from_header = 'secure.messages@nhs.net' AND d.recipient = 'reader@example.org'`,
        ),
      (list) => list.length === 0,
    );
    expect(kept).toEqual([]);
    expect(
      await rows<{ mailbox: string; reader: string; what: string }>(
        `SELECT mailbox, reader, what FROM $schema.message_read_audit WHERE message = $1 ORDER BY id`,
        [message[0]?.id],
      ),
    ).toEqual([
      { mailbox: 'reader@example.org', reader: 'secure-link:reader@example.org', what: 'secure-read' },
      { mailbox: 'reader@example.org', reader: 'secure-link:reader@example.org', what: 'secure-attachment:0' },
    ]);
  });

  it('refuses an expired code, another recipient’s link with a session, a forged session, and an expired link', async () => {
    await send(['first@example.org', 'second@example.org'], '[Secure] two readers', 'for two');
    const first = await linkFor('first@example.org');
    const second = await linkFor('second@example.org');
    expect(first).not.toBe(second);

    await page.requestCode({ token: first }, web());
    const expiring = await codeFor('first@example.org', 0);
    await rows(
      `UPDATE $schema.secure_link SET code_expires_at = now() - interval '1 second' WHERE recipient = 'first@example.org'`,
    );
    expect(await page.verifyCode({ token: first, code: expiring }, web())).toEqual({ outcome: 'code-expired' });

    await page.requestCode({ token: first }, web());
    const code = await codeFor('first@example.org', 1);
    const verified = await page.verifyCode({ token: first, code }, web());
    const session = verified.outcome === 'ok' ? verified.session : '';
    expect(session).not.toBe('');
    const denied = (promise: Promise<unknown>): Promise<string> =>
      promise.then(
        () => 'read',
        (error: unknown) => (error instanceof PlatformError ? error.code : 'other'),
      );
    // first's session does not open second's link, nor does a made-up session open either.
    expect(await denied(page.read({ token: second, session }, web()))).toBe('ACCESS_DENIED');
    expect(await denied(page.read({ token: first, session: randomBytes(32).toString('base64url') }, web()))).toBe(
      'ACCESS_DENIED',
    );
    expect(await denied(page.read({ token: first, session }, web()))).toBe('read');
    // An unknown link, and a link past its expiry (its session stops too).
    expect(await page.link({ token: randomBytes(32).toString('base64url') }, web())).toEqual({ state: 'unknown' });
    await rows(
      `UPDATE $schema.secure_link SET expires_at = now() - interval '1 second' WHERE recipient = 'first@example.org'`,
    );
    expect(await page.link({ token: first }, web())).toEqual({ state: 'expired' });
    expect(await page.requestCode({ token: first }, web())).toEqual({ outcome: 'expired' });
    expect(await denied(page.read({ token: first, session }, web()))).toBe('ACCESS_DENIED');
  });

  it('holds the limit of 5 wrong codes under 40 guesses at once: the link locks, and then even the right code fails', async () => {
    await send(['target@example.org'], 'Guess me [secure]', 'locked away');
    const token = await linkFor('target@example.org');
    await page.requestCode({ token }, web());
    const code = await codeFor('target@example.org', 0);
    const guesses = Array.from({ length: 40 }, (_, index) =>
      String((Number(code) + 1 + index) % 1_000_000).padStart(6, '0'),
    );
    const results = await allAtOnce(40, 20_000, (index) =>
      page.verifyCode({ token, code: guesses[index] ?? '' }, web()),
    );
    const outcomes = results.map((result) => (result.status === 'fulfilled' ? result.value.outcome : 'crashed'));
    expect(outcomes.filter((outcome) => outcome === 'wrong')).toHaveLength(4);
    expect(outcomes.filter((outcome) => outcome === 'locked')).toHaveLength(36);
    expect(await rows(`SELECT failed_codes FROM $schema.secure_link WHERE recipient = 'target@example.org'`)).toEqual([
      { failed_codes: 5 },
    ]);
    expect(await page.verifyCode({ token, code }, web())).toEqual({ outcome: 'locked' });
    expect(await page.requestCode({ token }, web())).toEqual({ outcome: 'locked' });
  });
  it('reads a message encrypted under a key that has been rotated out of first place, and not once the key is gone', async () => {
    await send(['rotate@example.org'], 'Old key [secure]', 'encrypted under test-1');
    const token = await linkFor('rotate@example.org');
    await page.requestCode({ token }, web());
    const verified = await page.verifyCode({ token, code: await codeFor('rotate@example.org', 0) }, web());
    const session = verified.outcome === 'ok' ? verified.session : '';
    const settings: SecureSettings = {
      keys: [],
      accreditedDomains: [],
      pageUrl: 'http://127.0.0.1:8080',
      linkDays: 30,
      codeMinutes: 10,
      codeAttempts: 5,
      codesPerLink: 10,
      sessionMinutes: 15,
    };
    const store = relay.app.get(MessageStore);
    const newKey = { id: 'test-2', key: randomBytes(32) };
    const rotated = new SecureMail(
      { ...settings, keys: [newKey, ...parseSecureKeys(KEY)] },
      store,
      new MailDomains('nhs.net'),
    );
    expect((await rotated.read(token, session, web())).text).toContain('encrypted under test-1');
    const withoutOld = new SecureMail({ ...settings, keys: [newKey] }, store, new MailDomains('nhs.net'));
    await expect(withoutOld.read(token, session, web())).rejects.toMatchObject({ code: 'REC_SERVER_ERROR' });
  });

  it('sends one code when 20 are asked for at once (a double click, a retried post), and at most 10 codes for a link', async () => {
    await send(['asker@example.org'], 'Many codes [secure]', 'ask away');
    const token = await linkFor('asker@example.org');
    const results = await allAtOnce(20, 20_000, () => page.requestCode({ token }, web()));
    const outcomes = results.map((result) => (result.status === 'fulfilled' ? result.value.outcome : 'crashed'));
    expect(outcomes).toEqual(Array.from({ length: 20 }, () => 'sent'));
    const codes = await eventually(
      () => sinkMail('asker@example.org', /security code/),
      (list) => list.length >= 1,
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await sinkMail('asker@example.org', /security code/)).toHaveLength(1);
    const code = /security code is (\d{6})/.exec(codes[0]?.text ?? '')?.[1] ?? '';
    expect((await page.verifyCode({ token, code }, web())).outcome).toBe('ok');
    // Past the limit of codes for one link.
    await rows(
      `UPDATE $schema.secure_link SET codes_sent = 10, code_hash = NULL WHERE recipient = 'asker@example.org'`,
    );
    expect(await page.requestCode({ token }, web())).toEqual({ outcome: 'too-many' });
  });
});

describe('[secure] mail without a key', () => {
  let relay: NhsmailRelayUnderTest;

  beforeAll(async () => {
    relay = await startNhsmailRelayUnderTest({ schemaPrefix: 'nhsmail_secure_nokey' });
    await createJaneSmith(relay, PASSWORD);
  });

  afterAll(async () => {
    await relay?.stop();
  });

  it('keeps a [secure] message to an outside domain in the queue rather than send it in clear', async () => {
    const jane = submissionClient(relay.submissionPort, { user: 'jane.smith@nhs.net', pass: PASSWORD });
    await jane.sendMail({ from: 'jane.smith@nhs.net', to: 'out@example.org', subject: '[secure] held', text: 'held' });
    await jane.sendMail({ from: 'jane.smith@nhs.net', to: 'out@example.org', subject: 'plain', text: 'plain' });
    jane.close();
    await eventually(
      () => Promise.resolve(relay.sink.received.length),
      (count) => count >= 1,
    );
    const delivery = await eventually(
      async () =>
        (
          await relay.db.query<{ state: string; last_error: string | null }>(
            `SELECT d.state, d.last_error FROM "${relay.schema}".delivery d JOIN "${relay.schema}".message m ON m.id = d.message
              WHERE m.subject = '[secure] held'`,
          )
        ).rows[0],
      (row) => row?.last_error !== null && row?.last_error !== undefined,
    );
    expect(delivery).toEqual({
      state: 'pending',
      last_error: expect.stringMatching(/^4\.7\.0 \[secure\] mail cannot be sent/) as unknown,
    });
    expect(relay.sink.received.map((mail) => mail.raw).some((raw) => raw.includes('[secure] held'))).toBe(false);
    expect(relay.sink.received.some((mail) => mail.raw.includes('Subject: plain'))).toBe(true);
  });
});
