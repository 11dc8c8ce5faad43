import { readFileSync } from 'node:fs';
import { connect as connectTcp } from 'node:net';
import { SignJWT } from 'jose';
import { connect, JSONCodec, type NatsConnection } from 'nats';
import { PDS_SUBJECTS } from '@platform/contracts-pds';
import { startBuiltGateway, TEST_GATEWAY_ISSUER, type BuiltGateway } from '@platform/testing-services';
import { freePort, startTestJwks, startTestNats, type TestNats, type TestJwks } from '@platform/shared-testing';

const issuer = TEST_GATEWAY_ISSUER;
const PATIENT = '/personal-demographics/FHIR/R4/Patient';
const IMPORT = '/n3/organisations/import?role=gp-practice';
const MiB = 1024 * 1024;
const codec = JSONCodec<{ id?: string }>();

interface RawAnswer {
  status: number;
  head: string;
  /** Whether the answer came while the request's body was still unsent. */
  beforeBodyEnd: boolean;
  /** Bytes of body the client managed to hand to the kernel before the gateway closed the connection. */
  sent: number;
}

/** Resident and peak resident memory of a process, in bytes (Linux /proc). */
function memoryOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
  return { rss: kib('VmRSS') * 1024, peak: kib('VmHWM') * 1024 };
}

/**
 * The gateway authenticates and authorises in Fastify's onRequest hook, from the headers alone: an anonymous
 * or forbidden request is answered before its body is read, and the body of an admitted one meets its
 * route's limit while it streams. Also the abuse limits: per address before authentication, per user for
 * public clients, /metrics on its own port, and URLs in responses from configuration, not the Host header.
 * Runs the built gateway (real Fastify and NATS) with a fake PDS on the bus.
 */
describe('the gateway admits callers before reading bodies', () => {
  let nats: TestNats;
  let bus: NatsConnection;
  let jwks: TestJwks;
  let jwksUrl: string;
  const gateways: BuiltGateway[] = [];
  const pdsCalls: string[] = [];
  let main: BuiltGateway;

  async function startGateway(env: Record<string, string>): Promise<BuiltGateway> {
    const gateway = await startBuiltGateway({
      natsUrl: nats.url,
      jwksUrl,
      env: { GATEWAY_IMPORT_LIMIT_BYTES: String(MiB), ...env },
    });
    gateways.push(gateway);
    return gateway;
  }

  function token(claims: { sub: string; azp?: string; roles: string[] }): Promise<string> {
    return new SignJWT({
      typ: 'Bearer',
      aud: 'nhs-platform',
      azp: claims.azp ?? 'platform-cli',
      realm_access: { roles: claims.roles },
      nhsd_organisations: ['A83008'],
    })
      .setProtectedHeader({ alg: 'RS256', kid: 'k' })
      .setIssuer(issuer)
      .setSubject(claims.sub)
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(jwks.privateKey);
  }

  /**
   * Sends a request's head and then its body, `bodyBytes` of it (chunked when `chunked`), without waiting
   * for the answer; stops sending when the answer arrives or the gateway closes the connection. With
   * `hold`, it sends only that many bytes of body and waits: an answer then can only come before the body.
   */
  function upload(
    gateway: BuiltGateway,
    head: string,
    options: {
      bodyBytes: number;
      chunked?: boolean;
      hold?: number;
      fill?: number;
      paced?: boolean;
      awaitAnswer?: boolean;
    },
  ): Promise<RawAnswer> {
    return new Promise((resolve, reject) => {
      const chunk = Buffer.alloc(256 * 1024, options.fill ?? 0x61);
      const socket = connectTcp({ host: '127.0.0.1', port: gateway.port });
      let received = '';
      let sent = 0;
      let answered = false;
      let finished = false;
      const startedAt = Date.now();
      const done = (): void => {
        const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(received)?.[1] ?? 0);
        resolve({ status, head: received.split('\r\n\r\n')[0] ?? '', beforeBodyEnd: !finished, sent });
      };
      const pump = (): void => {
        if (options.awaitAnswer && !answered && Date.now() - startedAt < 1000 && sent === 0) {
          // As a client expecting 100-continue would: it waits (up to a second) for an answer before its body,
          // so it reads the answer before the gateway closes the connection. Clients sending flat out may see
          // only the reset (on a quiet machine none of them read the 401).
          setTimeout(pump, 10);
          return;
        }
        const limit = options.hold ?? options.bodyBytes;
        while (!answered && sent < limit) {
          // A paced client sends 16 KiB every 5 ms: the gateway has read what arrived when it refuses, so it
          // closes with nothing unread and the client reads the answer (unread bytes would make that close a
          // reset, which can overtake the answer).
          const size = options.paced ? 16 * 1024 : chunk.length;
          const piece = chunk.subarray(0, Math.min(size, limit - sent));
          sent += piece.length;
          const framed = options.chunked
            ? Buffer.concat([Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n')])
            : piece;
          if (!socket.write(framed)) {
            socket.once('drain', pump);
            return;
          }
          if (options.paced) {
            setTimeout(pump, 5);
            return;
          }
        }
        if (sent >= options.bodyBytes && !finished && options.hold === undefined) {
          finished = true;
          if (options.chunked) socket.write('0\r\n\r\n');
        }
      };
      socket.on('connect', () => {
        socket.write(head);
        pump();
      });
      socket.on('data', (data: Buffer) => {
        received += data.toString('latin1');
        if (!answered && received.includes('\r\n\r\n')) {
          answered = true;
          if (options.hold !== undefined) socket.destroy();
        }
      });
      socket.on('error', () => socket.destroy());
      // Sending flat out, a client may see the gateway's reset before it reads the answer: status 0.
      socket.on('close', () => (received || options.hold === undefined ? done() : reject(new Error('no answer'))));
      socket.setTimeout(20_000, () => socket.destroy());
    });
  }

  function postHead(target: string, headers: Record<string, string>): string {
    const lines = Object.entries({ host: '127.0.0.1', 'x-request-id': crypto.randomUUID(), ...headers }).map(
      ([name, value]) => `${name}: ${value}`,
    );
    return `POST ${target} HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n`;
  }

  beforeAll(async () => {
    nats = await startTestNats();
    bus = await connect({ servers: nats.url });
    for (const subject of [PDS_SUBJECTS.patientCreate, PDS_SUBJECTS.patientSearch]) {
      bus.subscribe(subject, {
        callback: (_error, message) => {
          pdsCalls.push(subject);
          const { id } = codec.decode(message.data);
          const response =
            subject === PDS_SUBJECTS.patientCreate
              ? { nhsNumber: '9000000009', versionId: 1, patientJson: '{"resourceType":"Patient","id":"9000000009"}' }
              : {
                  matches: [
                    { patient: { resourceType: 'Patient', id: '9000000009', meta: { versionId: '1' } }, score: 1 },
                  ],
                  tooManyMatches: false,
                };
          message.respond(codec.encode({ id, isDisposed: true, response } as never));
        },
      });
    }
    jwks = await startTestJwks();
    jwksUrl = jwks.url;
    main = await startGateway({});
  });

  afterAll(async () => {
    for (const gateway of gateways) await gateway.stop();
    await bus?.drain();
    await jwks?.stop();
    await nats?.stop();
  });

  it('answers an anonymous 64 MB upload with 401 before reading its body, declared or chunked', async () => {
    const declared = await upload(
      main,
      postHead(PATIENT, { 'content-type': 'application/fhir+json', 'content-length': String(64 * MiB) }),
      { bodyBytes: 64 * MiB, hold: 64 * 1024 },
    );
    expect([declared.status, declared.beforeBodyEnd]).toEqual([401, true]);
    expect(declared.head).toMatch(/^connection: close$/im);
    const chunked = await upload(
      main,
      postHead(IMPORT, { 'content-type': 'text/csv', 'transfer-encoding': 'chunked' }),
      { bodyBytes: 64 * MiB, chunked: true, hold: 64 * 1024 },
    );
    expect([chunked.status, chunked.beforeBodyEnd]).toEqual([401, true]);
    expect(pdsCalls).toEqual([]);
  });

  it('answers a caller without the route role with 403 before reading its body', async () => {
    const patient = await token({ sub: 'patient-1', roles: ['patient'] });
    const forbidden = await upload(
      main,
      postHead(IMPORT, {
        authorization: `Bearer ${patient}`,
        'content-type': 'text/csv',
        'transfer-encoding': 'chunked',
      }),
      { bodyBytes: 64 * MiB, chunked: true, hold: 64 * 1024 },
    );
    expect([forbidden.status, forbidden.beforeBodyEnd]).toEqual([403, true]);
  });

  it('keeps its memory bounded under eight concurrent anonymous 64 MB uploads sent in full', async () => {
    const pid = main.child.pid ?? 0;
    const before = memoryOf(pid);
    const answers = await Promise.all(
      Array.from({ length: 8 }, (_, index) =>
        upload(
          main,
          index % 2 === 0
            ? postHead(PATIENT, { 'content-type': 'application/fhir+json', 'content-length': String(64 * MiB) })
            : postHead(IMPORT, { 'content-type': 'text/csv', 'transfer-encoding': 'chunked' }),
          // One of them waits for an answer before its body; the others send flat out.
          { bodyBytes: 64 * MiB, chunked: index % 2 === 1, paced: index === 0, awaitAnswer: index === 0 },
        ),
      ),
    );
    const after = memoryOf(pid);
    // Every one reads its 401: the gateway lingers before closing (error-response lingerBeforeClose).
    expect(answers.map((answer) => answer.status)).toEqual(answers.map(() => 401));
    const sent = answers.reduce((total, answer) => total + answer.sent, 0);
    process.stdout.write(
      `gateway RSS ${Math.round(before.rss / MiB)} MiB -> ${Math.round(after.rss / MiB)} MiB, peak ${Math.round(
        before.peak / MiB,
      )} -> ${Math.round(after.peak / MiB)} MiB; the clients got ${Math.round(sent / MiB)} MiB into their sockets\n`,
    );
    // 512 MiB offered; before this change the gateway buffered each body and grew by about as much.
    expect(after.peak - before.peak).toBeLessThan(48 * MiB);
  });

  it('refuses an admitted chunked body over its route limit with 413 while it streams, before PDS sees it', async () => {
    const clinician = await token({ sub: 'clinician-1', roles: ['clinician'] });
    const json = await upload(
      main,
      postHead(PATIENT, {
        authorization: `Bearer ${clinician}`,
        'content-type': 'application/fhir+json',
        'transfer-encoding': 'chunked',
      }),
      { bodyBytes: 8 * MiB, chunked: true, fill: 0x20, paced: true },
    );
    expect([json.status, json.beforeBodyEnd]).toEqual([413, true]);
    expect(json.sent).toBeLessThan(8 * MiB);
    const admin = await token({ sub: 'admin-1', roles: ['registry-admin'] });
    const csv = await upload(
      main,
      postHead(IMPORT, {
        authorization: `Bearer ${admin}`,
        'content-type': 'text/csv',
        'transfer-encoding': 'chunked',
      }),
      { bodyBytes: 8 * MiB, chunked: true, paced: true },
    );
    expect([csv.status, csv.beforeBodyEnd]).toEqual([413, true]);
    expect(pdsCalls).toEqual([]);
  });

  it('builds Location and fullUrl from its configuration, never from the Host header', async () => {
    const clinician = await token({ sub: 'clinician-2', roles: ['clinician'] });
    const headers = {
      authorization: `Bearer ${clinician}`,
      'x-request-id': crypto.randomUUID(),
      host: 'evil.example',
      'x-forwarded-host': 'evil.example',
    };
    const created = await fetch(`${main.base}${PATIENT}`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/fhir+json' },
      body: JSON.stringify({ resourceType: 'Patient' }),
    });
    expect(created.status).toBe(201);
    // Unset GATEWAY_PUBLIC_URL: the address the gateway listens on.
    expect(created.headers.get('location')).toBe(`${main.base}${PATIENT}/9000000009`);
    const configured = await startGateway({ GATEWAY_PUBLIC_URL: 'https://api.platform.example.nhs.uk' });
    const search = await fetch(`${configured.base}${PATIENT}?family=Smith&birthdate=eq2010-10-22`, { headers });
    const bundle = (await search.json()) as { entry?: { fullUrl: string }[] };
    expect(bundle.entry?.map((entry) => entry.fullUrl)).toEqual([
      'https://api.platform.example.nhs.uk/personal-demographics/FHIR/R4/Patient/9000000009',
    ]);
  });

  it('limits each address before authentication: invalid tokens use up its allowance', async () => {
    const limited = await startGateway({ RATE_LIMIT_PER_ADDRESS: '1', RATE_LIMIT_ADDRESS_BURST: '5' });
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 5; attempt += 1) {
      const response = await fetch(`${limited.base}${PATIENT}/9000000009`, {
        headers: { authorization: 'Bearer not.a.token', 'x-request-id': crypto.randomUUID() },
      });
      statuses.push(response.status);
    }
    const valid = await token({ sub: 'clinician-3', roles: ['clinician'] });
    const after = await fetch(`${limited.base}${PATIENT}/9000000009`, {
      headers: { authorization: `Bearer ${valid}`, 'x-request-id': crypto.randomUUID() },
    });
    expect(statuses).toEqual([401, 401, 401, 401, 401]);
    expect(after.status).toBe(429);
    expect(Number(after.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    // Health stays answerable for the platform's own probes.
    expect((await fetch(`${limited.base}/health/live`)).status).toBe(200);
  });

  it('gives each user of a public client a bucket of their own, and a confidential client one for all', async () => {
    const limited = await startGateway({ RATE_LIMIT_PER_CLIENT: '1', RATE_LIMIT_BURST: '2' });
    const statusFor = async (bearer: string): Promise<number> =>
      (
        await fetch(`${limited.base}${PATIENT}?family=Smith&birthdate=eq2010-10-22`, {
          headers: { authorization: `Bearer ${bearer}`, 'x-request-id': crypto.randomUUID() },
        })
      ).status;
    const alice = await token({ sub: 'alice', roles: ['clinician'] });
    const bob = await token({ sub: 'bob', roles: ['clinician'] });
    const system1 = await token({ sub: 'svc-1', azp: 'gp-system', roles: ['clinician'] });
    const system2 = await token({ sub: 'svc-2', azp: 'gp-system', roles: ['clinician'] });
    const cli = [await statusFor(alice), await statusFor(alice), await statusFor(alice), await statusFor(bob)];
    const confidential = [await statusFor(system1), await statusFor(system2), await statusFor(system1)];
    expect(cli).toEqual([200, 200, 429, 200]);
    expect(confidential).toEqual([200, 200, 429]);
  });

  it('serves /metrics only on its metrics port when one is configured', async () => {
    const metricsPort = await freePort();
    const separate = await startGateway({ GATEWAY_METRICS_PORT: String(metricsPort) });
    expect((await fetch(`${separate.base}/metrics`)).status).toBe(404);
    const scraped = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
    expect(scraped.status).toBe(200);
    expect(await scraped.text()).toMatch(/http_requests_total/);
    expect((await fetch(`http://127.0.0.1:${metricsPort}${PATIENT}/9000000009`)).status).toBe(404);
    // Without one (local runs), /metrics stays on the API port.
    expect((await fetch(`${main.base}/metrics`)).status).toBe(200);
  });
});
