import { connect as connectTcp } from 'node:net';
import { SignJWT } from 'jose';
import { connect, JSONCodec, type NatsConnection } from 'nats';
import { PDS_SUBJECTS } from '@platform/contracts-pds';
import { startBuiltGateway, TEST_GATEWAY_ISSUER, type BuiltGateway } from '@platform/testing-services';
import { startTestJwks, startTestNats, type TestNats, type TestJwks } from '@platform/shared-testing';

const issuer = TEST_GATEWAY_ISSUER;
const PATIENT = '/personal-demographics/FHIR/R4/Patient';
const codec = JSONCodec<{ id?: string }>();

interface Answer {
  status: number;
  type: string;
  body: Record<string, unknown>;
}

/**
 * The gateway as it runs (the built process: real Fastify, real NATS; `npm test` builds first), with a
 * fake PDS on the bus answering reads and creates, and a JWKS endpoint for the tokens the tests sign.
 */
describe('the gateway edge with a real Fastify instance', () => {
  let nats: TestNats;
  let bus: NatsConnection;
  let jwks: TestJwks;
  let gateway: BuiltGateway;
  let base: string;
  let port: number;
  let token: string;
  const pdsCalls: string[] = [];

  beforeAll(async () => {
    nats = await startTestNats();
    bus = await connect({ servers: nats.url });
    for (const subject of [PDS_SUBJECTS.patientGet, PDS_SUBJECTS.patientCreate]) {
      bus.subscribe(subject, {
        callback: (_error, message) => {
          pdsCalls.push(subject);
          const { id } = codec.decode(message.data);
          message.respond(
            codec.encode({
              id,
              isDisposed: true,
              response: { patientJson: '{"resourceType":"Patient","id":"9000000009"}', versionId: 2 },
            } as never),
          );
        },
      });
    }
    jwks = await startTestJwks();
    gateway = await startBuiltGateway({
      natsUrl: nats.url,
      jwksUrl: jwks.url,
      env: { GATEWAY_BODY_LIMIT_BYTES: String(64 * 1024) },
    });
    port = gateway.port;
    base = gateway.base;
    token = await new SignJWT({
      typ: 'Bearer',
      aud: 'nhs-platform',
      azp: 'platform-cli',
      realm_access: { roles: ['clinician', 'registry-admin'] },
      nhsd_organisations: ['A83008'],
    })
      .setProtectedHeader({ alg: 'RS256', kid: 'k' })
      .setIssuer(issuer)
      .setSubject('user-1')
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(jwks.privateKey);
  });

  afterAll(async () => {
    await gateway?.stop();
    await bus?.drain();
    await jwks?.stop();
    await nats?.stop();
  });

  async function call(
    path: string,
    options: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {},
  ): Promise<Answer> {
    const response = await fetch(`${base}${path}`, {
      method: options.method ?? 'GET',
      headers: { authorization: `Bearer ${token}`, 'x-request-id': crypto.randomUUID(), ...options.headers },
      body: options.body,
    });
    return {
      status: response.status,
      type: response.headers.get('content-type') ?? '',
      body: (await response.json()) as Record<string, unknown>,
    };
  }

  /** Bytes as sent, for what fetch will not send (oversized headers). */
  function raw(bytes: string): Promise<{ status: number; type: string; body: Record<string, unknown> }> {
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      const socket = connectTcp({ host: '127.0.0.1', port }, () => socket.write(Buffer.from(bytes, 'latin1')));
      socket.on('data', (chunk: Buffer) => chunks.push(chunk));
      socket.on('error', reject);
      socket.on('close', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const [head = '', body = ''] = text.split('\r\n\r\n');
        resolve({
          status: Number(head.slice(9, 12)),
          type: /content-type: ([^\r\n]+)/i.exec(head)?.[1] ?? '',
          body: JSON.parse(body) as Record<string, unknown>,
        });
      });
    });
  }

  const outcomeCode = (answer: Answer): unknown =>
    (answer.body['issue'] as { details?: { coding?: { code?: string }[] } }[] | undefined)?.[0]?.details?.coding?.[0]
      ?.code;

  it('accepts the Bearer scheme in any case (RFC 9110)', async () => {
    for (const scheme of ['Bearer', 'bearer', 'BEARER']) {
      const answer = await call(`${PATIENT}/9000000009`, { headers: { authorization: `${scheme} ${token}` } });
      expect(answer.status).toBe(200);
    }
  });

  it('refuses text/csv sent to POST /Patient with 415 before anything reaches PDS', async () => {
    const before = pdsCalls.length;
    const answer = await call(PATIENT, { method: 'POST', headers: { 'content-type': 'text/csv' }, body: 'a,b\n' });
    expect(answer).toMatchObject({ status: 415, body: { resourceType: 'OperationOutcome' } });
    expect(outcomeCode(answer)).toBe('REC_UNSUPPORTED_MEDIA_TYPE');
    expect(pdsCalls.length).toBe(before);
  });

  it('refuses JSON nested 10,000 deep with 400 instead of overflowing the stack', async () => {
    const deep = `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`;
    const answer = await call(PATIENT, {
      method: 'POST',
      headers: { 'content-type': 'application/fhir+json' },
      body: deep,
    });
    expect(answer.status).toBe(400);
    expect(answer.body['resourceType']).toBe('OperationOutcome');
  });

  it('refuses a gzip Content-Encoding and a UTF-16 charset with 415 rather than reading them as plain', async () => {
    const gzip = await call('/n3/organisations/A83008/sites', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      body: '{"name":"x"}',
    });
    expect(gzip).toMatchObject({ status: 415, body: { code: 'REC_UNSUPPORTED_MEDIA_TYPE' } });
    expect(gzip.type).toMatch(/^application\/problem\+json/);
    const utf16 = await call(PATIENT, {
      method: 'POST',
      headers: { 'content-type': 'application/fhir+json; charset=utf-16' },
      body: '{}',
    });
    expect(utf16.status).toBe(415);
  });

  it('refuses NUL in a query string with 400 problem details before it reaches a service', async () => {
    const answer = await call('/n3/organisations?name=a%00b');
    expect(answer).toMatchObject({ status: 400, body: { code: 'REC_BAD_REQUEST', status: 400 } });
    expect(answer.type).toMatch(/^application\/problem\+json/);
  });

  it("answers Fastify's own refusals in the platform formats: bad URL encoding, an over-long path parameter", async () => {
    const badUrl = await call(`${PATIENT}/%E0%A4%A`);
    expect(badUrl).toMatchObject({ status: 400, body: { resourceType: 'OperationOutcome' } });
    expect(badUrl.type).toMatch(/^application\/fhir\+json/);
    const longParam = await call(`/n3/organisations/${'a'.repeat(200)}`);
    expect(longParam).toMatchObject({ status: 414, body: { code: 'REC_URI_TOO_LONG' } });
    expect(longParam.type).toMatch(/^application\/problem\+json/);
  });

  it("answers Node's 431 for oversized headers as an OperationOutcome on FHIR routes and problem details elsewhere", async () => {
    const big = 'x'.repeat(20_000);
    const fhir = await raw(`GET ${PATIENT}/9000000009 HTTP/1.1\r\nHost: x\r\nX-Big: ${big}\r\n\r\n`);
    expect(fhir).toMatchObject({ status: 431, body: { resourceType: 'OperationOutcome' } });
    expect(fhir.type).toMatch(/^application\/fhir\+json/);
    const other = await raw(`GET /n3/organisations HTTP/1.1\r\nHost: x\r\nX-Big: ${big}\r\n\r\n`);
    expect(other).toMatchObject({ status: 431, body: { code: 'REC_HEADERS_TOO_LARGE' } });
  });
});
