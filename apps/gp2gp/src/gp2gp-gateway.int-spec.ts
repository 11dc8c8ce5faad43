import 'reflect-metadata';
import { createHash, randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { startTestJwks, type TestJwks } from '@platform/shared-testing';
import { startBuiltGateway, TEST_GATEWAY_ISSUER, type BuiltGateway } from '@platform/testing-services';
import {
  PATIENT,
  REQUESTER,
  SENDER,
  startGp2gpUnderTest,
  TEST_LINK_SECRET,
  type Gp2gpUnderTest,
} from './gp2gp.test-harness';
import { AttachmentLinks } from './transfers/links';

const SIZE = 1024 * 1024 + 777;

/**
 * GP2GP through the built gateway with real access tokens: the requesting adaptor's API, an attachment
 * streamed through the gateway, the operators' API, and callers who should not get in.
 */
describe('gp2gp through the gateway', () => {
  let under: Gp2gpUnderTest;
  let jwks: TestJwks;
  let gateway: BuiltGateway;
  const tokens: Record<string, string> = {};

  const token = (subject: string, roles: string[], organisations: string[] = [], clientId?: string): Promise<string> =>
    new SignJWT({
      typ: 'Bearer',
      azp: clientId ?? 'platform-cli',
      preferred_username: subject,
      realm_access: { roles },
      nhsd_organisations: organisations,
      // An application's own token (client credentials): a practice's clinical system.
      ...(clientId ? { client_id: clientId } : {}),
    })
      .setProtectedHeader({ alg: 'RS256', kid: 'k' })
      .setIssuer(TEST_GATEWAY_ISSUER)
      .setAudience('nhs-platform')
      .setSubject(subject)
      .setIssuedAt()
      .setExpirationTime('10m')
      .sign(jwks.privateKey);

  beforeAll(async () => {
    under = await startGp2gpUnderTest({ schemaPrefix: 'gp2gp_gw' });
    jwks = await startTestJwks();
    gateway = await startBuiltGateway({ natsUrl: under.natsUrl, jwksUrl: jwks.url });
    tokens['admin'] = await token('admin-y12345', ['practice-admin'], [REQUESTER]);
    tokens['other'] = await token('admin-b81001', ['practice-admin'], ['B81001']);
    tokens['ops'] = await token('ops-1', ['ops']);
    tokens['system'] = await token('service-account-gp-system', ['practice-admin'], [REQUESTER], 'gp-system');
  });
  afterAll(async () => {
    await gateway?.stop();
    await jwks?.stop();
    await under?.stop();
  });

  function call(
    who: string,
    target: string,
    options: { method?: string; body?: unknown; headers?: Record<string, string>; organisation?: string } = {},
  ): Promise<Response> {
    return fetch(`${gateway.base}/gp2gp${target}`, {
      method: options.method ?? 'GET',
      headers: {
        authorization: `Bearer ${tokens[who]}`,
        'x-request-id': randomUUID(),
        ...(options.organisation ? { 'nhsd-end-user-organisation-ods': options.organisation } : {}),
        ...(options.body === undefined ? {} : { 'content-type': 'application/fhir+json' }),
        ...options.headers,
      },
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
  }

  const parameters = (nhsNumber: string) => ({
    resourceType: 'Parameters',
    parameter: [
      { name: 'patientNHSNumber', valueIdentifier: { system: 'https://fhir.nhs.uk/Id/nhs-number', value: nhsNumber } },
    ],
  });

  const migrate = (who: string, conversationId: string, organisation: string, nhsNumber = PATIENT) =>
    call(who, '/Patient/$gpc.migratestructuredrecord', {
      method: 'POST',
      body: parameters(nhsNumber),
      organisation,
      headers: { conversationid: conversationId, 'to-ods': SENDER },
    });

  it('starts (202), polls (204 then 200 with the Bundle), streams an attachment through its link, and takes the ACCEPTED ack', async () => {
    await under.simulator.setRecord(PATIENT, {
      documents: [{ size: SIZE, contentType: 'application/pdf', title: 'Letter' }],
    });
    const conversationId = randomUUID();
    const started = await migrate('admin', conversationId, REQUESTER);
    expect(started.status).toBe(202);
    let response = await migrate('admin', conversationId, REQUESTER);
    const deadline = Date.now() + 20_000;
    while (response.status === 204 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      response = await migrate('admin', conversationId, REQUESTER);
    }
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/fhir\+json/);
    const bundle = (await response.json()) as { entry: { resource: Record<string, unknown> }[] };
    const link = (
      bundle.entry.find((entry) => entry.resource['resourceType'] === 'DocumentReference')!.resource['content'] as {
        attachment: { url: string };
      }[]
    )[0].attachment.url;

    const download = await call('admin', link.replace('/gp2gp', ''), { organisation: REQUESTER });
    expect(download.status).toBe(200);
    expect(download.headers.get('content-length')).toBe(String(SIZE));
    const hash = createHash('sha256');
    let size = 0;
    for await (const chunk of download.body as unknown as AsyncIterable<Uint8Array>) {
      hash.update(chunk);
      size += chunk.length;
    }
    const expected = await under.simulator.documentSha256(
      `${under.simulator.endpointOf(SENDER)}/Binary/${PATIENT}-0-${SIZE}`,
    );
    expect({ size, sha256: hash.digest('hex') }).toEqual({ size: SIZE, sha256: expected });
    expect(download.headers.get('x-content-sha256')).toBe(expected);

    // Another practice's caller with the link, and a link that has expired.
    expect((await call('other', link.replace('/gp2gp', ''), { organisation: 'B81001' })).status).toBe(403);
    const expired = new AttachmentLinks(TEST_LINK_SECRET, 60).sign(
      { conversationId, position: 0, organisation: REQUESTER },
      Date.now() - 3600_000,
    );
    expect((await call('admin', `/attachments/${expired}`, { organisation: REQUESTER })).status).toBe(410);
    // Another practice polling the conversation learns nothing.
    expect((await migrate('other', conversationId, 'B81001')).status).toBe(404);

    // Operators see it; a practice may not use the operators' API.
    const status = await call('ops', `/ehr-status/${conversationId}`);
    expect(status.status).toBe(200);
    expect(await status.json()).toMatchObject({ state: 'EHR_EXTRACT_TRANSLATED' });
    const list = await call('ops', `/ehr-status?state=EHR_EXTRACT_TRANSLATED&requestingOds=${REQUESTER}`);
    expect(
      ((await list.json()) as { items: { conversationId: string }[] }).items.map((item) => item.conversationId),
    ).toContain(conversationId);
    expect((await call('admin', `/ehr-status/${conversationId}`, { organisation: REQUESTER })).status).toBe(403);

    const ack = () =>
      call('admin', '/$gpc.ack', {
        method: 'POST',
        organisation: REQUESTER,
        body: { confirmationResponse: 'ACCEPTED' },
        headers: { conversationid: conversationId },
      });
    const acked = await ack();
    expect(acked.status).toBe(200);
    expect(await acked.json()).toMatchObject({ state: 'MIGRATION_COMPLETED' });
    expect((await ack()).status).toBe(409);
  });

  it('answers a requester that is not the patient’s practice with 403 and the GP2GP reason 19 in an OperationOutcome', async () => {
    const refused = await migrate('other', randomUUID(), 'B81001');
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({
      resourceType: 'OperationOutcome',
      issue: [{ details: { coding: [{ system: 'urn:oid:2.16.840.1.113883.2.1.3.2.4.17.101', code: '19' }] } }],
    });
  });

  it("lets the requesting practice's clinical system (an application token) start and poll a transfer", async () => {
    await under.simulator.setRecord(PATIENT, { documents: [{ size: 1000, contentType: 'text/plain', title: 'Note' }] });
    const conversationId = randomUUID();
    expect((await migrate('system', conversationId, REQUESTER)).status).toBe(202);
    let status = 204;
    const deadline = Date.now() + 20_000;
    while (status === 204 && Date.now() < deadline) {
      status = (await migrate('system', conversationId, REQUESTER)).status;
      if (status === 204) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(status).toBe(200);
    // The application's token names its practice: it cannot act for another.
    expect((await migrate('system', randomUUID(), 'B81001')).status).toBe(403);
  });

  it('refuses a request without its ConversationId, with a malformed body or an invalid NHS number, with 400', async () => {
    const noConversation = await call('admin', '/Patient/$gpc.migratestructuredrecord', {
      method: 'POST',
      body: parameters(PATIENT),
      organisation: REQUESTER,
      headers: { 'to-ods': SENDER },
    });
    expect(noConversation.status).toBe(400);
    const notParameters = await call('admin', '/Patient/$gpc.migratestructuredrecord', {
      method: 'POST',
      body: { resourceType: 'Patient' },
      organisation: REQUESTER,
      headers: { conversationid: randomUUID(), 'to-ods': SENDER },
    });
    expect(notParameters.status).toBe(400);
    expect((await migrate('admin', randomUUID(), REQUESTER, '9000000008')).status).toBe(400);
    expect((await migrate('admin', 'not-a-uuid', REQUESTER)).status).toBe(400);
  });
});
