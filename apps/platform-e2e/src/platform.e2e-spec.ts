import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import { clientToken, currentPids, e2eState, passwordToken, platformUp, type E2eState } from './support/platform';

const PATIENT_PATH = '/personal-demographics/FHIR/R4/Patient';

interface Outcome {
  resourceType: string;
  issue: {
    severity: string;
    code: string;
    details?: { coding: { code: string; system: string }[] };
    diagnostics?: string;
  }[];
}

function outcomeCode(body: unknown): string | undefined {
  const outcome = body as Outcome;
  expect(outcome.resourceType).toBe('OperationOutcome');
  return outcome.issue[0]?.details?.coding[0]?.code;
}

describe('the platform through the gateway', () => {
  let state: E2eState;
  let clinician: string;

  async function call(
    url: string,
    options: {
      token?: string;
      requestId?: string | null;
      headers?: Record<string, string>;
      method?: string;
      body?: string;
    } = {},
  ): Promise<{ status: number; headers: Headers; body: unknown; text: string }> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token) headers['authorization'] = `Bearer ${options.token}`;
    if (options.requestId !== null) headers['x-request-id'] = options.requestId ?? randomUUID();
    const response = await fetch(`${state.gateway}${url}`, {
      method: options.method ?? 'GET',
      headers,
      body: options.body,
    });
    const text = await response.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    return { status: response.status, headers: response.headers, body, text };
  }

  beforeAll(async () => {
    state = e2eState();
    clinician = await passwordToken(state.issuer, 'clinician');
  });

  describe('reading a patient', () => {
    it('gives a clinician the record with its ETag, echoing the request and correlation IDs', async () => {
      const requestId = randomUUID();
      const response = await call(`${PATIENT_PATH}/9000000009`, {
        token: clinician,
        requestId,
        headers: { 'x-correlation-id': 'corr-e2e-1' },
      });
      expect(response.status).toBe(200);
      expect(response.headers.get('etag')).toBe('W/"2"');
      expect(response.headers.get('content-type')).toMatch(/^application\/fhir\+json/);
      expect(response.headers.get('x-request-id')).toBe(requestId);
      expect(response.headers.get('x-correlation-id')).toBe('corr-e2e-1');
      expect(response.body).toMatchObject({ resourceType: 'Patient', id: '9000000009', meta: { versionId: '2' } });
    });

    it('writes one audit record per read: who, which organisation, which patient, when', async () => {
      const requestId = randomUUID();
      expect((await call(`${PATIENT_PATH}/9000000033`, { token: clinician, requestId })).status).toBe(200);
      const db = new Client({ connectionString: state.databaseUrl });
      await db.connect();
      try {
        const rows = await db.query(`SELECT * FROM "${state.schemas.pds}".read_audit WHERE request_id = $1`, [
          requestId,
        ]);
        expect(rows.rows).toEqual([
          expect.objectContaining({
            nhs_number: '9000000033',
            actor_username: 'clinician',
            organisation: 'A83008',
            roles: ['clinician'],
          }),
        ]);
        expect(Date.now() - new Date(rows.rows[0].at as string).getTime()).toBeLessThan(60_000);
      } finally {
        await db.end();
      }
    });

    it('redacts a restricted patient', async () => {
      const response = await call(`${PATIENT_PATH}/9000000025`, { token: clinician });
      expect(response.status).toBe(200);
      const patient = response.body as Record<string, unknown>;
      expect(patient['meta']).toMatchObject({ security: [{ code: 'R' }] });
      for (const field of ['address', 'telecom', 'contact', 'generalPractitioner'])
        expect(patient[field]).toBeUndefined();
    });

    it('answers a bad check digit with 400 INVALID_RESOURCE_ID and an unknown number with 404 RESOURCE_NOT_FOUND', async () => {
      const bad = await call(`${PATIENT_PATH}/9000000000`, { token: clinician });
      expect(bad.status).toBe(400);
      expect(outcomeCode(bad.body)).toBe('INVALID_RESOURCE_ID');
      const unknown = await call(`${PATIENT_PATH}/9111231130`, { token: clinician });
      expect(unknown.status).toBe(404);
      expect(outcomeCode(unknown.body)).toBe('RESOURCE_NOT_FOUND');
    });
  });

  describe('updating a patient', () => {
    const patch = (token: string, body: unknown, headers: Record<string, string> = {}, requestId?: string) =>
      call(`${PATIENT_PATH}/9000000033`, {
        token,
        method: 'PATCH',
        requestId,
        body: typeof body === 'string' ? body : JSON.stringify(body),
        headers: { 'content-type': 'application/json-patch+json', ...headers },
      });
    const addGender = { patches: [{ op: 'add', path: '/gender', value: 'female' }] };

    it('needs If-Match: 412 without, 409 when stale', async () => {
      const missing = await patch(clinician, addGender);
      expect(missing.status).toBe(412);
      expect(outcomeCode(missing.body)).toBe('PRECONDITION_FAILED');
      const stale = await patch(clinician, addGender, { 'if-match': 'W/"1"' });
      expect(stale.status).toBe(409);
      expect(outcomeCode(stale.body)).toBe('RESOURCE_VERSION_MISMATCH');
    });

    it('is refused to a role that may not change demographics', async () => {
      const pharmacist = await passwordToken(state.issuer, 'pharmacist');
      const response = await patch(pharmacist, addGender, { 'if-match': 'W/"2"' });
      expect(response.status).toBe(403);
    });

    it.each([
      ['malformed JSON', '{"patches": [', 'application/json-patch+json', 400, 'REC_BAD_REQUEST'],
      ['a body that is not {"patches": [...]}', '[{"op":"add"}]', 'application/json-patch+json', 400, 'INVALID_UPDATE'],
      ['an unsupported content type', '<patches/>', 'application/xml', 415, 'REC_UNSUPPORTED_MEDIA_TYPE'],
    ])('answers %s with %s', async (_name, body, contentType, status, code) => {
      const response = await patch(clinician, body, { 'if-match': 'W/"2"', 'content-type': contentType });
      expect(response.status).toBe(status);
      expect(outcomeCode(response.body)).toBe(code);
    });

    it('applies a JSON Patch once, answering the next version; a retry gets the same answer', async () => {
      const requestId = randomUUID();
      const first = await patch(clinician, addGender, { 'if-match': 'W/"2"' }, requestId);
      expect(first.status).toBe(200);
      expect(first.headers.get('etag')).toBe('W/"3"');
      expect(first.body).toMatchObject({ id: '9000000033', gender: 'female', meta: { versionId: '3' } });
      const retry = await patch(clinician, addGender, { 'if-match': 'W/"2"' }, requestId);
      expect(retry.status).toBe(200);
      expect(retry.text).toBe(first.text);
      const read = await call(`${PATIENT_PATH}/9000000033`, { token: clinician });
      expect(read.headers.get('etag')).toBe('W/"3"');
    });
  });

  describe('registering a new patient', () => {
    const newPatient = {
      resourceType: 'Patient',
      name: [{ use: 'usual', given: ['Ada'], family: 'Newcomb', period: { start: '2026-01-01' } }],
      gender: 'female',
      birthDate: '1990-04-01',
      address: [{ use: 'home', line: ['1 Example Road'], postalCode: 'LS1 4AP' }],
    };
    const register = (requestId?: string) =>
      call(PATIENT_PATH, {
        token: clinician,
        method: 'POST',
        requestId,
        body: JSON.stringify(newPatient),
        headers: { 'content-type': 'application/fhir+json' },
      });

    it('allocates an NHS number: 201 with Location and ETag; a retry gets the same number; a new request a SINGLE_MATCH', async () => {
      const requestId = randomUUID();
      const created = await register(requestId);
      expect(created.status).toBe(201);
      expect(created.headers.get('etag')).toBe('W/"1"');
      const { id } = created.body as { id: string };
      expect(created.headers.get('location')).toBe(`${state.gateway}${PATIENT_PATH}/${id}`);
      expect((await register(requestId)).body).toEqual(created.body);
      const again = await register();
      expect(again.status).toBe(200);
      expect(outcomeCode(again.body)).toBe('SINGLE_MATCH');
      const read = await call(`${PATIENT_PATH}/${id}`, { token: clinician });
      expect(read.status).toBe(200);
    });

    it('refuses an incomplete patient with 400 INVALID_CREATE', async () => {
      const response = await call(PATIENT_PATH, {
        token: clinician,
        method: 'POST',
        body: JSON.stringify({ name: [{ family: 'Halfway' }] }),
        headers: { 'content-type': 'application/fhir+json' },
      });
      expect(response.status).toBe(400);
      expect(outcomeCode(response.body)).toBe('INVALID_CREATE');
    });
  });

  describe('related people', () => {
    it('are a searchset Bundle of RelatedPerson with the NHS fullUrl layout', async () => {
      const response = await call(`${PATIENT_PATH}/9000000009/RelatedPerson`, { token: clinician });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^application\/fhir\+json/);
      const bundle = response.body as {
        type: string;
        total: number;
        entry: { fullUrl: string; resource: { resourceType: string; id: string } }[];
      };
      // 9000000009 has several related people in the NHS sandbox ("Multiple related people exists"), the
      // published example's 507B7621 among them.
      expect(bundle).toMatchObject({ resourceType: 'Bundle', type: 'searchset' });
      expect(bundle.total).toBe(bundle.entry.length);
      expect(bundle.total).toBeGreaterThan(1);
      const example = bundle.entry.find((entry) => entry.resource.id === '507B7621');
      expect(example?.resource.resourceType).toBe('RelatedPerson');
      expect(example?.fullUrl).toBe(`${state.gateway}${PATIENT_PATH}/9000000009/RelatedPerson/507B7621`);
      for (const entry of bundle.entry) {
        expect(entry.resource.resourceType).toBe('RelatedPerson');
        expect(entry.fullUrl).toBe(`${state.gateway}${PATIENT_PATH}/9000000009/RelatedPerson/${entry.resource.id}`);
      }
    });

    it('are never shown for a restricted patient', async () => {
      const response = await call(`${PATIENT_PATH}/9000000025/RelatedPerson`, { token: clinician });
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ resourceType: 'Bundle', total: 0 });
      expect(response.text).not.toMatch(/Hidden|LS1 6AE/);
    });
  });

  describe('who may call', () => {
    it('refuses a request without a token with 401', async () => {
      const response = await call(`${PATIENT_PATH}/9000000009`);
      expect(response.status).toBe(401);
      expect(outcomeCode(response.body)).toBe('ACCESS_DENIED');
      expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/);
    });

    it('refuses a role that may not read patients with 403', async () => {
      const response = await call(`${PATIENT_PATH}/9000000009`, {
        token: await passwordToken(state.issuer, 'registry-admin'),
      });
      expect(response.status).toBe(403);
      expect(outcomeCode(response.body)).toBe('ACCESS_DENIED');
    });

    it('refuses an organisation the token does not allow with 403', async () => {
      const response = await call(`${PATIENT_PATH}/9000000009`, {
        token: clinician,
        headers: { 'NHSD-End-User-Organisation-ODS': 'FCG72' },
      });
      expect(response.status).toBe(403);
      expect(outcomeCode(response.body)).toBe('ACCESS_DENIED');
    });

    it('makes a user of several organisations say which one they act for', async () => {
      const token = await passwordToken(state.issuer, 'multi-org-clinician');
      const missing = await call(`${PATIENT_PATH}/9000000009`, { token });
      expect(missing.status).toBe(400);
      expect(outcomeCode(missing.body)).toBe('MISSING_VALUE');
      const chosen = await call(`${PATIENT_PATH}/9000000009`, {
        token,
        headers: { 'NHSD-End-User-Organisation-ODS': 'B82617' },
      });
      expect(chosen.status).toBe(200);
    });

    it.each([
      [
        'with a forged signature',
        (token: string) => `${token.slice(0, token.lastIndexOf('.'))}.${Buffer.from('forged').toString('base64url')}`,
      ],
      [
        'with an altered payload',
        (token: string) => {
          const [header, , signature] = token.split('.');
          const payload = Buffer.from(
            JSON.stringify({ sub: 'x', typ: 'Bearer', realm_access: { roles: ['ops', 'clinician'] } }),
          ).toString('base64url');
          return `${header}.${payload}.${signature}`;
        },
      ],
      [
        'unsigned (alg: none)',
        (token: string) => {
          const payload = token.split('.')[1];
          return `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${payload}.`;
        },
      ],
      ['that is not a JWT', () => 'not-a-token'],
    ])('refuses a token %s with 401', async (_name, tamper) => {
      const response = await call(`${PATIENT_PATH}/9000000009`, { token: tamper(clinician) });
      expect(response.status).toBe(401);
      expect(outcomeCode(response.body)).toBe('ACCESS_DENIED');
    });

    it('rate-limits a client application with 429 and Retry-After', async () => {
      const token = await clientToken(state.issuer, 'gp-system');
      const statuses: number[] = [];
      let limited: Awaited<ReturnType<typeof call>> | undefined;
      for (let i = 0; i < 6; i += 1) {
        const response = await call(`${PATIENT_PATH}/9000000009`, { token });
        statuses.push(response.status);
        if (response.status === 429) limited = response;
      }
      expect(statuses.slice(0, 3)).toEqual([200, 200, 200]);
      expect(limited).toBeDefined();
      expect(Number(limited?.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(outcomeCode(limited?.body)).toBe('TOO_MANY_REQUESTS');
      // Other clients are not affected.
      expect((await call(`${PATIENT_PATH}/9000000009`, { token: clinician })).status).toBe(200);
    });
  });

  describe('X-Request-ID', () => {
    it('is mandatory on FHIR routes', async () => {
      const response = await call(`${PATIENT_PATH}/9000000009`, { token: clinician, requestId: null });
      expect(response.status).toBe(400);
      expect(outcomeCode(response.body)).toBe('MISSING_VALUE');
    });

    it('must be a UUID', async () => {
      const response = await call(`${PATIENT_PATH}/9000000009`, { token: clinician, requestId: '1234' });
      expect(response.status).toBe(400);
      expect(outcomeCode(response.body)).toBe('INVALID_VALUE');
      expect(response.headers.get('x-request-id')).toBe('1234');
    });
  });

  describe('bad input', () => {
    it.each([
      [
        'malformed JSON',
        { method: 'POST', body: '{"patches": [', headers: { 'content-type': 'application/fhir+json' } },
        400,
      ],
      [
        'an unsupported content type',
        { method: 'POST', body: '<Patient/>', headers: { 'content-type': 'application/xml' } },
        415,
      ],
      [
        'an oversized body',
        { method: 'POST', body: `{"x":"${'a'.repeat(1_100_000)}"}`, headers: { 'content-type': 'application/json' } },
        413,
      ],
    ])('answers %s with a 4xx OperationOutcome', async (_name, options, status) => {
      const response = await call(PATIENT_PATH, { token: clinician, ...options });
      expect(response.status).toBe(status);
      expect(outcomeCode(response.body)).toMatch(/^REC_/);
    });

    it('answers unknown routes with 404: an OperationOutcome under FHIR, problem details elsewhere', async () => {
      const fhir = await call('/personal-demographics/FHIR/R4/NoSuchResource/1', { token: clinician });
      expect(fhir.status).toBe(404);
      expect(outcomeCode(fhir.body)).toBe('REC_NOT_FOUND');
      const other = await call('/no/such/path');
      expect(other.status).toBe(404);
      expect(other.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(other.body).toMatchObject({ status: 404, code: 'REC_NOT_FOUND' });
    });

    it('is still healthy after all of it', async () => {
      expect((await call('/health/ready')).status).toBe(200);
      expect((await call(`${PATIENT_PATH}/9000000009`, { token: clinician })).status).toBe(200);
    });
  });

  describe('documentation and operations', () => {
    it('serves OpenAPI at /docs', async () => {
      const page = await call('/docs');
      expect(page.status).toBe(200);
      expect(page.text).toMatch(/swagger/i);
      const document = await call('/docs/openapi.json');
      expect((document.body as { paths: Record<string, unknown> }).paths).toHaveProperty(
        '/personal-demographics/FHIR/R4/Patient/{id}',
      );
    });

    it('exposes Prometheus metrics by route template, never by patient', async () => {
      const metrics = await call('/metrics');
      expect(metrics.text).toMatch(
        /http_requests_total\{[^}]*route="\/personal-demographics\/FHIR\/R4\/Patient\/:id"[^}]*status="200"/,
      );
      expect(metrics.text).not.toMatch(/9000000009/);
    });
  });

  describe('when PDS is down', () => {
    it('answers 503 with an OperationOutcome within the gateway timeout instead of hanging', async () => {
      process.kill(Number(currentPids(state)['pds']), 'SIGTERM');
      let response: Awaited<ReturnType<typeof call>> | undefined;
      let elapsed = 0;
      const deadline = Date.now() + 15_000;
      while (Date.now() < deadline) {
        const started = Date.now();
        response = await call(`${PATIENT_PATH}/9000000009`, { token: clinician });
        elapsed = Date.now() - started;
        if (response.status !== 200) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect([503, 504]).toContain(response?.status);
      expect(outcomeCode(response?.body)).toMatch(/^REC_(UNAVAILABLE|GATEWAY_TIMEOUT)$/);
      expect(elapsed).toBeLessThan(state.rpcTimeoutMs + 1000);
      // The gateway stays ready for the other services' routes, and says which one is down. pds stops its read
      // subscription before its health subject while it shuts down, so the health check may answer a moment
      // longer than reads do: asked until it says down (or 5 s pass).
      let ready = await call('/health/ready');
      for (
        let waited = 0;
        waited < 5_000 &&
        !/^down/.test(String((ready.body as { checks?: { pds?: unknown } } | undefined)?.checks?.pds));
        waited += 100
      ) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        ready = await call('/health/ready');
      }
      expect(ready.status).toBe(200);
      expect(ready.body).toMatchObject({
        status: 'degraded',
        checks: { nats: 'up', pds: expect.stringMatching(/^down/) },
      });
      expect((await call('/health/ready/pds')).status).toBe(503);
      // The launcher restarts it: the suites after this one find the whole platform up.
      expect(await platformUp(state, 60_000)).toBe(true);
    }, 90_000);
  });

  describe('logs', () => {
    it('hold no NHS number, patient name, birth date or address written during the run', () => {
      const files = readdirSync(state.logDir);
      expect(files).toEqual(expect.arrayContaining(['gateway.log', 'pds.log', 'identity-provider.log']));
      const logs = files.map((file) => readFileSync(path.join(state.logDir, file), 'utf8')).join('\n');
      expect(logs.split('\n').length).toBeGreaterThan(20);
      for (const secret of [
        '9000000009',
        '9000000025',
        '9000000033',
        '9111231130',
        'Smith',
        'Smythe',
        'Jane',
        '2010-10-22',
        'LS1 6AE',
        'Hidden Lane',
      ]) {
        expect(logs).not.toContain(secret);
      }
    });
  });
});
