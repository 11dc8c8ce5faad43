import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import nodemailer from 'nodemailer';
import { startBuiltGateway, type BuiltGateway } from '@platform/testing-services';
import {
  eventually,
  startNhsmailRelayUnderTest,
  TEST_ISSUER,
  type NhsmailRelayUnderTest,
} from '../nhsmail-relay.test-harness';

describe('the mailbox API through the built gateway, with real access tokens', () => {
  let relay: NhsmailRelayUnderTest;
  let gateway: BuiltGateway;

  /** A Keycloak-shaped user token signed by the test identity provider. */
  const token = (username: string, roles: string[], organisation: string): Promise<string> =>
    new SignJWT({
      typ: 'Bearer',
      azp: 'platform-cli',
      preferred_username: username,
      realm_access: { roles },
      nhsd_organisations: [organisation],
    })
      .setProtectedHeader({ alg: 'RS256', kid: 'k' })
      .setIssuer(TEST_ISSUER)
      .setAudience('nhs-platform')
      .setSubject(`user-${username}`)
      .setIssuedAt()
      .setExpirationTime('10m')
      .sign(relay.jwks.privateKey);

  async function call(
    method: string,
    url: string,
    bearer: string | undefined,
    body?: unknown,
  ): Promise<{ status: number; type: string; json: Record<string, unknown> }> {
    const response = await fetch(`${gateway.base}${url}`, {
      method,
      headers: {
        ...(bearer ? { authorization: `Bearer ${bearer}` } : {}),
        'x-request-id': randomUUID(),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return {
      status: response.status,
      type: response.headers.get('content-type') ?? '',
      json: text ? (JSON.parse(text) as Record<string, unknown>) : {},
    };
  }

  beforeAll(async () => {
    relay = await startNhsmailRelayUnderTest({ schemaPrefix: 'nhsmail_gw' });
    gateway = await startBuiltGateway({
      natsUrl: relay.natsUrl,
      jwksUrl: relay.jwks.url,
      env: { OIDC_ISSUER: TEST_ISSUER },
    });
  });

  afterAll(async () => {
    await gateway?.stop();
    await relay?.stop();
  });

  it('a pharmacist finds their mailboxes, sends, and the recipient lists and reads; nobody else can', async () => {
    const priya = await token('priya.shah', ['pharmacist'], 'FCG72');
    const tom = await token('tom.okafor', ['provider-clinician'], 'RR8');
    const admin = await token('registry.admin', ['registry-admin'], 'X26');
    const patient = await token('robin.evans', ['patient'], 'X26');

    const provisioned = await call('POST', '/nhsmail/shared-mailboxes/pharmacies', admin, { odsCodes: ['FCG72'] });
    expect(provisioned).toMatchObject({ status: 200, json: { created: ['pharmacy.fcg72@nhs.net'] } });
    expect((await call('POST', '/nhsmail/shared-mailboxes/pharmacies', priya, { odsCodes: ['FCG72'] })).status).toBe(
      403,
    );

    // The harness's N3 registry directory is empty: nothing to make, but the route answers.
    expect(await call('POST', '/nhsmail/shared-mailboxes/pharmacies/from-directory', admin)).toMatchObject({
      status: 200,
      json: { created: [], existing: [] },
    });
    const named = await call('POST', '/nhsmail/personal-mailboxes', admin, {
      username: 'grace.h',
      firstName: 'Grace',
      lastName: 'Hughes',
    });
    expect(named).toMatchObject({ status: 200, json: { address: 'grace.hughes@nhs.net', ownerUsername: 'grace.h' } });
    expect(
      (await call('POST', '/nhsmail/personal-mailboxes', priya, { username: 'x', firstName: 'X', lastName: 'Y' }))
        .status,
    ).toBe(403);

    const mine = await call('GET', '/nhsmail/me', priya);
    expect(mine).toMatchObject({
      status: 200,
      json: { personal: { address: 'priya.shah@nhs.net' }, shared: [{ address: 'pharmacy.fcg72@nhs.net' }] },
    });
    const tomBox = ((await call('GET', '/nhsmail/me', tom)).json.personal as { address: string }).address;

    const sent = await call('POST', '/nhsmail/mailboxes/pharmacy.fcg72@nhs.net/messages', priya, {
      to: [tomBox],
      subject: 'Medicine query',
      text: 'Please call the pharmacy.',
    });
    expect(sent).toMatchObject({ status: 202, json: { recipients: 1 } });

    const listed = await eventually(
      () => call('GET', `/nhsmail/mailboxes/${tomBox}/messages?unread=true&limit=10`, tom),
      (page) => page.json.total === 1,
    );
    const [summary] = listed.json.messages as { id: string; subject: string }[];
    expect(summary?.subject).toBe('Medicine query');
    const read = await call('GET', `/nhsmail/mailboxes/${tomBox}/messages/${summary?.id ?? ''}`, tom);
    expect(read).toMatchObject({
      status: 200,
      json: { from: 'pharmacy.fcg72@nhs.net', seen: true, text: expect.stringContaining('Please call the pharmacy.') },
    });
    expect(
      (await call('PATCH', `/nhsmail/mailboxes/${tomBox}/messages/${summary?.id ?? ''}`, tom, { seen: false })).json,
    ).toMatchObject({
      seen: false,
    });

    // Another user's mailbox: problem details with the relay's code, nothing read.
    const refused = await call('GET', `/nhsmail/mailboxes/${tomBox}/messages/${summary?.id ?? ''}`, priya);
    expect(refused.status).toBe(403);
    expect(refused.type).toContain('application/problem+json');
    expect(JSON.stringify(refused.json)).toContain('NHSMAIL_MAILBOX_FORBIDDEN');
    expect(
      (await call('POST', `/nhsmail/mailboxes/${tomBox}/messages`, priya, { to: [tomBox], subject: 'x', text: 'x' }))
        .status,
    ).toBe(403);
    expect((await call('GET', '/nhsmail/mailboxes/pharmacy.fcg72@nhs.net/messages', tom)).status).toBe(403);
    expect((await call('GET', '/nhsmail/me', patient)).status).toBe(403);
    expect((await call('GET', '/nhsmail/me', undefined)).status).toBe(401);
    expect((await call('GET', `/nhsmail/mailboxes/${tomBox}/messages?unread=maybe`, tom)).status).toBe(400);
    // Bad input: a 400 problem with INVALID_VALUE, nothing read or changed.
    for (const [method, url, body] of [
      ['GET', `/nhsmail/mailboxes/${tomBox}/messages/not-a-uuid`, undefined],
      ['GET', `/nhsmail/mailboxes/${tomBox}/messages?limit=0`, undefined],
      ['GET', `/nhsmail/mailboxes/${tomBox}/messages?since=yesterday`, undefined],
      ['GET', `/nhsmail/mailboxes/${tomBox}/messages/${summary?.id ?? ''}/attachments/x`, undefined],
      ['PATCH', `/nhsmail/mailboxes/${tomBox}/messages/${summary?.id ?? ''}`, { seen: 'yes' }],
      ['POST', `/nhsmail/mailboxes/${tomBox}/messages`, { to: 'someone', subject: 'x' }],
    ] as const) {
      const bad = await call(method, url, tom, body);
      expect({ url, status: bad.status, code: JSON.stringify(bad.json).includes('INVALID_VALUE') }).toEqual({
        url,
        status: 400,
        code: true,
      });
    }

    // A 1.5 MB scan arrives by SMTP; it downloads in pieces, byte for byte, with its type.
    const scan = Buffer.alloc(1_500_000);
    for (let i = 0; i < scan.length; i += 1) scan[i] = (i * 7919) % 251;
    const transport = nodemailer.createTransport({
      host: '127.0.0.1',
      port: relay.relayPort,
      secure: false,
      ignoreTLS: true,
    });
    await transport.sendMail({
      from: 'radiology@hospital.example',
      to: tomBox,
      subject: 'Scan',
      text: 'Scan attached',
      attachments: [{ filename: 'scan.png', content: scan, contentType: 'image/png' }],
    });
    transport.close();
    const withScan = await eventually(
      () => call('GET', `/nhsmail/mailboxes/${tomBox}/messages?subject=Scan`, tom),
      (page) => page.json.total === 1,
    );
    const scanId = (withScan.json.messages as { id: string }[])[0]?.id ?? '';
    const download = await fetch(`${gateway.base}/nhsmail/mailboxes/${tomBox}/messages/${scanId}/attachments/0`, {
      headers: { authorization: `Bearer ${tom}` },
    });
    expect(download.status).toBe(200);
    expect(download.headers.get('content-type')).toBe('image/png');
    expect(download.headers.get('content-disposition')).toBe('attachment; filename="scan.png"');
    expect(Buffer.from(await download.arrayBuffer()).equals(scan)).toBe(true);
    const stolen = await fetch(`${gateway.base}/nhsmail/mailboxes/${tomBox}/messages/${scanId}/attachments/0`, {
      headers: { authorization: `Bearer ${priya}` },
    });
    expect(stolen.status).toBe(403);

    // Operations see the queue (addresses, never content); a pharmacist does not.
    const operator = await token('jordan.lee', ['ops'], 'X26');
    const queue = await call('GET', '/nhsmail/queue?state=delivered&domain=nhs.net&limit=10', operator);
    expect(queue.status).toBe(200);
    expect((queue.json.deliveries as { recipient: string }[]).map((row) => row.recipient)).toContain(tomBox);
    expect((await call('GET', '/nhsmail/queue', priya)).status).toBe(403);
    expect((await call('POST', '/nhsmail/queue/purge', operator, { domain: 'far.example' })).json).toEqual({
      changed: 0,
      inFlight: 0,
    });
    expect((await call('POST', '/nhsmail/queue/retry', operator, {})).status).toBe(400);

    const audit = await relay.db.query(
      `SELECT mailbox, reader, what FROM "${relay.schema}".message_read_audit ORDER BY id`,
    );
    expect(audit.rows).toEqual([
      { mailbox: tomBox, reader: 'tom.okafor', what: 'read' },
      { mailbox: tomBox, reader: 'tom.okafor', what: 'attachment 0' },
    ]);

    expect((await call('DELETE', `/nhsmail/mailboxes/${tomBox}/messages/${summary?.id ?? ''}`, tom)).json).toEqual({
      deleted: true,
    });
    expect((await call('GET', `/nhsmail/mailboxes/${tomBox}/messages`, tom)).json.total).toBe(1);
  });
});
