import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { freePort } from '@platform/shared-testing';
import { callerKeyEnvironment, GATEWAY_ISSUER } from '@platform/shared-nats';
import { e2eState, passwordToken, platformUp, type E2eState } from './support/platform';

const GATEWAY_MAIN = path.resolve(__dirname, '../../../dist/apps/gateway/src/main.js');
const PATIENT = '/personal-demographics/FHIR/R4/Patient';

interface Answer {
  status: number;
  headers: Headers;
  body: unknown;
}

/** Starts a gateway from dist/ with the given environment; resolves with its exit code if it stops first. */
function gatewayProcess(env: Record<string, string>): {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
} {
  let output = '';
  const child = spawn(process.execPath, [GATEWAY_MAIN], {
    env: { ...process.env, ACCESS_LOG: 'false', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (data: Buffer) => (output += data.toString()));
  child.stderr?.on('data', (data: Buffer) => (output += data.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

/**
 * NHS-sandbox mode, as a developer runs it: a second gateway of its own, in SANDBOX mode, on the running
 * platform's NATS and identity provider. It shows what sandbox mode opens without a token (the PDS FHIR
 * API: reads, searches and writes) and what it does not (EPS, the N3 registry and every other route still
 * need a token), and that it will not start where it could reach production.
 */
describe('sandbox mode', () => {
  let state: E2eState;
  let base: string;
  let sandbox: ReturnType<typeof gatewayProcess>;

  beforeAll(async () => {
    state = e2eState();
    expect(await platformUp(state, 60_000)).toBe(true);
    if (!existsSync(GATEWAY_MAIN)) throw new Error('dist/ is missing: run `npm run build` before the e2e tests');
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    sandbox = gatewayProcess({
      // The platform's gateway key, so that the services trust this second gateway as they trust the first.
      ...callerKeyEnvironment(state.callerKeys, GATEWAY_ISSUER),
      SANDBOX: 'true',
      GATEWAY_HOST: '127.0.0.1',
      GATEWAY_PORT: String(port),
      NATS_URL: state.natsUrl,
      OIDC_ISSUER: state.issuer,
      GATEWAY_RPC_TIMEOUT_MS: String(state.rpcTimeoutMs),
    });
    for (let attempt = 0; ; attempt += 1) {
      const ready = await fetch(`${base}/health/live`).then(
        (response) => response.ok,
        () => false,
      );
      if (ready) break;
      if (attempt > 150 || sandbox.child.exitCode !== null) {
        throw new Error(`the sandbox gateway did not start:\n${sandbox.output()}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  });

  afterAll(async () => {
    if (sandbox?.child.exitCode === null) {
      sandbox.child.kill('SIGTERM');
      await sandbox.exited;
    }
  });

  async function call(
    target: string,
    options: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
  ): Promise<Answer> {
    const response = await fetch(`${base}${target}`, {
      method: options.method ?? 'GET',
      headers: {
        'x-request-id': randomUUID(),
        ...(options.body === undefined ? {} : { 'content-type': 'application/fhir+json' }),
        ...options.headers,
      },
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
    const text = await response.text();
    return {
      status: response.status,
      headers: response.headers,
      body: text ? (JSON.parse(text) as unknown) : undefined,
    };
  }

  describe('opens the PDS FHIR API without a token', () => {
    it('reads a sandbox patient', async () => {
      const read = await call(`${PATIENT}/9000000009`);
      expect(read.status).toBe(200);
      expect(read.body).toMatchObject({ resourceType: 'Patient', id: '9000000009' });
      expect(read.headers.get('etag')).toMatch(/^W\/"\d+"$/);
    });

    it('searches, with fullUrl values at its own address', async () => {
      const search = await call(`${PATIENT}?family=Smith&gender=female&birthdate=eq2010-10-22`);
      expect(search.status).toBe(200);
      const bundle = search.body as { resourceType: string; entry?: { fullUrl: string }[] };
      expect(bundle.resourceType).toBe('Bundle');
      expect(bundle.entry?.length).toBeGreaterThan(0);
      for (const entry of bundle.entry ?? []) expect(entry.fullUrl.startsWith(`${base}${PATIENT}/`)).toBe(true);
    });

    it('writes as the NHS sandbox does: answered, and nothing kept, so the same write answers the same again', async () => {
      const created = await call(PATIENT, {
        method: 'POST',
        body: {
          resourceType: 'Patient',
          name: [{ use: 'usual', given: ['Sandra'], family: 'Boxworth', period: { start: '2026-01-01' } }],
          gender: 'female',
          birthDate: '1987-03-05',
          address: [{ use: 'home', line: ['2 Sandbox Lane'], postalCode: 'LS2 9JT' }],
        },
      });
      expect(created.status).toBe(201);
      // The specification's 201 example's NHS number, every time, without drawing on the allocation sequence;
      // nothing kept: that number is still the published Jane Smith.
      const { id } = created.body as { id: string };
      expect(id).toBe('9000000009');
      expect(created.headers.get('location')).toBe(`${base}${PATIENT}/${id}`);
      expect((await call(`${PATIENT}/${id}`)).body).toMatchObject({ name: [{ family: 'Smith' }] });
      for (let run = 0; run < 2; run += 1) {
        const updated = await call(`${PATIENT}/9000000009`, {
          method: 'PATCH',
          body: { patches: [{ op: 'replace', path: '/gender', value: 'other' }] },
          headers: { 'if-match': 'W/"2"', 'content-type': 'application/json-patch+json' },
        });
        expect(updated.status).toBe(200);
        expect(updated.body).toMatchObject({ id: '9000000009', gender: 'other', meta: { versionId: '3' } });
      }
      expect((await call(`${PATIENT}/9000000009`)).body).toMatchObject({ gender: 'female', meta: { versionId: '2' } });
    });

    it('still requires X-Request-ID, as the NHS sandbox does', async () => {
      const response = await fetch(`${base}${PATIENT}/9000000009`);
      expect(response.status).toBe(400);
    });
  });

  describe('keeps every other route behind a token', () => {
    it.each([
      ['EPS prescribing', 'POST', '/fhir-prescribing/FHIR/R4/$prepare', { resourceType: 'Bundle' }],
      ['EPS dispensing', 'POST', '/fhir-dispensing/FHIR/R4/Task/$release', { resourceType: 'Parameters' }],
      ['EPS tracking', 'GET', '/eps/prescriptions/A0548B-A99968-451485', undefined],
      ['the N3 directory', 'GET', '/n3/organisations/A83008', undefined],
      ['N3 administration', 'POST', '/n3/connections', { odsCode: 'A83008' }],
      ['the ODS import', 'POST', '/n3/organisations/import?role=gp-practice', undefined],
    ])('%s: 401 without a token', async (_name, method, target, body) => {
      const response = await call(target, { method, body });
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe('Bearer');
    });

    it('and with a token, the role rules as outside sandbox mode', async () => {
      const clinician = await passwordToken(state.issuer, 'clinician');
      const response = await call('/n3/connections', { headers: { authorization: `Bearer ${clinician}` } });
      expect(response.status).toBe(403);
    });
  });

  it('refuses to start where it could reach production: a remote issuer or a public address', async () => {
    for (const [variable, env] of [
      ['OIDC_ISSUER', { OIDC_ISSUER: 'https://auth.platform.example.nhs.uk/realms/nhs' }],
      ['GATEWAY_HOST', { GATEWAY_HOST: '0.0.0.0' }],
      ['GATEWAY_PUBLIC_URL', { GATEWAY_PUBLIC_URL: 'https://api.platform.example.nhs.uk' }],
    ] as const) {
      const local: Record<string, string> = {
        SANDBOX: 'true',
        GATEWAY_HOST: '127.0.0.1',
        GATEWAY_PORT: String(await freePort()),
        NATS_URL: state.natsUrl,
        OIDC_ISSUER: state.issuer,
      };
      // One variable at a time made non-local.
      const refused = gatewayProcess({ ...local, ...env });
      expect(await refused.exited).toBe(1);
      expect(refused.output()).toContain(`${variable} must be a loopback address`);
    }
  });
});
