import 'reflect-metadata';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { simpleParser } from 'mailparser';
import { chromium, type BrowserContext } from 'playwright-core';
import { freePort } from '@platform/shared-testing';
import { startBuiltGateway, type BuiltGateway } from '@platform/testing-services';
import {
  createJaneSmith,
  eventually,
  sendAsJane,
  startNhsmailRelayUnderTest,
  TEST_ISSUER,
  type NhsmailRelayUnderTest,
} from '../nhsmail-relay.test-harness';

const ROOT = path.resolve(__dirname, '../../../..');
/** Screenshots go to the repository's git-ignored tmp/ folder. */
const SHOTS = path.join(ROOT, 'tmp/nhsmail-secure');
const PASSWORD = 'correct horse battery staple';

/**
 * The `[secure]` page end to end: a message submitted over real SMTP, the notice caught at a real SMTP sink,
 * the built gateway serving the page over NATS from the relay, and Debian's Chromium reading it.
 */
describe('the [secure] message page in a real browser', () => {
  let relay: NhsmailRelayUnderTest;
  let gateway: BuiltGateway;
  let base: string;
  let browser: BrowserContext;
  let profile: string;

  const mailTo = async (to: string, subject: RegExp): Promise<string[]> => {
    const texts: string[] = [];
    for (const mail of relay.sink.received.filter((received) => received.to.includes(to))) {
      const parsed = await simpleParser(mail.raw);
      if (subject.test(parsed.subject ?? '')) texts.push(parsed.text ?? '');
    }
    return texts;
  };
  const send = async (to: string, subject: string, text: string): Promise<void> => {
    await sendAsJane(relay, PASSWORD, {
      to,
      subject,
      text,
      attachments: [{ filename: 'plan.txt', content: 'care plan v1' }],
    });
  };
  const linkOf = async (to: string): Promise<string> => {
    const notices = await eventually(
      () => mailTo(to, /secure message/),
      (list) => list.length > 0,
      10_000,
    );
    const link = /(http:\/\/\S+\/nhsmail\/secure\/[A-Za-z0-9_-]{43})/.exec(notices[0] ?? '')?.[1];
    if (!link) throw new Error('no notice with a link reached the sink');
    return link;
  };

  beforeAll(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    relay = await startNhsmailRelayUnderTest({
      schemaPrefix: 'nhsmail_secure_page',
      env: { NHSMAIL_SECURE_KEYS: `page-1:${randomBytes(32).toString('base64')}`, NHSMAIL_SECURE_PAGE_URL: base },
    });
    await createJaneSmith(relay, PASSWORD);
    gateway = await startBuiltGateway({
      port,
      natsUrl: relay.natsUrl,
      jwksUrl: relay.jwks.url,
      env: { GATEWAY_PUBLIC_URL: base, OIDC_ISSUER: TEST_ISSUER },
    });
    profile = mkdtempSync(path.join(tmpdir(), 'nhsmail-secure-chromium-'));
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: '/usr/bin/chromium',
      headless: true,
      javaScriptEnabled: false,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
    await gateway?.stop();
    await relay?.stop();
  });

  it('opens the link from the notice, asks for a code, is refused a wrong one, and reads the message with the right one typed on the keyboard', async () => {
    const secret = `Histology: benign ${randomUUID()}`;
    await send('patient.carer@example.org', 'Results [secure]', secret);
    const link = await linkOf('patient.carer@example.org');
    expect(link.startsWith(`${base}/nhsmail/secure/`)).toBe(true);
    const atSink = relay.sink.received.filter((mail) => mail.to.includes('patient.carer@example.org'));
    expect(atSink.some((mail) => mail.raw.includes('Histology'))).toBe(false);

    const page = await browser.newPage();
    await page.goto(link);
    await expect(page.locator('h1').textContent()).resolves.toBe('You have a secure message');
    await expect(page.locator('main').textContent()).resolves.toContain('p***@example.org');
    await page.getByRole('button', { name: 'Send me a security code' }).click();
    await page.waitForURL(`${link}/verify`);
    const codes = await eventually(
      () => mailTo('patient.carer@example.org', /security code/),
      (list) => list.length > 0,
      10_000,
    );
    const code = /security code is (\d{6})/.exec(codes[0] ?? '')?.[1] ?? '';
    expect(code).toMatch(/^\d{6}$/);

    const wrong = code === '111111' ? '222222' : '111111';
    await page.locator('#code').focus();
    await page.keyboard.type(wrong);
    await page.keyboard.press('Enter');
    await page.waitForURL(/verify\?error=wrong/);
    const summary = page.locator('.nhsuk-error-summary');
    await expect(summary.textContent()).resolves.toContain('The security code is not correct. You have 4 tries left');
    await expect(summary.locator('a').getAttribute('href')).resolves.toBe('#code');

    await page.locator('#code').focus();
    await page.keyboard.type(code);
    await page.keyboard.press('Enter');
    await page.waitForURL(`${link}/message`);
    await expect(page.locator('h1').textContent()).resolves.toBe('Results [secure]');
    await expect(page.locator('.nhsmail-message-text').textContent()).resolves.toContain(secret);
    const cookies = await browser.cookies(link);
    expect(cookies.find((cookie) => cookie.name === 'nhsmail_secure')).toMatchObject({
      httpOnly: true,
      sameSite: 'Strict',
      path: new URL(link).pathname,
    });
    const download = await page.request.get(`${link}/attachments/0`);
    expect(download.status()).toBe(200);
    expect(await download.text()).toBe('care plan v1');
    mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: path.join(SHOTS, 'secure-message.png'), fullPage: true });
    // Both reads are audited against the recipient.
    expect(
      await relay.db.query(
        `SELECT what FROM "${relay.schema}".message_read_audit WHERE mailbox = 'patient.carer@example.org' ORDER BY id`,
      ),
    ).toMatchObject({ rows: [{ what: 'secure-read' }, { what: 'secure-attachment:0' }] });
    await page.close();
  });

  it('refuses a form without its CSRF token, a forged session cookie, and an unknown link', async () => {
    await send('other.reader@example.org', '[secure] second', 'second message');
    const link = await linkOf('other.reader@example.org');
    const noCsrf = await fetch(`${link}/code`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: 'nhsmail_secure_csrf=x' },
      body: 'csrf=y',
      redirect: 'manual',
    });
    expect(noCsrf.status).toBe(303);
    expect(noCsrf.headers.get('location')).toMatch(/\?problem=form$/);
    expect(await mailTo('other.reader@example.org', /security code/)).toEqual([]);

    // With the form's CSRF token: a code that is not digits is asked for again, nothing sent.
    const start = await fetch(link);
    const csrf = /nhsmail_secure_csrf=([A-Za-z0-9_-]{43})/.exec(start.headers.get('set-cookie') ?? '')?.[1] ?? '';
    expect(await start.text()).toContain(`name="csrf" value="${csrf}"`);
    const letters = await fetch(`${link}/verify`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: `nhsmail_secure_csrf=${csrf}` },
      body: `csrf=${csrf}&code=abc`,
      redirect: 'manual',
    });
    expect(letters.status).toBe(303);
    expect(letters.headers.get('location')).toMatch(/\/verify\?error=missing$/);

    const forged = await fetch(`${link}/message`, {
      headers: { cookie: `nhsmail_secure=${randomBytes(32).toString('base64url')}` },
      redirect: 'manual',
    });
    expect(forged.status).toBe(303);
    expect(forged.headers.get('location')).toMatch(/\?problem=session$/);

    const unknown = await fetch(`${base}/nhsmail/secure/${randomBytes(32).toString('base64url')}`);
    expect(unknown.status).toBe(404);
    expect(await unknown.text()).toContain('This link does not work');
  });
});
