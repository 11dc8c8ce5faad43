import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Patient } from '@platform/contracts-pds';
import { generateNhsNumber, seededRandom } from '@platform/shared-identifiers';
import { referencePath, startTestJwks, type TestJwks } from '@platform/shared-testing';
import { accessToken, startGatewayUnderTest, type GatewayUnderTest } from '../gateway.test-harness';
import { startPdsUnderTest, type PdsUnderTest } from '../pds.test-harness';

const FHIR = '/personal-demographics/FHIR/R4';
const UK_CORE = 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-';
const random = seededRandom(1616);
const janeSmith = JSON.parse(
  readFileSync(referencePath('pds-ers', 'pds', 'responses', 'Patient_9000000009.json'), 'utf8'),
) as Patient;

interface Answer {
  status: number;
  text: string;
  body: Record<string, unknown>;
}

type Patch = { op: string; path: string; value?: unknown; from?: string };

const codeOf = (answer: Answer): unknown =>
  (answer.body['issue'] as { details?: { coding?: { code?: string }[] } }[] | undefined)?.[0]?.details?.coding?.[0]
    ?.code;

const mobile = { system: 'phone', use: 'mobile', value: '07700900123' };
const pharmacy = {
  url: `${UK_CORE}NominatedPharmacy`,
  valueReference: { identifier: { system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: 'FA565' } },
};

/**
 * Patient access (NHS login) updates of a patient's own record, through the built gateway with patients'
 * tokens, as the specification's patient-patch "Access Mode" section has them: address, emergency contact,
 * mobile and email telecom, pharmacy, place of birth, and communication language and interpreter; the
 * whole object for telecom and the extensions (except to remove); everything else 403 FORBIDDEN_UPDATE, and
 * another patient's record 403 ACCESS_DENIED. Jane Smith's published record (telecom: home phone 789, email
 * 790, other OC789; extensions: 0 nominated pharmacy ... 3 death notification, 4 communication, 5 contact
 * preference, 6 place of birth) is copied under a fresh NHS number for each test.
 */
describe('PDS patient access updates (a patient, their own record, the fields the specification allows)', () => {
  let under: PdsUnderTest;
  let jwks: TestJwks;
  let gateway: GatewayUnderTest;

  beforeAll(async () => {
    under = await startPdsUnderTest({ schemaPrefix: 'pds_ptupd', seed: 'none' });
    jwks = await startTestJwks();
    gateway = await startGatewayUnderTest({ natsUrl: under.natsUrl, jwks, sandbox: false });
  });

  afterAll(async () => {
    await gateway?.stop();
    await jwks?.stop();
    await under?.stop();
  });

  async function freshPatient(): Promise<string> {
    let nhsNumber = generateNhsNumber(random, '9');
    while (nhsNumber.startsWith('90000000')) nhsNumber = generateNhsNumber(random, '9');
    await under.db.query(`INSERT INTO "${under.schema}".patient (nhs_number, version, resource) VALUES ($1, 2, $2)`, [
      nhsNumber,
      JSON.stringify({ ...janeSmith, id: nhsNumber }),
    ]);
    return nhsNumber;
  }

  const patientToken = (nhsNumber: string): Promise<string> =>
    accessToken(jwks, { subject: `nhs-login-${nhsNumber}`, username: 'patient', roles: ['patient'], nhsNumber });

  async function patch(
    token: string,
    nhsNumber: string,
    patches: Patch[],
    headers: Record<string, string> = {},
  ): Promise<Answer> {
    const response = await fetch(`${gateway.base}${FHIR}/Patient/${nhsNumber}`, {
      method: 'PATCH',
      headers: {
        authorization: `Bearer ${token}`,
        'x-request-id': randomUUID(),
        'content-type': 'application/json-patch+json',
        'if-match': 'W/"2"',
        ...headers,
      },
      body: JSON.stringify({ patches }),
    });
    const text = await response.text();
    return { status: response.status, text, body: JSON.parse(text) as Record<string, unknown> };
  }

  /** What an update could change: the version, the stored resource, the events about this patient. */
  async function state(nhsNumber: string): Promise<unknown> {
    const { rows } = await under.db.query(
      `SELECT (SELECT version FROM "${under.schema}".patient WHERE nhs_number = $1) AS version,
              (SELECT resource FROM "${under.schema}".patient WHERE nhs_number = $1) AS resource,
              (SELECT count(*)::int FROM "${under.schema}".outbox WHERE payload::text LIKE '%' || $1 || '%') AS events`,
      [nhsNumber],
    );
    return rows[0];
  }

  it('updates what the specification allows a patient, on their own record: one new version and one event', async () => {
    const nhsNumber = await freshPatient();
    const token = await patientToken(nhsNumber);
    const answer = await patch(token, nhsNumber, [
      { op: 'add', path: '/telecom/-', value: mobile },
      { op: 'test', path: '/telecom/1/id', value: '790' },
      {
        op: 'replace',
        path: '/telecom/1',
        value: { id: '790', system: 'email', use: 'home', value: 'jane@example.com' },
      },
      {
        op: 'add',
        path: '/address/-',
        value: {
          use: 'billing',
          line: ['2 Mill Lane', 'Leeds'],
          postalCode: 'LS1 6AE',
          period: { start: '2026-01-01', end: '2026-12-31' },
        },
      },
      { op: 'test', path: '/address/0/id', value: '456' },
      { op: 'replace', path: '/address/0/line/0', value: '1 Trevelyan Square' },
      {
        op: 'add',
        path: '/contact/-',
        value: {
          relationship: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0131', code: 'C' }] }],
          telecom: [{ system: 'phone', value: '07700900456' }],
        },
      },
      { op: 'test', path: '/extension/0/url', value: `${UK_CORE}NominatedPharmacy` },
      { op: 'replace', path: '/extension/0', value: pharmacy },
      {
        op: 'replace',
        path: '/extension/4',
        value: {
          url: `${UK_CORE}NHSCommunication`,
          extension: [
            {
              url: 'language',
              valueCodeableConcept: {
                coding: [
                  { system: 'https://fhir.hl7.org.uk/CodeSystem/UKCore-HumanLanguage', code: 'de', display: 'German' },
                ],
              },
            },
            { url: 'interpreterRequired', valueBoolean: false },
          ],
        },
      },
      { op: 'test', path: '/extension/6/url', value: 'http://hl7.org/fhir/StructureDefinition/patient-birthPlace' },
      {
        op: 'replace',
        path: '/extension/6',
        value: {
          url: 'http://hl7.org/fhir/StructureDefinition/patient-birthPlace',
          valueAddress: { city: 'Leeds', country: 'GBR' },
        },
      },
    ]);
    expect(answer.status).toBe(200);
    const stored = (await state(nhsNumber)) as { version: number; resource: Patient; events: number };
    expect(stored.version).toBe(3);
    expect(stored.events).toBe(1);
    const telecom = stored.resource['telecom'] as { id?: string; system: string; use: string; value: string }[];
    expect(telecom.map((t) => [t.system, t.use, t.value])).toEqual([
      ['phone', 'home', '01632960587'],
      ['email', 'home', 'jane@example.com'],
      ['other', 'home', '01632960587'],
      ['phone', 'mobile', '07700900123'],
    ]);
    const extensions = stored.resource['extension'] as Record<string, unknown>[];
    expect(extensions[0]).toEqual(pharmacy);
    expect(JSON.stringify(extensions[4])).toContain('German');
    expect(extensions[6]).toMatchObject({ valueAddress: { city: 'Leeds' } });
    expect(stored.resource['gender']).toBe(janeSmith['gender']);
    expect((stored.resource['contact'] as unknown[]).length).toBe(2);
    // Removing is allowed too: a mobile they no longer use, after a test of it.
    const removed = await patch(
      token,
      nhsNumber,
      [
        { op: 'test', path: '/telecom/3/id', value: (telecom[3] as { id?: string }).id },
        { op: 'remove', path: '/telecom/3' },
      ],
      { 'if-match': 'W/"3"' },
    );
    expect(removed.status).toBe(200);
    expect(((await state(nhsNumber)) as { resource: Patient }).resource['telecom']).toHaveLength(3);
  });

  const refusals: [string, Patch[], number, string][] = [
    ['their gender', [{ op: 'replace', path: '/gender', value: 'male' }], 403, 'FORBIDDEN_UPDATE'],
    [
      'their name',
      [{ op: 'add', path: '/name/-', value: { use: 'nickname', family: 'Smith', given: ['Jo'] } }],
      403,
      'FORBIDDEN_UPDATE',
    ],
    ['their date of birth', [{ op: 'replace', path: '/birthDate', value: '2000-01-01' }], 403, 'FORBIDDEN_UPDATE'],
    [
      'their GP practice',
      [{ op: 'add', path: '/generalPractitioner/-', value: { type: 'Organization', identifier: { value: 'A83008' } } }],
      403,
      'FORBIDDEN_UPDATE',
    ],
    [
      'their date of death',
      [{ op: 'replace', path: '/deceasedDateTime', value: '2011-01-01T00:00:00+00:00' }],
      403,
      'FORBIDDEN_UPDATE',
    ],
    [
      'their managing organisation',
      [{ op: 'add', path: '/managingOrganization', value: { identifier: { value: 'A83008' } } }],
      403,
      'FORBIDDEN_UPDATE',
    ],
    ['their multiple birth order', [{ op: 'add', path: '/multipleBirthInteger', value: 2 }], 403, 'FORBIDDEN_UPDATE'],
    ['their NHS number', [{ op: 'replace', path: '/id', value: '9000000009' }], 403, 'FORBIDDEN_UPDATE'],
    [
      'a home phone number',
      [
        { op: 'test', path: '/telecom/0/id', value: '789' },
        { op: 'replace', path: '/telecom/0', value: { id: '789', system: 'phone', use: 'home', value: '01632960000' } },
      ],
      403,
      'FORBIDDEN_UPDATE',
    ],
    [
      'a new home phone number',
      [{ op: 'add', path: '/telecom/-', value: { system: 'phone', use: 'home', value: '01632960000' } }],
      403,
      'FORBIDDEN_UPDATE',
    ],
    [
      'an email turned into a work phone',
      [
        { op: 'test', path: '/telecom/1/id', value: '790' },
        { op: 'replace', path: '/telecom/1', value: { id: '790', system: 'phone', use: 'work', value: '01632960000' } },
      ],
      403,
      'FORBIDDEN_UPDATE',
    ],
    [
      'the removal of a home phone number',
      [
        { op: 'test', path: '/telecom/0/id', value: '789' },
        { op: 'remove', path: '/telecom/0' },
      ],
      403,
      'FORBIDDEN_UPDATE',
    ],
    [
      'a death notification',
      [
        { op: 'test', path: '/extension/3/url', value: `${UK_CORE}DeathNotificationStatus` },
        { op: 'remove', path: '/extension/3' },
      ],
      403,
      'FORBIDDEN_UPDATE',
    ],
    [
      'contact preferences',
      [
        { op: 'test', path: '/extension/5/url', value: `${UK_CORE}ContactPreference` },
        { op: 'remove', path: '/extension/5' },
      ],
      403,
      'FORBIDDEN_UPDATE',
    ],
    [
      'another extension added',
      [{ op: 'add', path: '/extension/-', value: { url: `${UK_CORE}DeathNotificationStatus`, extension: [] } }],
      403,
      'FORBIDDEN_UPDATE',
    ],
    [
      'a communication part other than language and interpreter',
      [
        {
          op: 'replace',
          path: '/extension/4',
          value: { url: `${UK_CORE}NHSCommunication`, extension: [{ url: 'preferred', valueBoolean: true }] },
        },
      ],
      403,
      'FORBIDDEN_UPDATE',
    ],
    [
      'a pharmacy extension turned into a death notification',
      [
        { op: 'test', path: '/extension/0/url', value: `${UK_CORE}NominatedPharmacy` },
        { op: 'replace', path: '/extension/0', value: { url: `${UK_CORE}DeathNotificationStatus`, extension: [] } },
      ],
      403,
      'FORBIDDEN_UPDATE',
    ],
    [
      'an allowed address with a gender change (all or nothing)',
      [
        { op: 'add', path: '/address/-', value: { use: 'billing', line: ['2 Mill Lane'] } },
        { op: 'replace', path: '/gender', value: 'male' },
      ],
      403,
      'FORBIDDEN_UPDATE',
    ],
    [
      'part of an email (telecom is written whole)',
      [
        { op: 'test', path: '/telecom/1/id', value: '790' },
        { op: 'replace', path: '/telecom/1/value', value: 'jane@example.com' },
      ],
      400,
      'INVALID_UPDATE',
    ],
    [
      'part of a pharmacy (written whole)',
      [{ op: 'replace', path: '/extension/0/valueReference/identifier/value', value: 'FA565' }],
      400,
      'INVALID_UPDATE',
    ],
    ['an unsupported operation', [{ op: 'move', path: '/telecom/3', value: mobile }], 400, 'INVALID_UPDATE'],
    ['a malformed path', [{ op: 'add', path: 'telecom', value: mobile }], 400, 'INVALID_UPDATE'],
    [
      'a move from a forbidden field',
      [{ op: 'move', from: '/gender', path: '/address/0/text' }],
      400,
      'INVALID_UPDATE',
    ],
    [
      'a copy from a forbidden field',
      [{ op: 'copy', from: '/identifier/0/value', path: '/address/0/text' }],
      400,
      'INVALID_UPDATE',
    ],
    [
      'a telecom that is not an object',
      [{ op: 'add', path: '/telecom/-', value: '07700900123' }],
      400,
      'INVALID_UPDATE',
    ],
    [
      'the address list replaced by an object',
      [{ op: 'replace', path: '/address', value: { line: ['1 Street'] } }],
      400,
      'INVALID_UPDATE',
    ],
    [
      'an emergency contact that is not an object',
      [{ op: 'add', path: '/contact/-', value: 42 }],
      400,
      'INVALID_UPDATE',
    ],
  ];

  it.each(refusals)(
    'refuses a patient %s (%#) with a 4xx and the right code, and changes nothing',
    async (_name, patches, status, code) => {
      const nhsNumber = await freshPatient();
      const before = await state(nhsNumber);
      const answer = await patch(await patientToken(nhsNumber), nhsNumber, patches);
      expect([answer.status, codeOf(answer)]).toEqual([status, code]);
      expect(await state(nhsNumber)).toEqual(before);
    },
  );

  it("refuses a patient another patient's record (403 ACCESS_DENIED, saying nothing of it) and a create, and changes nothing", async () => {
    const own = await freshPatient();
    const other = await freshPatient();
    const before = await state(other);
    const token = await patientToken(own);
    const answer = await patch(token, other, [{ op: 'add', path: '/telecom/-', value: mobile }]);
    expect([answer.status, codeOf(answer)]).toEqual([403, 'ACCESS_DENIED']);
    expect(answer.text).not.toMatch(/Smith|Trevelyan|01632960587/);
    const unknown = await patch(token, '9111231130', [{ op: 'add', path: '/telecom/-', value: mobile }]);
    expect([unknown.status, codeOf(unknown)]).toEqual([403, 'ACCESS_DENIED']);
    expect(await state(other)).toEqual(before);
    const create = await fetch(`${gateway.base}${FHIR}/Patient`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'x-request-id': randomUUID(), 'content-type': 'application/json' },
      body: JSON.stringify({ resourceType: 'Patient', name: [{ family: 'Selfmade' }], birthDate: '1990-01-01' }),
    });
    expect(create.status).toBe(403);
  });

  it('refuses a patient any update of their own restricted record (403 FORBIDDEN_UPDATE), so a test op cannot probe the locating details a restricted record hides, and changes nothing', async () => {
    const nhsNumber = await freshPatient();
    await under.db.query(`UPDATE "${under.schema}".patient SET restricted = true WHERE nhs_number = $1`, [nhsNumber]);
    const before = await state(nhsNumber);
    const token = await patientToken(nhsNumber);
    const postcode = (janeSmith['address'] as { postalCode?: string }[])[0]?.postalCode;
    expect(postcode).toEqual(expect.any(String));
    // The hidden postcode, right and wrong: the same answer either way, and no change.
    const probes = [postcode, 'ZZ99 9ZZ'].map((value) => [
      { op: 'test', path: '/address/0/postalCode', value },
      { op: 'add', path: '/telecom/-', value: mobile },
    ]);
    for (const patches of probes) {
      const answer = await patch(token, nhsNumber, patches);
      expect([answer.status, codeOf(answer)]).toEqual([403, 'FORBIDDEN_UPDATE']);
      expect(answer.text).not.toContain(String(postcode));
    }
    expect(await state(nhsNumber)).toEqual(before);
  });

  it.each([['pharmacist'], ['provider-clinician']])(
    'holds a patient whose token also carries %s (a care role that may read but not update) to patient access: not another record, not a forbidden field',
    async (role) => {
      const own = await freshPatient();
      const other = await freshPatient();
      const [ownBefore, otherBefore] = [await state(own), await state(other)];
      const token = await accessToken(jwks, {
        subject: `nhs-login-${own}`,
        username: 'patient',
        roles: [role, 'patient'],
        organisations: ['FA565'],
        nhsNumber: own,
      });
      const headers = { 'nhsd-end-user-organisation-ods': 'FA565' };
      const elsewhere = await patch(token, other, [{ op: 'replace', path: '/gender', value: 'male' }], headers);
      expect([elsewhere.status, codeOf(elsewhere)]).toEqual([403, 'ACCESS_DENIED']);
      const forbidden = await patch(token, own, [{ op: 'replace', path: '/gender', value: 'male' }], headers);
      expect([forbidden.status, codeOf(forbidden)]).toEqual([403, 'FORBIDDEN_UPDATE']);
      expect(await state(other)).toEqual(otherBefore);
      expect(await state(own)).toEqual(ownBefore);
      const allowed = await patch(token, own, [{ op: 'add', path: '/telecom/-', value: mobile }], headers);
      expect(allowed.status).toBe(200);
    },
  );

  it('applies 30 simultaneous patient updates of one version once: one 200, 29 RESOURCE_VERSION_MISMATCH, one event', async () => {
    const nhsNumber = await freshPatient();
    const token = await patientToken(nhsNumber);
    const answers = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        patch(token, nhsNumber, [
          { op: 'add', path: '/telecom/-', value: { ...mobile, value: `077009${String(i).padStart(5, '0')}` } },
        ]),
      ),
    );
    const tally: Record<string, number> = {};
    for (const answer of answers) {
      const key = answer.status === 200 ? '200' : `${answer.status} ${String(codeOf(answer))}`;
      tally[key] = (tally[key] ?? 0) + 1;
    }
    expect(tally).toEqual({ '200': 1, '409 RESOURCE_VERSION_MISMATCH': 29 });
    const stored = (await state(nhsNumber)) as { version: number; resource: Patient; events: number };
    expect(stored.version).toBe(3);
    expect(stored.events).toBe(1);
    expect(stored.resource['telecom']).toHaveLength(4);
  });

  it('answers 30 simultaneous retries of one patient update (one X-Request-ID) with the first answer, applied once', async () => {
    const nhsNumber = await freshPatient();
    const token = await patientToken(nhsNumber);
    const requestId = randomUUID();
    const answers = await Promise.all(
      Array.from({ length: 30 }, () =>
        patch(token, nhsNumber, [{ op: 'add', path: '/telecom/-', value: mobile }], { 'x-request-id': requestId }),
      ),
    );
    expect(new Set(answers.map((answer) => `${answer.status} ${answer.text}`)).size).toBe(1);
    expect(answers[0]?.status).toBe(200);
    const stored = (await state(nhsNumber)) as { version: number; resource: Patient; events: number };
    expect([stored.version, stored.events]).toEqual([3, 1]);
    expect(stored.resource['telecom']).toHaveLength(4);
  });
});
