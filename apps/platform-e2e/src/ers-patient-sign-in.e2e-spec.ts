import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { request } from 'node:http';
import { connect, type NatsConnection } from 'nats';
import { Client } from 'pg';
import { EReferralsClient, type FhirResource, shortlistParameter } from '@platform/contracts-ers';
import { PdsClient } from '@platform/contracts-pds';
import { NatsRpcClient, natsEndpointOptions, type CallContext } from '@platform/shared-nats';
import { e2eState, gatewaySigner, platformUp, type E2eState } from './support/platform';

const PATIENT = '9000000114';
const PRACTICE = 'A83008';
const PROVIDER = 'R69';

const gp = (): CallContext => ({
  requestId: randomUUID(),
  caller: { id: 'e2e-gp', username: 'clinician', roles: ['clinician'], organisation: PRACTICE },
});
const hospital = (): CallContext => ({
  requestId: randomUUID(),
  caller: { id: 'e2e-hospital', username: 'provider-clinician', roles: ['provider-clinician'], organisation: PROVIDER },
});

interface PageAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * One HTTP exchange with the gateway from a loopback address of the test's choosing (127.0.0.0/8 all reaches
 * this host), so that each test has an address of its own for the page's per-address limit and other tests
 * from 127.0.0.1 are not slowed by it.
 */
function exchange(
  base: string,
  from: string,
  method: 'GET' | 'POST',
  pathname: string,
  options: { cookie?: string; form?: Record<string, string> } = {},
): Promise<PageAnswer> {
  const url = new URL(pathname, base);
  const body = options.form ? new URLSearchParams(options.form).toString() : undefined;
  return new Promise((resolve, reject) => {
    const outgoing = request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname + url.search,
        method,
        localAddress: from,
        headers: {
          ...(options.cookie ? { cookie: options.cookie } : {}),
          ...(body === undefined
            ? {}
            : { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) }),
        },
      },
      (incoming) => {
        const chunks: Buffer[] = [];
        incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
        incoming.on('end', () =>
          resolve({
            status: incoming.statusCode ?? 0,
            headers: incoming.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        incoming.on('error', reject);
      },
    );
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

function cookies(answer: PageAnswer): Record<string, string> {
  const set = answer.headers['set-cookie'] ?? [];
  return Object.fromEntries(
    (Array.isArray(set) ? set : [set]).map((line) => {
      const [pair = ''] = line.split(';');
      const [name = '', ...value] = pair.split('=');
      return [name, value.join('=')];
    }),
  );
}

function hiddenCsrf(html: string): string {
  return /name="csrf" value="([^"]*)"/.exec(html)?.[1] ?? '';
}

/**
 * The patient page's sign-in through the gateway: the form's CSRF token (a post from another site has neither
 * the token nor the SameSite cookie, and is refused before any code is checked), the per-address limit on
 * sign-in posts (429 with Retry-After past it), and the per-UBRN lockout, which holds against the right details
 * from any address until it expires.
 */
describe('e-RS patient page: sign-in CSRF and the limits on wrong codes', () => {
  let state: E2eState;
  let nats: NatsConnection;
  let db: Client;
  let schema: string;
  let birthYear: string;
  let serviceId: string;
  let ers: EReferralsClient;

  async function newReferral(): Promise<{ ubrn: string; accessCode: string }> {
    const referral: FhirResource = {
      resourceType: 'Parameters',
      parameter: [
        { name: 'patient', valueIdentifier: { system: 'http://fhir.nhs.net/Id/nhs-number', value: PATIENT } },
        shortlistParameter([serviceId], { priority: 'ROUTINE', specialty: 'CARDIOLOGY' }),
      ],
    };
    const created = await ers.createReferral({ resource: referral, businessFunction: 'REFERRING_CLINICIAN' }, gp());
    const ubrn = created.resource['id'] as string;
    const row = await db.query<{ access_code: string }>(
      `SELECT access_code FROM "${schema}".referral WHERE ubrn = $1`,
      [ubrn],
    );
    return { ubrn, accessCode: row.rows[0]?.access_code ?? '' };
  }

  /** The start page from `from`: its sign-in cookie and the form's token. */
  async function startFrom(from: string): Promise<{ cookie: string; csrf: string }> {
    const page = await exchange(state.gateway, from, 'GET', '/referrals/patient');
    expect(page.status).toBe(200);
    const token = cookies(page)['ers_patient_signin'] ?? '';
    expect(String(page.headers['set-cookie'])).toMatch(
      /ers_patient_signin=[^;]+; Path=\/referrals\/patient;.*HttpOnly; SameSite=Strict/,
    );
    expect(hiddenCsrf(page.body)).toBe(token);
    return { cookie: `ers_patient_signin=${token}`, csrf: token };
  }

  const sessions = async (ubrn: string): Promise<number> =>
    (
      await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${schema}".patient_session WHERE ubrn = $1`, [
        ubrn,
      ])
    ).rows[0]?.n ?? -1;

  beforeAll(async () => {
    state = e2eState();
    expect(await platformUp(state, 60_000)).toBe(true);
    nats = await connect(natsEndpointOptions(state.natsUrl));
    const rpc = new NatsRpcClient(nats, { timeoutMs: 10_000, signer: gatewaySigner(state) });
    ers = new EReferralsClient(rpc);
    serviceId = String(8_000_000 + Math.floor(Math.random() * 900_000));
    await ers.publishService(
      {
        resource: {
          resourceType: 'HealthcareService',
          id: serviceId,
          active: true,
          providedBy: { identifier: { system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: PROVIDER } },
          name: `E2E Sign-in Cardiology ${serviceId}`,
          specialty: [{ coding: [{ system: '_baseUrl_/STU3/CodeSystem/SPECIALTY', code: 'CARDIOLOGY' }] }],
          type: [
            { coding: [{ system: 'https://fhir.nhs.uk/STU3/CodeSystem/eRS-ClinicType-1', code: 'HEART_FAILURE' }] },
          ],
          extension: [
            { url: 'urn:nhs-platform:ers:location-postcode', valueString: 'LS1 2TW' },
            { url: 'urn:nhs-platform:ers:indicative-wait-days', valueUnsignedInt: 28 },
          ],
        },
      },
      hospital(),
    );
    db = new Client({ connectionString: state.databaseUrl });
    await db.connect();
    schema = state.schemas['e-referrals'] ?? '';
    const patient = await new PdsClient(rpc).getPatient({ nhsNumber: PATIENT }, gp());
    const birthDate: unknown = patient.patient.birthDate;
    birthYear = typeof birthDate === 'string' ? birthDate.slice(0, 4) : '';
  });

  afterAll(async () => {
    await db?.end();
    await nats?.close();
  });

  it('refuses a sign-in post without the form’s CSRF token (403, nothing checked), and takes it with the token', async () => {
    const from = '127.0.0.21';
    const { ubrn, accessCode } = await newReferral();
    const details = { ubrn, accessCode, birthYear };
    const { cookie, csrf } = await startFrom(from);
    // Another site's form: the right details, but no token and no SameSite cookie.
    const crossSite = await exchange(state.gateway, from, 'POST', '/referrals/patient/sign-in', { form: details });
    // A script that has the cookie but guesses the token; and a token without its cookie.
    const guessed = await exchange(state.gateway, from, 'POST', '/referrals/patient/sign-in', {
      cookie,
      form: { ...details, csrf: 'A'.repeat(csrf.length) },
    });
    const noCookie = await exchange(state.gateway, from, 'POST', '/referrals/patient/sign-in', {
      form: { ...details, csrf },
    });
    for (const refused of [crossSite, guessed, noCookie]) {
      expect(refused.status).toBe(403);
      expect(refused.body).toContain('This page has expired');
      expect(cookies(refused)['ers_patient']).toBeUndefined();
    }
    expect(await sessions(ubrn)).toBe(0);
    // The codes were never tried: no attempt counted against the UBRN.
    const counted = await db.query(`SELECT 1 FROM "${schema}".patient_access_attempt WHERE ubrn = $1`, [ubrn]);
    expect(counted.rowCount).toBe(0);
    const signedIn = await exchange(state.gateway, from, 'POST', '/referrals/patient/sign-in', {
      cookie,
      form: { ...details, csrf },
    });
    expect(signedIn.status).toBe(303);
    expect(signedIn.headers['location']).toBe('/referrals/patient/referral');
    expect(cookies(signedIn)['ers_patient']).toMatch(/.{20,}/);
    expect(await sessions(ubrn)).toBe(1);
  });

  it('locks out dozens of wrong codes from one address (429) and the UBRN (locked) until the lockout expires', async () => {
    const from = '127.0.0.22';
    const { ubrn, accessCode } = await newReferral();
    const { cookie, csrf } = await startFrom(from);
    const wrong = { ubrn, accessCode: 'WRONG1', birthYear, csrf };
    const answers: PageAnswer[] = [];
    for (let attempt = 0; attempt < 30; attempt += 1) {
      answers.push(await exchange(state.gateway, from, 'POST', '/referrals/patient/sign-in', { cookie, form: wrong }));
    }
    const limited = answers.filter((answer) => answer.status === 429);
    const checked = answers.filter((answer) => answer.status === 303);
    expect(limited.length + checked.length).toBe(30);
    // The address's burst of 10 (and a token or two refilled while the test runs) reaches e-referrals, no more.
    expect(checked.length).toBeGreaterThanOrEqual(10);
    expect(checked.length).toBeLessThanOrEqual(14);
    for (const answer of limited) {
      expect(Number(answer.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(answer.body).toContain('Too many attempts from your connection');
    }
    // Of those, the first five were wrong codes; the UBRN is locked from the fifth on.
    expect(checked.slice(0, 4).map((answer) => answer.headers['location'])).toEqual(
      Array(4).fill('/referrals/patient?problem=wrong'),
    );
    expect(checked.slice(5).every((answer) => answer.headers['location'] === '/referrals/patient?problem=locked')).toBe(
      true,
    );
    // The right details now: refused at this address (429) and, from another address, by the UBRN's lockout.
    const right = { ubrn, accessCode, birthYear };
    const sameAddress = await exchange(state.gateway, from, 'POST', '/referrals/patient/sign-in', {
      cookie,
      form: { ...right, csrf },
    });
    expect(sameAddress.status).toBe(429);
    const elsewhere = '127.0.0.23';
    const other = await startFrom(elsewhere);
    const locked = await exchange(state.gateway, elsewhere, 'POST', '/referrals/patient/sign-in', {
      cookie: other.cookie,
      form: { ...right, csrf: other.csrf },
    });
    expect(locked.status).toBe(303);
    expect(locked.headers['location']).toBe('/referrals/patient?problem=locked');
    expect(await sessions(ubrn)).toBe(0);
    // The lockout ends (its 30 minutes moved into the past): the right details sign in.
    await db.query(
      `UPDATE "${schema}".patient_access_attempt SET locked_until = now() - interval '1 second' WHERE ubrn = $1`,
      [ubrn],
    );
    const after = await exchange(state.gateway, elsewhere, 'POST', '/referrals/patient/sign-in', {
      cookie: other.cookie,
      form: { ...right, csrf: other.csrf },
    });
    expect(after.status).toBe(303);
    expect(after.headers['location']).toBe('/referrals/patient/referral');
    expect(await sessions(ubrn)).toBe(1);
  });
});
