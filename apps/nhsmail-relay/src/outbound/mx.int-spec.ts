import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { SMTPServer } from 'smtp-server';
import {
  createJaneSmith,
  eventually,
  sendAsJane,
  startNhsmailRelayUnderTest,
  startTestSink,
  type NhsmailRelayUnderTest,
  type TestSink,
} from '../nhsmail-relay.test-harness';
import { startTestDnsServer, type TestDnsServer, type TestZoneEntry } from './dns.test-harness';
import { MxDelivery } from './mx-delivery';

const PASSWORD = 'correct horse battery staple';
const MX_DOMAINS = [
  'pref.example',
  'fallback.example',
  'amx.example',
  'nullmx.example',
  'servfail.example',
  'gone.example',
];

/**
 * Delivery by MX lookup (issue 15 item 2): a real DNS server on loopback (UDP, answering MX and A as a zone
 * would), real SMTP mail hosts on 127.0.0.2 and 127.0.0.3, the real relay with PostgreSQL and NATS. The relay
 * keeps its smarthost for other domains; the domains of NHSMAIL_MX_DOMAINS go by MX.
 */
describe('delivery by MX lookup', () => {
  let dns: TestDnsServer;
  let hostA: TestSink;
  let hostB: TestSink;
  let relay: NhsmailRelayUnderTest;

  const zone = new Map<string, TestZoneEntry>([
    // Preference 5 before 10, whatever the order of the answer.
    [
      'pref.example',
      {
        mx: [
          { preference: 10, exchange: 'mx-b.pref.example' },
          { preference: 5, exchange: 'mx-a.pref.example' },
        ],
      },
    ],
    ['mx-a.pref.example', { a: ['127.0.0.2'] }],
    ['mx-b.pref.example', { a: ['127.0.0.3'] }],
    // The preferred host refuses connections: the next one takes the mail.
    [
      'fallback.example',
      {
        mx: [
          { preference: 5, exchange: 'mx-down.fallback.example' },
          { preference: 10, exchange: 'mx-b.fallback.example' },
        ],
      },
    ],
    ['mx-down.fallback.example', { a: ['127.0.0.4'] }],
    ['mx-b.fallback.example', { a: ['127.0.0.3'] }],
    // No MX: the domain's own A record (RFC 5321 section 5.1's implicit MX).
    ['amx.example', { a: ['127.0.0.2'] }],
    // RFC 7505 null MX: takes no mail.
    ['nullmx.example', { mx: [{ preference: 0, exchange: '.' }] }],
    // The DNS server fails for it (until the test mends it).
    ['servfail.example', { servfail: true }],
    // The preferred host refuses every session at its greeting (554): the next one takes the mail.
    [
      'greeting.example',
      {
        mx: [
          { preference: 5, exchange: 'mx-refusing.greeting.example' },
          { preference: 10, exchange: 'mx-b.greeting.example' },
        ],
      },
    ],
    ['mx-refusing.greeting.example', { a: ['127.0.0.5'] }],
    ['mx-b.greeting.example', { a: ['127.0.0.3'] }],
    // Its only host refuses sessions: tried again later, not bounced.
    ['refusing.example', { mx: [{ preference: 5, exchange: 'mx-refusing.greeting.example' }] }],
    // gone.example is not in the zone: NXDOMAIN.
  ]);

  const deliveryOf = async (
    recipient: string,
  ): Promise<{ state: string; attempts: number; last_error: string | null } | undefined> =>
    (
      await relay.db.query<{ state: string; attempts: number; last_error: string | null }>(
        `SELECT state, attempts, last_error FROM "${relay.schema}".delivery WHERE recipient = $1`,
        [recipient],
      )
    ).rows[0];
  const bouncesTo = async (address: string): Promise<number> =>
    (
      await relay.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM "${relay.schema}".mailbox_message mm JOIN "${relay.schema}".message m ON m.id = mm.message
          WHERE mm.mailbox = $1 AND m.kind = 'bounce'`,
        [address],
      )
    ).rows[0]?.n ?? -1;
  const withId = (sink: TestSink, messageId: string) => sink.received.filter((mail) => mail.raw.includes(messageId));

  async function send(to: string | string[], subject = 'By MX'): Promise<string> {
    const messageId = `<${randomUUID()}@nhs.net>`;
    await sendAsJane(relay, PASSWORD, { to, subject, text: 'hello', messageId });
    return messageId;
  }

  beforeAll(async () => {
    dns = await startTestDnsServer(zone);
    // Two mail hosts on one port of two loopback addresses (the relay connects to MX hosts on NHSMAIL_MX_PORT).
    hostA = await startTestSink({ host: '127.0.0.2' });
    hostB = await startTestSink({ host: '127.0.0.3', port: hostA.port });
    relay = await startNhsmailRelayUnderTest({
      schemaPrefix: 'nhsmail_mx',
      env: {
        NHSMAIL_DNS_SERVERS: dns.server,
        NHSMAIL_MX_PORT: String(hostA.port),
        NHSMAIL_MX_DOMAINS: MX_DOMAINS.join(','),
        NHSMAIL_RETRY_BASE_SECONDS: '1',
        NHSMAIL_RETRY_LIMIT: '8',
      },
    });
    await createJaneSmith(relay, PASSWORD);
  }, 60_000);

  afterAll(async () => {
    await relay?.stop();
    await Promise.all([hostA?.stop(), hostB?.stop(), dns?.stop()]);
  });

  it('delivers to the most preferred MX host, DKIM-signed, and other domains still through the smarthost', async () => {
    const messageId = await send(['someone@pref.example', 'someone@other.example']);
    const atA = await eventually(
      () => Promise.resolve(withId(hostA, messageId)),
      (list) => list.length > 0,
      15_000,
    );
    expect(atA).toHaveLength(1);
    expect(atA[0]?.to).toEqual(['someone@pref.example']);
    expect(atA[0]?.raw).toMatch(/^DKIM-Signature: v=1; a=rsa-sha256; c=relaxed\/relaxed; d=nhs\.net;/m);
    const atSmarthost = await eventually(
      () => Promise.resolve(withId(relay.sink, messageId)),
      (list) => list.length > 0,
      15_000,
    );
    expect(atSmarthost.map((mail) => mail.to)).toEqual([['someone@other.example']]);
    expect(withId(hostB, messageId)).toEqual([]);
    expect(dns.queries).toContain('pref.example MX');
    expect(dns.queries).not.toContain('other.example MX');

    // Thirty at once: each delivered once, to the preferred host.
    const ids = await Promise.all(Array.from({ length: 30 }, (_, n) => send(`batch${n}@pref.example`, 'batch')));
    const delivered = await eventually(
      () => Promise.resolve(ids.map((id) => withId(hostA, id).length)),
      (counts) => counts.every((count) => count >= 1),
      20_000,
    );
    expect(delivered).toEqual(ids.map(() => 1));
    expect(ids.flatMap((id) => withId(hostB, id))).toEqual([]);
  }, 60_000);

  it('moves on to the next MX host when the preferred one refuses connections', async () => {
    const messageId = await send('someone@fallback.example');
    const atB = await eventually(
      () => Promise.resolve(withId(hostB, messageId)),
      (list) => list.length > 0,
      15_000,
    );
    expect(atB.map((mail) => mail.to)).toEqual([['someone@fallback.example']]);
    expect(
      await eventually(
        () => deliveryOf('someone@fallback.example'),
        (row) => row?.state === 'delivered',
      ),
    ).toMatchObject({ state: 'delivered', attempts: 1 });
  }, 30_000);

  it('falls back to the A record of a domain without MX records (the implicit MX)', async () => {
    const messageId = await send('someone@amx.example');
    const atA = await eventually(
      () => Promise.resolve(withId(hostA, messageId)),
      (list) => list.length > 0,
      15_000,
    );
    expect(atA.map((mail) => mail.to)).toEqual([['someone@amx.example']]);
    expect(dns.queries).toEqual(expect.arrayContaining(['amx.example MX', 'amx.example A']));
  }, 30_000);

  it('bounces at once for a null MX and for a domain that does not exist, and a 5xx of the preferred host is final', async () => {
    await send(['someone@nullmx.example', 'someone@gone.example', 'reject.me@pref.example'], 'will bounce');
    const nullMx = await eventually(
      () => deliveryOf('someone@nullmx.example'),
      (row) => row?.state === 'bounced',
      15_000,
    );
    expect(nullMx).toMatchObject({ state: 'bounced', attempts: 1 });
    expect(nullMx?.last_error).toMatch(/^5\.1\.10 Domain nullmx\.example accepts no mail \(null MX\)/);
    const gone = await eventually(
      () => deliveryOf('someone@gone.example'),
      (row) => row?.state === 'bounced',
      15_000,
    );
    expect(gone).toMatchObject({ state: 'bounced', attempts: 1 });
    expect(gone?.last_error).toMatch(/^5\.1\.2 Domain gone\.example does not exist/);
    const refused = await eventually(
      () => deliveryOf('reject.me@pref.example'),
      (row) => row?.state === 'bounced',
      15_000,
    );
    expect(refused).toMatchObject({ state: 'bounced', attempts: 1 });
    expect(refused?.last_error).toMatch(/5\.1\.1 no such user here.*mx-a\.pref\.example/);
    // The less preferred host was not asked after the refusal.
    expect(hostB.received.filter((mail) => mail.to.includes('reject.me@pref.example'))).toEqual([]);
    // The sender gets a report for each.
    expect(
      await eventually(
        () => bouncesTo('jane.smith@nhs.net'),
        (n) => n >= 3,
        15_000,
      ),
    ).toBe(3);
  }, 45_000);

  it('retries a temporary DNS failure, and delivers once the DNS answers again', async () => {
    const messageId = await send('someone@servfail.example');
    const waiting = await eventually(
      () => deliveryOf('someone@servfail.example'),
      (row) => (row?.attempts ?? 0) >= 2,
      15_000,
    );
    expect(waiting).toMatchObject({ state: 'pending' });
    expect(waiting?.last_error).toMatch(/^4\.4\.3 DNS lookup of MX for servfail\.example: ESERVFAIL/);
    expect(await bouncesTo('jane.smith@nhs.net')).toBe(3);
    // The zone is mended: the next retry finds the domain's A record.
    zone.set('servfail.example', { a: ['127.0.0.3'] });
    const atB = await eventually(
      () => Promise.resolve(withId(hostB, messageId)),
      (list) => list.length > 0,
      20_000,
    );
    expect(atB).toHaveLength(1);
    expect(
      await eventually(
        () => deliveryOf('someone@servfail.example'),
        (row) => row?.state === 'delivered',
      ),
    ).toMatchObject({ state: 'delivered' });
  }, 45_000);

  it('moves on to the next MX host when the preferred one refuses the session at its greeting (554), and retries when none takes it', async () => {
    const refusing = new SMTPServer({
      logger: false,
      onConnect(_session, done) {
        done(Object.assign(new Error('5.7.1 Not taking mail from you now'), { responseCode: 554 }));
      },
    });
    await new Promise<void>((resolve) => refusing.listen(hostA.port, '127.0.0.5', resolve));
    try {
      const mx = new MxDelivery(
        { servers: [dns.server], domains: [], port: hostA.port },
        { hostname: 'relay.nhs.net', smarthost: false },
      );
      const messageId = `<${randomUUID()}@nhs.net>`;
      const content = () => Readable.from([`Message-ID: ${messageId}\r\nSubject: greeting\r\n\r\nhello\r\n`]);
      expect(await mx.send('someone@greeting.example', 'jane.smith@nhs.net', content)).toEqual({ kind: 'delivered' });
      expect(withId(hostB, messageId).map((mail) => mail.to)).toEqual([['someone@greeting.example']]);
      expect(await mx.send('someone@refusing.example', 'jane.smith@nhs.net', content)).toEqual({
        kind: 'temporary',
        reason: expect.stringMatching(/^554 5\.7\.1 Not taking mail from you now.*mx-refusing\.greeting\.example/),
      });
    } finally {
      await new Promise<void>((resolve) => refusing.close(() => resolve()));
    }
  }, 30_000);

  it('sends every outside domain by MX when no smarthost is configured', async () => {
    const direct = new MxDelivery(
      { servers: [dns.server], domains: [], port: hostA.port },
      { hostname: 'relay.nhs.net', smarthost: false },
    );
    expect(direct.handles('anyone@any.example')).toBe(true);
    const withSmarthost = new MxDelivery(
      { servers: [dns.server], domains: ['pref.example'], port: hostA.port },
      { hostname: 'relay.nhs.net', smarthost: true },
    );
    expect(withSmarthost.handles('anyone@any.example')).toBe(false);
    expect(withSmarthost.handles('anyone@PREF.example')).toBe(true);
    const messageId = `<${randomUUID()}@nhs.net>`;
    const outcome = await direct.send('someone@pref.example', 'jane.smith@nhs.net', () =>
      Readable.from([`Message-ID: ${messageId}\r\nSubject: direct\r\n\r\nhello\r\n`]),
    );
    expect(outcome).toEqual({ kind: 'delivered' });
    expect(withId(hostA, messageId)).toHaveLength(1);
  }, 30_000);
});
