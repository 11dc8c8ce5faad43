import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { patientSearchsetProblems } from '@platform/contracts-pds';
import { e2eState, passwordToken, type E2eState } from './support/platform';

const SEARCH_PATH = '/personal-demographics/FHIR/R4/Patient';

interface Outcome {
  resourceType: string;
  issue: { severity: string; code: string; details?: { coding: { code: string }[] }; diagnostics?: string }[];
}

interface Bundle {
  total: number;
  entry?: { fullUrl: string; search: { score: number }; resource: Record<string, unknown> & { id: string } }[];
}

describe('patient search through the gateway', () => {
  let state: E2eState;
  let clinician: string;

  async function search(
    query: string,
    options: { token?: string; requestId?: string } = {},
  ): Promise<{ status: number; headers: Headers; body: unknown; text: string }> {
    const requestId = options.requestId ?? randomUUID();
    const response = await fetch(`${state.gateway}${SEARCH_PATH}${query ? `?${query}` : ''}`, {
      headers: { authorization: `Bearer ${options.token ?? clinician}`, 'x-request-id': requestId },
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: JSON.parse(text) as unknown, text };
  }

  function codeOf(body: unknown): string | undefined {
    const outcome = body as Outcome;
    expect(outcome.resourceType).toBe('OperationOutcome');
    return outcome.issue[0]?.details?.coding[0]?.code;
  }

  beforeAll(async () => {
    state = e2eState();
    clinician = await passwordToken(state.issuer, 'clinician');
  });

  it('finds Jane Smith by family name and birth date: a searchset Bundle with her fullUrl and score 1', async () => {
    const requestId = randomUUID();
    const response = await search('family=Smith&gender=female&birthdate=eq2010-10-22', { requestId });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/fhir\+json/);
    expect(response.headers.get('x-request-id')).toBe(requestId);
    expect(patientSearchsetProblems(response.body)).toEqual([]);
    const bundle = response.body as Bundle;
    expect(bundle.total).toBe(1);
    expect(bundle.entry?.[0]).toMatchObject({
      fullUrl: `${state.gateway}${SEARCH_PATH}/9000000009`,
      search: { score: 1 },
      resource: { resourceType: 'Patient', id: '9000000009' },
    });
    const db = new Client({ connectionString: state.databaseUrl });
    await db.connect();
    try {
      const rows = await db.query(
        `SELECT nhs_number, action FROM "${state.schemas.pds}".read_audit WHERE request_id = $1`,
        [requestId],
      );
      expect(rows.rows).toEqual([{ nhs_number: '9000000009', action: 'patient.search' }]);
    } finally {
      await db.end();
    }
  });

  it('finds Smith and Smythe by sound with a fuzzy search, the restricted patient redacted', async () => {
    const response = await search('family=Smyth&given=Jane&birthdate=eq2010-10-22&_fuzzy-match=true');
    expect(response.status).toBe(200);
    expect(patientSearchsetProblems(response.body)).toEqual([]);
    const entries = (response.body as Bundle).entry ?? [];
    // Jane Smith, Jayne Smyth, Janet Smythe, and John (a homophone of Jane) Paul Smith, all born 2010-10-22.
    expect(entries.map((entry) => entry.resource.id).sort()).toEqual([
      '9000000009',
      '9000000017',
      '9000000025',
      '9000000106',
    ]);
    expect(entries.every((entry) => entry.search.score < 1)).toBe(true);
    expect(response.text).not.toMatch(/Hidden Lane|FCG72/);
  });

  it("answers the NHS's published fuzzy multi-match query with its twenty Smiths, best first", async () => {
    const response = await search(
      'family=Smythe&given=Mat&gender=male&birthdate=ge2000-05-03&address-postalcode=DN17%204AA&_fuzzy-match=true',
    );
    expect(response.status).toBe(200);
    expect(patientSearchsetProblems(response.body)).toEqual([]);
    const bundle = response.body as Bundle;
    expect(bundle.total).toBe(20);
    const scores = (bundle.entry ?? []).map((entry) => entry.search.score);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
    expect((bundle.entry ?? []).every((entry) => entry.resource['birthDate'] === '2000-05-05')).toBe(true);
  });

  it('never returns a restricted patient to a search that names a postcode', async () => {
    const named = await search('family=Smythe&birthdate=eq2010-10-22');
    expect((named.body as Bundle).entry?.map((entry) => entry.resource.id)).toEqual(['9000000025']);
    const withPostcode = await search('family=Smythe&birthdate=eq2010-10-22&address-postalcode=LS1%206AE');
    expect(withPostcode.status).toBe(200);
    expect(withPostcode.body).toMatchObject({ resourceType: 'Bundle', total: 0 });
    expect(withPostcode.body).not.toHaveProperty('entry');
  });

  it('answers more matches than _max-results with HTTP 200 and an informational TOO_MANY_MATCHES', async () => {
    const response = await search('family=Sm%2A&gender=female&birthdate=eq2010-10-22&_max-results=1');
    expect(response.status).toBe(200);
    expect(codeOf(response.body)).toBe('TOO_MANY_MATCHES');
    expect((response.body as Outcome).issue[0]).toMatchObject({ severity: 'information', code: 'multiple-matches' });
  });

  it.each([
    ['no parameters', '', 'UNSUPPORTED_SERVICE'],
    ['an unknown parameter', 'family=Smith&birthdate=eq2010-10-22&colour=blue', 'ADDITIONAL_PROPERTIES'],
    ['a bad date', 'family=Smith&birthdate=2010-22-10', 'INVALID_VALUE'],
    ['no birth date', 'family=Smith', 'MISSING_VALUE'],
    ['no family name', 'birthdate=eq2010-10-22', 'INVALID_SEARCH_DATA'],
    ['a wildcard in the first two characters', 'family=S%2A&birthdate=eq2010-10-22', 'INVALID_SEARCH_DATA'],
    ['_max-results out of range', 'family=Smith&birthdate=eq2010-10-22&_max-results=51', 'INVALID_VALUE'],
  ])('answers %s with 400 and the NHS code', async (_case, query, code) => {
    const response = await search(query);
    expect(response.status).toBe(400);
    expect(codeOf(response.body)).toBe(code);
    expect((response.body as Outcome).issue[0]?.diagnostics).toBeTruthy();
  });

  it('refuses a role that may not read patients with 403', async () => {
    const response = await search('family=Smith&birthdate=eq2010-10-22', {
      token: await passwordToken(state.issuer, 'registry-admin'),
    });
    expect(response.status).toBe(403);
    expect(codeOf(response.body)).toBe('ACCESS_DENIED');
  });
});
