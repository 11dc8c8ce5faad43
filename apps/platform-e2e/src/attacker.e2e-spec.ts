import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { connect, JSONCodec, type NatsConnection } from 'nats';
import { Client } from 'pg';
import { EPS_SUBJECTS } from '@platform/contracts-eps';
import { PDS_SUBJECTS } from '@platform/contracts-pds';
import {
  CallerAssertionSigner,
  GATEWAY_ISSUER,
  generateCallerKey,
  HEADER,
  natsEndpointOptions,
  privateKeyFrom,
  toNatsHeaders,
  type CallContext,
} from '@platform/shared-nats';
import { currentPids, e2eState, passwordToken, platformUp, type E2eState } from './support/platform';

const PATIENT_PATH = '/personal-demographics/FHIR/R4/Patient';
const codec = JSONCodec<unknown>();

/**
 * The attacker's view of the running platform (issue 12): on the bus without credentials or with forged
 * caller statements, at the gateway anonymously with oversized and hostile bodies, and through each hole the
 * review found. Every attempt is refused, and the suite counts what it could have changed before and after.
 */
describe('an attacker against the running platform', () => {
  let state: E2eState;
  let db: Client;
  let bus: NatsConnection;
  let clinician: string;
  const before: Record<string, number> = {};

  const count = async (sql: string): Promise<number> => Number((await db.query<{ n: string }>(sql)).rows[0].n);
  const counts = async (): Promise<Record<string, number>> => ({
    patients: await count(`SELECT count(*) AS n FROM "${state.schemas['pds']}".patient`),
    patientVersions: await count(`SELECT coalesce(sum(version), 0) AS n FROM "${state.schemas['pds']}".patient`),
    reads: await count(`SELECT count(*) AS n FROM "${state.schemas['pds']}".read_audit WHERE actor_id = 'forged-user'`),
    prescriberKeys: await count(`SELECT count(*) AS n FROM "${state.schemas['eps']}".prescriber_key`),
    prescriptions: await count(`SELECT count(*) AS n FROM "${state.schemas['eps']}".prescription`),
    connections: await count(`SELECT count(*) AS n FROM "${state.schemas['n3-registry']}".connection`),
  });

  /** A request in Nest's envelope with the given headers; answers the reply's `err` (or undefined). */
  async function send(
    subject: string,
    data: unknown,
    headers = toNatsHeaders(forged()),
  ): Promise<{ code?: string; diagnostics?: string } | undefined> {
    const reply = await bus.request(subject, codec.encode({ pattern: subject, data, id: randomUUID() }), {
      timeout: 5000,
      headers,
    });
    return (codec.decode(reply.data) as { err?: { code?: string; diagnostics?: string } }).err;
  }

  /** The caller an attacker would claim: an administrator of everything, at a GP practice. */
  function forged(): CallContext {
    return {
      requestId: randomUUID(),
      caller: {
        id: 'forged-user',
        username: 'forged',
        roles: ['clinician', 'ops', 'registry-admin', 'pharmacist'],
        organisation: 'A83008',
      },
    };
  }

  async function http(
    path: string,
    options: { method?: string; token?: string; body?: string; headers?: Record<string, string> } = {},
  ): Promise<{ status: number; text: string }> {
    const headers: Record<string, string> = { 'x-request-id': randomUUID(), ...options.headers };
    if (options.token) headers['authorization'] = `Bearer ${options.token}`;
    const response = await fetch(`${state.gateway}${path}`, {
      method: options.method ?? 'GET',
      headers,
      body: options.body,
    });
    return { status: response.status, text: await response.text() };
  }

  beforeAll(async () => {
    state = e2eState();
    expect(await platformUp(state, 60_000)).toBe(true);
    db = new Client({ connectionString: state.databaseUrl });
    await db.connect();
    // The attacker holds the least privileged account on the bus there is (the launcher's test user), as a
    // compromised workload would: it may send requests, but has no key the services trust.
    bus = await connect(natsEndpointOptions(state.natsUrl));
    clinician = await passwordToken(state.issuer, 'clinician');
    Object.assign(before, await counts());
  });

  afterAll(async () => {
    await bus?.close();
    await db?.end();
  });

  describe('on the bus', () => {
    it('cannot connect without credentials, or with a wrong password', async () => {
      const { servers } = natsEndpointOptions(state.natsUrl);
      const anonymous = await connect({ servers, reconnect: false, timeout: 3000 }).then(
        (connection) => connection.close().then(() => 'connected'),
        (error: { code?: string }) => error.code ?? 'refused',
      );
      expect(anonymous).toBe('AUTHORIZATION_VIOLATION');
      const guessed = await connect({ servers, user: 'pds', pass: 'guess', reconnect: false, timeout: 3000 }).then(
        (connection) => connection.close().then(() => 'connected'),
        (error: { code?: string }) => error.code ?? 'refused',
      );
      expect(guessed).toBe('AUTHORIZATION_VIOLATION');
    });

    it("cannot listen to a service's requests", async () => {
      const errors: string[] = [];
      const listener = await connect({ ...natsEndpointOptions(state.natsUrl), reconnect: false });
      listener.subscribe('pds.>', { callback: (error) => error && errors.push(error.message) });
      await listener.flush();
      for (let waited = 0; errors.length === 0 && waited < 2000; waited += 50) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await listener.close().catch(() => undefined);
      expect(errors.join(' ')).toMatch(/Permissions Violation/i);
    });

    it('cannot read a patient by claiming a caller in headers, and leaves no forged identity in the audit', async () => {
      const err = await send(PDS_SUBJECTS.patientGet, { nhsNumber: '9000000009' });
      expect(err).toMatchObject({
        code: 'ACCESS_DENIED',
        diagnostics: expect.stringMatching(/no signed caller statement/),
      });
    });

    it('cannot pass off a statement signed with a key of its own as the gateway', async () => {
      const stolen = await generateCallerKey(GATEWAY_ISSUER, 'gateway-forged');
      const signer = new CallerAssertionSigner(GATEWAY_ISSUER, privateKeyFrom(stolen.privateKey), stolen.kid);
      const context = forged();
      const data = { nhsNumber: '9000000009' };
      const headers = toNatsHeaders(context);
      headers.set(HEADER.callerAssertion, await signer.sign(PDS_SUBJECTS.patientGet, data, context));
      expect(await send(PDS_SUBJECTS.patientGet, data, headers)).toMatchObject({ code: 'ACCESS_DENIED' });
    });

    it("cannot overwrite a prescriber's signing key, with or without a forged administrator", async () => {
      const data = {
        sdsUserId: '555086689106',
        publicKeyPem: '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----',
      };
      expect(await send(EPS_SUBJECTS.registerKey, data)).toMatchObject({ code: 'ACCESS_DENIED' });
      const noCaller = toNatsHeaders({ requestId: randomUUID() });
      expect(await send(EPS_SUBJECTS.registerKey, data, noCaller)).toMatchObject({ code: 'ACCESS_DENIED' });
    });
  });

  describe('at the gateway', () => {
    /** Sends `size` bytes of body with no token and says what came back and how much the gateway read. */
    /**
     * Starts sending `size` bytes of body with no token: the first 64 KiB, then (unless answered within 2 s)
     * the rest. A client that keeps sending while the gateway refuses may see only the reset that follows
     * the refusal, not the refusal itself, so it waits for the answer as an HTTP client with
     * `Expect: 100-continue` would. Resolves with the status, 0 when the connection ended without one.
     */
    function anonymousUpload(path: string, size: number, contentType: string): Promise<number> {
      return new Promise((resolve) => {
        const url = new URL(`${state.gateway}${path}`);
        let answered = false;
        const request = httpRequest(
          {
            host: url.hostname,
            port: url.port,
            path: url.pathname,
            method: 'POST',
            headers: { 'content-type': contentType, 'content-length': size },
          },
          (response) => {
            answered = true;
            response.resume();
            resolve(response.statusCode ?? 0);
            request.destroy();
          },
        );
        request.on('error', () => undefined);
        request.on('close', () => resolve(0));
        const piece = Buffer.alloc(64 * 1024, 0x61);
        let sent = 0;
        const pump = (): void => {
          if (answered || request.destroyed) return;
          if (sent >= size) {
            request.end();
            return;
          }
          sent += piece.length;
          if (request.write(piece)) setImmediate(pump);
          else request.once('drain', pump);
        };
        request.write(piece);
        sent = piece.length;
        setTimeout(pump, 2000);
      });
    }

    it('refuses anonymous 32 MB uploads at once, without reading them into memory', async () => {
      const gatewayPid = currentPids(state)['gateway'];
      const rss = (): number =>
        Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${gatewayPid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
      const startRss = rss();
      const statuses = await Promise.all([
        anonymousUpload(PATIENT_PATH, 32 * 1024 * 1024, 'application/fhir+json'),
        anonymousUpload('/n3/organisations/import?role=gp-practice', 32 * 1024 * 1024, 'text/csv'),
        anonymousUpload('/fhir-prescribing/FHIR/R4/$process-message', 32 * 1024 * 1024, 'application/fhir+json'),
      ]);
      expect(statuses).toEqual([401, 401, 401]);
      expect(rss() - startRss).toBeLessThan(48);
    });

    it('refuses hostile bodies from a signed-in caller with 4xx: 10,000-deep JSON, a NUL, a __proto__ patch', async () => {
      const deep = `${'['.repeat(10_000)}${']'.repeat(10_000)}`;
      expect(
        (
          await http(PATIENT_PATH, {
            method: 'POST',
            token: clinician,
            body: deep,
            headers: { 'content-type': 'application/fhir+json' },
          })
        ).status,
      ).toBe(400);
      expect((await http(`${PATIENT_PATH}?family=Smi%00th&birthdate=eq2010-10-22`, { token: clinician })).status).toBe(
        400,
      );
      const patch = JSON.stringify({ patches: [{ op: 'add', path: '/__proto__/polluted', value: 'yes' }] });
      const refused = await http(`${PATIENT_PATH}/9000000009`, {
        method: 'PATCH',
        token: clinician,
        body: patch,
        headers: { 'content-type': 'application/json-patch+json', 'if-match': 'W/"2"' },
      });
      expect(refused.status).toBe(400);
      expect(refused.text).not.toMatch(/TypeError/);
    });

    it("learns no restricted patient's NHS number by registering their demographics", async () => {
      const answer = await http(PATIENT_PATH, {
        method: 'POST',
        token: clinician,
        headers: { 'content-type': 'application/fhir+json' },
        body: JSON.stringify({
          resourceType: 'Patient',
          name: [{ use: 'usual', family: 'Smythe', given: ['Janet'] }],
          gender: 'female',
          birthDate: '2010-10-22',
          address: [{ use: 'home', line: ['1 Trevelyan Square'], postalCode: 'LS1 6AE' }],
        }),
      });
      expect(answer.status).toBe(200);
      expect(answer.text).toMatch(/SINGLE_MATCH/);
      expect(answer.text).not.toMatch(/9000000025/);
    });
  });

  describe('afterwards', () => {
    it('changed nothing: no patient, version, forged audit entry, key, prescription or connection', async () => {
      expect(await counts()).toEqual(before);
    });
  });
});
