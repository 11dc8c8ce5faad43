import 'reflect-metadata';
import { randomBytes, randomUUID } from 'node:crypto';
import { connect, type NatsConnection } from 'nats';
import { EReferralsClient, type FhirResource, shortlistParameter } from '@platform/contracts-ers';
import { NatsRpcClient, natsEndpointOptions, type CallContext } from '@platform/shared-nats';
import { allAtOnce, outcomes, tally } from '@platform/shared-testing';
import { e2eState, gatewaySigner, passwordToken, platformUp, type E2eState } from './support/platform';

const PATIENT = '9000000114';
const MB = 1024 * 1024;

const gp = (): CallContext => ({
  requestId: randomUUID(),
  caller: { id: 'e2e-gp', username: 'clinician', roles: ['clinician'], organisation: 'A83008' },
});
const hospital = (): CallContext => ({
  requestId: randomUUID(),
  caller: { id: 'e2e-hospital', username: 'provider-clinician', roles: ['provider-clinician'], organisation: 'R69' },
});

const pdf = (bytes: number): Buffer => Buffer.concat([Buffer.from('%PDF-1.7\n'), randomBytes(bytes - 9)]);

/**
 * e-RS letters and attachments through the gateway, as a GP system sends them: A020 uploads (a 4 MB PDF
 * through the object store, the NHS codes for a blocked type and a file over 5 MB), A006 reads, A012 attaches
 * them to the referral with If-Match, and twenty uploads at once.
 */
describe('e-RS attachments through the gateway (A020, A006, A012)', () => {
  let state: E2eState;
  let nats: NatsConnection;
  let token: string;
  let ubrn: string;

  const upload = (body: Buffer, headers: Record<string, string> = {}): Promise<Response> =>
    fetch(`${state.gateway}/referrals/FHIR/STU3/Binary`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'x-request-id': randomUUID(),
        'nhsd-ers-business-function': 'REFERRING_CLINICIAN',
        'content-type': 'application/pdf',
        'nhsd-ers-file-name': 'letter.pdf',
        'nhsd-ers-referral-id': ubrn,
        ...headers,
      },
      body,
    });

  const code = async (answer: Response): Promise<string | undefined> => {
    const outcome = (await answer.json()) as { issue?: { details?: { coding?: { code?: string }[] } }[] };
    return outcome.issue?.[0]?.details?.coding?.[0]?.code;
  };

  beforeAll(async () => {
    state = e2eState();
    expect(await platformUp(state, 60_000)).toBe(true);
    nats = await connect(natsEndpointOptions(state.natsUrl));
    const ers = new EReferralsClient(new NatsRpcClient(nats, { timeoutMs: 10_000, signer: gatewaySigner(state) }));
    const serviceId = String(8_000_000 + Math.floor(Math.random() * 900_000));
    await ers.publishService(
      {
        resource: {
          resourceType: 'HealthcareService',
          id: serviceId,
          active: true,
          providedBy: { identifier: { system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: 'R69' } },
          name: `E2E Attachments ${serviceId}`,
          specialty: [{ coding: [{ system: '_baseUrl_/STU3/CodeSystem/SPECIALTY', code: 'CARDIOLOGY' }] }],
          type: [
            { coding: [{ system: 'https://fhir.nhs.uk/STU3/CodeSystem/eRS-ClinicType-1', code: 'HEART_FAILURE' }] },
          ],
          characteristic: [
            { coding: [{ system: 'https://fhir.nhs.uk/CodeSystem/eRS-RequestFlowType', code: 'BOOKABLE' }] },
            { coding: [{ system: 'https://fhir.nhs.uk/CodeSystem/eRS-BookableType', code: 'DIRECTLY_BOOKABLE' }] },
          ],
          extension: [
            { url: 'urn:nhs-platform:ers:location-postcode', valueString: 'LS1 2TW' },
            { url: 'urn:nhs-platform:ers:indicative-wait-days', valueUnsignedInt: 28 },
          ],
        },
      },
      hospital(),
    );
    const referral: FhirResource = {
      resourceType: 'Parameters',
      parameter: [
        { name: 'patient', valueIdentifier: { system: 'http://fhir.nhs.net/Id/nhs-number', value: PATIENT } },
        shortlistParameter([serviceId], {
          priority: 'ROUTINE',
          specialty: 'CARDIOLOGY',
          ageAndGenderAppropriate: false,
        }),
      ],
    };
    ubrn = (await ers.createReferral({ resource: referral, businessFunction: 'REFERRING_CLINICIAN' }, gp())).resource[
      'id'
    ] as string;
    token = await passwordToken(state.issuer, 'clinician');
  }, 60_000);

  afterAll(async () => {
    await nats?.close();
  });

  it('uploads a 4 MB PDF, reads it back, and attaches it to the referral with If-Match', async () => {
    const file = pdf(4 * MB);
    const created = await upload(file);
    expect(created.status).toBe(201);
    const location = created.headers.get('location') ?? '';
    expect(location).toMatch(/\/referrals\/FHIR\/STU3\/Binary\/[0-9a-f-]{36}$/);
    const id = location.split('/').pop() ?? '';

    const read = await fetch(`${state.gateway}/referrals/FHIR/STU3/Binary/${id}`, {
      headers: {
        authorization: `Bearer ${token}`,
        'x-request-id': randomUUID(),
        'nhsd-ers-business-function': 'REFERRING_CLINICIAN',
      },
    });
    expect(read.status).toBe(200);
    expect(read.headers.get('content-type')).toBe('application/pdf');
    expect(Buffer.from(await read.arrayBuffer()).equals(file)).toBe(true);
    // A042 answers 307 to a temporary location of the content, as the NHS does; following it (same origin, the
    // same credentials) reads the file.
    const r4Headers = {
      authorization: `Bearer ${token}`,
      'x-request-id': randomUUID(),
      'nhsd-ers-business-function': 'REFERRING_CLINICIAN',
    };
    const redirect = await fetch(`${state.gateway}/referrals/FHIR/R4/Binary/${id}`, {
      headers: r4Headers,
      redirect: 'manual',
    });
    expect(redirect.status).toBe(307);
    const contentLocation = redirect.headers.get('location') ?? '';
    expect(contentLocation).toMatch(
      new RegExp(`/referrals/FHIR/R4/Binary/${id}/\\$content\\?expires=[0-9]+&signature=[A-Za-z0-9_-]{43}$`),
    );
    expect(redirect.headers.get('cache-control')).toBe('no-store');
    const content = await fetch(
      `${state.gateway}${new URL(contentLocation).pathname}${new URL(contentLocation).search}`,
      {
        headers: r4Headers,
      },
    );
    expect(content.status).toBe(200);
    expect(Buffer.from(await content.arrayBuffer()).equals(file)).toBe(true);
    // The location alone is nothing: without the caller's token 401, past its expiry 404.
    const bare = await fetch(`${state.gateway}${new URL(contentLocation).pathname}${new URL(contentLocation).search}`);
    expect(bare.status).toBe(401);
    const expired = await fetch(`${state.gateway}/referrals/FHIR/R4/Binary/${id}/$content?expires=1000`, {
      headers: r4Headers,
    });
    expect(expired.status).toBe(404);
    // The attacker: the location is signed (id, expiry, caller), so a stretched expiry, a forged or missing
    // signature, or the location of one attachment used for another is 404 REC_NOT_FOUND, as the NHS answers.
    const signed = new URL(contentLocation);
    const expires = Number(signed.searchParams.get('expires'));
    const signature = signed.searchParams.get('signature') ?? '';
    const attempt = (path: string, query: string): Promise<Response> =>
      fetch(`${state.gateway}${path}?${query}`, { headers: { ...r4Headers, 'x-request-id': randomUUID() } });
    const tampered = [
      await attempt(signed.pathname, `expires=${expires + 30}&signature=${signature}`),
      await attempt(signed.pathname, `expires=${expires}&signature=${signature.slice(1)}A`),
      await attempt(signed.pathname, `expires=${expires}`),
      await attempt(signed.pathname.replace(id, randomUUID()), `expires=${expires}&signature=${signature}`),
    ];
    // Another user of the same practice, with their own valid token, cannot use this caller's location either.
    const colleague = await passwordToken(state.issuer, 'practice-admin');
    tampered.push(
      await fetch(`${state.gateway}${signed.pathname}${signed.search}`, {
        headers: {
          authorization: `Bearer ${colleague}`,
          'x-request-id': randomUUID(),
          'nhsd-ers-business-function': 'REFERRING_CLINICIAN_ADMIN',
        },
      }),
    );
    for (const answer of tampered) {
      expect(answer.status).toBe(404);
      expect(await code(answer)).toBe('REC_NOT_FOUND');
    }

    const maintain = (ifMatch: string): Promise<Response> =>
      fetch(`${state.gateway}/referrals/FHIR/STU3/ReferralRequest/${ubrn}/$ers.maintainReferralLetter`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          'x-request-id': randomUUID(),
          'nhsd-ers-business-function': 'REFERRING_CLINICIAN',
          'content-type': 'application/fhir+json',
          'if-match': ifMatch,
        },
        body: JSON.stringify({
          resourceType: 'Parameters',
          parameter: [
            {
              name: 'referralLetterFile',
              resource: {
                resourceType: 'DocumentReference',
                status: 'current',
                indexed: new Date().toISOString(),
                content: [{ attachment: { url: `Binary/${id}` } }],
              },
            },
          ],
        }),
      });
    const attached = await maintain('W/"1"');
    expect(attached.status).toBe(200);
    expect(attached.headers.get('etag')).toBe('W/"2"');
    const stale = await maintain('W/"1"');
    expect(stale.status).toBe(409);
  });

  it('refuses a blocked type (415), an empty file or one over 5 MB (422 FILE_SIZE_ERROR) and a body past the route limit (413)', async () => {
    const blocked = await upload(Buffer.from('MZ\x90\x00program'), {
      'content-type': 'application/x-msdownload',
      'nhsd-ers-file-name': 'tool.exe',
    });
    expect(blocked.status).toBe(415);
    const disguised = await upload(Buffer.from('MZ\x90\x00program'));
    expect(disguised.status).toBe(415);
    const big = await upload(pdf(5 * MB + 1));
    expect(big.status).toBe(422);
    expect(await code(big)).toBe('FILE_SIZE_ERROR');
    const empty = await upload(Buffer.alloc(0));
    expect(empty.status).toBe(422);
    expect(await code(empty)).toBe('FILE_SIZE_ERROR');
    const huge = await upload(pdf(7 * MB)).catch(() => undefined);
    // Refused from its Content-Length before the body is read (the connection may close while it is sent).
    if (huge) expect(huge.status).toBe(413);
  });

  it('takes 20 uploads at once, each stored once', async () => {
    const results = outcomes(await allAtOnce(20, 25_000, async () => (await upload(pdf(64 * 1024))).status));
    expect(tally(results)).toEqual({ '201': 20 });
  });
});
