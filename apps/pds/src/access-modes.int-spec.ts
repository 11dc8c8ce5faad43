import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { startTestJwks, type TestJwks } from '@platform/shared-testing';
import { accessToken, startGatewayUnderTest, type GatewayUnderTest } from './gateway.test-harness';
import { startPdsUnderTest, type PdsUnderTest } from './pds.test-harness';

const FHIR = '/personal-demographics/FHIR/R4';

interface Answer {
  status: number;
  text: string;
  body: Record<string, unknown>;
}

const codeOf = (answer: Answer): unknown =>
  (answer.body['issue'] as { details?: { coding?: { code?: string }[] } }[] | undefined)?.[0]?.details?.coding?.[0]
    ?.code;

/**
 * The NHS PDS access modes through the gateway (not in sandbox mode), with tokens as the identity provider
 * issues them: an application's own token (client credentials, no user) gets a single unique match from a
 * search and never a list, and cannot write; a patient's token (NHS login, `nhs_number`) reaches only that
 * patient's record. Each played as an attacker trying for more.
 */
describe('PDS access modes: application-restricted and patient access', () => {
  let under: PdsUnderTest;
  let jwks: TestJwks;
  let gateway: GatewayUnderTest;
  let application: string;
  let patient: string;
  let patientWithoutNumber: string;
  let clinician: string;

  beforeAll(async () => {
    under = await startPdsUnderTest({ schemaPrefix: 'pds_modes', seed: 'sandbox' });
    jwks = await startTestJwks();
    gateway = await startGatewayUnderTest({ natsUrl: under.natsUrl, jwks, sandbox: false });
    application = await accessToken(jwks, {
      subject: 'c9e4a1b7-2f38-4d6a-8e05-7b3c9d1f2a64',
      username: 'service-account-gp-system',
      clientId: 'gp-system',
      application: true,
      roles: ['clinician'],
      organisations: ['A83008'],
    });
    patient = await accessToken(jwks, {
      subject: 'patient-1',
      username: 'patient',
      roles: ['patient'],
      nhsNumber: '9000000033',
    });
    patientWithoutNumber = await accessToken(jwks, { subject: 'patient-2', username: 'patient2', roles: ['patient'] });
    clinician = await accessToken(jwks, {
      subject: 'gp-user',
      username: 'clinician',
      roles: ['clinician'],
      organisations: ['A83008'],
    });
  });

  afterAll(async () => {
    await gateway?.stop();
    await jwks?.stop();
    await under?.stop();
  });

  async function call(
    token: string,
    target: string,
    options: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
  ): Promise<Answer> {
    const response = await fetch(`${gateway.base}${FHIR}${target}`, {
      method: options.method ?? 'GET',
      headers: {
        authorization: `Bearer ${token}`,
        'x-request-id': randomUUID(),
        ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...options.headers,
      },
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
    const text = await response.text();
    return { status: response.status, text, body: JSON.parse(text) as Record<string, unknown> };
  }

  const janeSmithVersion = async (): Promise<number> =>
    (
      await under.db.query<{ version: number }>(
        `SELECT version FROM "${under.schema}".patient WHERE nhs_number = '9000000009'`,
      )
    ).rows[0]?.version ?? 0;

  describe('application-restricted access', () => {
    it('gets a single unique match from a search', async () => {
      const unique = await call(application, '/Patient?family=Smith&gender=female&birthdate=eq2010-10-22');
      expect(unique.status).toBe(200);
      expect(unique.body).toMatchObject({
        resourceType: 'Bundle',
        total: 1,
        entry: [{ resource: { id: '9000000009' } }],
      });
      const limited = await call(
        application,
        '/Patient?family=Smith&gender=female&birthdate=eq2010-10-22&_max-results=1',
      );
      expect(limited.body).toMatchObject({ total: 1 });
    });

    it('never a list: a search that several patients match answers TOO_MANY_MATCHES and names nobody', async () => {
      // Three patients match for a user (Jane Smith, Jayne Smyth, Janet Smythe).
      const asUser = await call(clinician, '/Patient?family=Sm*&gender=female&birthdate=eq2010-10-22');
      expect(asUser.body['total']).toBe(3);
      const before = await under.db.query(`SELECT count(*)::int AS n FROM "${under.schema}".read_audit`);
      const answer = await call(application, '/Patient?family=Sm*&gender=female&birthdate=eq2010-10-22');
      expect(answer.status).toBe(200);
      expect(answer.body['resourceType']).toBe('OperationOutcome');
      expect(codeOf(answer)).toBe('TOO_MANY_MATCHES');
      expect(answer.text).not.toMatch(/900000000|900000001|900000002|Smith|Smyth/);
      const after = await under.db.query(`SELECT count(*)::int AS n FROM "${under.schema}".read_audit`);
      expect(after.rows).toEqual(before.rows);
    });

    it.each(['2', '50', '1&_max-results=50', 'abc'])(
      'is refused a list however it asks: _max-results=%s is 403 INVALID_VALUE',
      async (limit) => {
        const answer = await call(
          application,
          `/Patient?family=Sm*&gender=female&birthdate=eq2010-10-22&_max-results=${limit}`,
        );
        expect(answer.status).toBe(403);
        expect(codeOf(answer)).toBe('INVALID_VALUE');
        expect(answer.text).not.toMatch(/Smith/);
      },
    );

    it("reads a patient's details and related people", async () => {
      expect((await call(application, '/Patient/9000000009')).status).toBe(200);
      expect((await call(application, '/Patient/9000000009/RelatedPerson')).status).toBe(200);
    });

    it('cannot update, create or touch EHIC details, and nothing changes', async () => {
      const version = await janeSmithVersion();
      const update = await call(application, '/Patient/9000000009', {
        method: 'PATCH',
        body: { patches: [{ op: 'replace', path: '/gender', value: 'male' }] },
        headers: { 'content-type': 'application/json-patch+json', 'if-match': `W/"${version}"` },
      });
      expect(update.status).toBe(403);
      expect(codeOf(update)).toBe('ACCESS_DENIED');
      const create = await call(application, '/Patient', {
        method: 'POST',
        body: {
          resourceType: 'Patient',
          name: [{ use: 'usual', family: 'Appson', given: ['Ada'] }],
          gender: 'female',
          birthDate: '1990-01-01',
        },
      });
      expect(create.status).toBe(403);
      const coverage = await call(application, '/Coverage?subscriber:identifier=9000000009');
      expect(coverage.status).toBe(403);
      const card = await call(application, '/Coverage', {
        method: 'POST',
        body: { resourceType: 'Coverage' },
        headers: { 'if-match': `W/"${version}"` },
      });
      expect(card.status).toBe(403);
      expect(await janeSmithVersion()).toBe(version);
      const appsons = await under.db.query(
        `SELECT count(*)::int AS n FROM "${under.schema}".patient WHERE resource::text LIKE '%Appson%'`,
      );
      expect(appsons.rows[0]?.n).toBe(0);
    });
  });

  describe('EHIC details (Coverage): patient access only, as the specification says', () => {
    it.each(['clinician', 'practice-admin', 'pharmacist'])(
      'refuses a %s (healthcare worker access) a card read or write with 403 ACCESS_DENIED, and nothing changes',
      async (role) => {
        const worker = await accessToken(jwks, {
          subject: `worker-${role}`,
          username: role,
          roles: [role],
          organisations: ['A83008'],
        });
        const version = await janeSmithVersion();
        const cards = async (): Promise<unknown[]> =>
          (
            await under.db.query<{ resource: unknown }>(
              `SELECT resource FROM "${under.schema}".patient_coverage ORDER BY nhs_number`,
            )
          ).rows;
        const before = await cards();
        const read = await call(worker, '/Coverage?subscriber:identifier=9000000009');
        expect([read.status, codeOf(read)]).toEqual([403, 'ACCESS_DENIED']);
        expect(read.text).not.toMatch(/29401395498043123948/);
        const write = await call(worker, '/Coverage', {
          method: 'POST',
          body: {
            resourceType: 'Coverage',
            status: 'active',
            subscriber: { identifier: { system: 'https://fhir.nhs.uk/Id/nhs-number', value: '9000000009' } },
          },
          headers: { 'if-match': `W/"${version}"` },
        });
        expect([write.status, codeOf(write)]).toEqual([403, 'ACCESS_DENIED']);
        expect(await janeSmithVersion()).toBe(version);
        expect(await cards()).toEqual(before);
      },
    );
  });

  describe('patient access', () => {
    it('reads their own record, related people and EHIC details', async () => {
      expect((await call(patient, '/Patient/9000000033')).body).toMatchObject({ id: '9000000033' });
      expect((await call(patient, '/Patient/9000000033/RelatedPerson')).status).toBe(200);
      expect((await call(patient, '/Coverage?subscriber:identifier=9000000033')).body).toMatchObject({ total: 0 });
    });

    it.each([
      ['another patient', '/Patient/9000000009'],
      ['a restricted patient', '/Patient/9000000025'],
      ["another patient's related people", '/Patient/9000000009/RelatedPerson'],
      ["another patient's EHIC card", '/Coverage?subscriber:identifier=9000000009'],
      ['an NHS number that does not exist', '/Patient/9111231130'],
    ])('is refused %s with 403, saying nothing of it', async (_name, target) => {
      const answer = await call(patient, target);
      expect(answer.status).toBe(403);
      expect(codeOf(answer)).toBe('ACCESS_DENIED');
      expect(answer.text).not.toMatch(/Smith|Smythe|Trevelyan|29401395498043123948/);
    });

    it('cannot search or create, nor update a field patient access does not have (apps/pds/src/update/patient-updates.int-spec.ts has the rest)', async () => {
      expect((await call(patient, '/Patient?family=Smith&birthdate=eq2010-10-22')).status).toBe(403);
      const update = await call(patient, '/Patient/9000000033', {
        method: 'PATCH',
        body: { patches: [{ op: 'add', path: '/gender', value: 'female' }] },
        headers: { 'content-type': 'application/json-patch+json', 'if-match': 'W/"2"' },
      });
      expect([update.status, codeOf(update)]).toEqual([403, 'FORBIDDEN_UPDATE']);
      expect((await call(patient, '/Patient', { method: 'POST', body: { resourceType: 'Patient' } })).status).toBe(403);
    });

    it('a patient token without an NHS number reaches no record at all', async () => {
      for (const target of ['/Patient/9000000033', '/Coverage?subscriber:identifier=9000000033']) {
        expect((await call(patientWithoutNumber, target)).status).toBe(403);
      }
    });
  });
});
