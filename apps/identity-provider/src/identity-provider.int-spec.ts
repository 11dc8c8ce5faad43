// Runs the BUILT identity provider (dist/, made by `node tools/scripts/build.mjs`, which `npm test` runs before
// jest) as a child process: oidc-provider is ESM-only and cannot be loaded inside jest's CommonJS runtime.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify, type JWTPayload } from 'jose';
import { DEMO_USERS } from './demo-realm';

const ROOT = path.resolve(__dirname, '../../..');
const MAIN = path.join(ROOT, 'dist/apps/identity-provider/src/main.js');
const TOKEN_CLI = path.join(ROOT, 'dist/apps/identity-provider/src/token.cli.js');
const GP_SYSTEM_SECRET = 'gp-system-secret-from-env';

interface LogLine {
  level: string;
  event?: string;
  issuer?: string;
  msg?: string;
  problems?: string[];
}

interface Started {
  child: ChildProcess;
  issuer: string;
  lines: LogLine[];
}

/** Starts dist/.../main.js and resolves with its issuer once it logs that it is listening. */
function startBuiltProvider(env: NodeJS.ProcessEnv): Promise<Started> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN], {
      cwd: ROOT,
      env: { ...process.env, LOG_LEVEL: 'info', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines: LogLine[] = [];
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      const parsed = JSON.parse(line) as LogLine;
      lines.push(parsed);
      if (parsed.event === 'listening' && parsed.issuer) resolve({ child, issuer: parsed.issuer, lines });
    });
    child.once('exit', (code) => reject(new Error(`identity provider exited with ${code}: ${stderr}`)));
    setTimeout(() => reject(new Error('identity provider did not start within 15 s')), 15_000).unref();
  });
}

function run(
  script: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [script, ...args], { cwd: ROOT, env: { ...process.env, ...env } });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.on('close', (code) => resolve({ code, out, err }));
  });
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

describe('local identity provider (built server)', () => {
  let provider: Started;
  let issuer: string;
  let tokenUrl: string;
  let jwks: ReturnType<typeof createRemoteJWKSet>;

  beforeAll(async () => {
    if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run \`node tools/scripts/build.mjs\` first`);
    provider = await startBuiltProvider({
      IDP_HOST: '127.0.0.1',
      IDP_PORT: '0',
      IDP_CLIENT_SECRET_GP_SYSTEM: GP_SYSTEM_SECRET,
      IDP_DEMO_PASSWORD: '',
      IDP_ISSUER: '',
      IDP_ACCESS_TOKEN_TTL: '',
    });
    issuer = provider.issuer;
    tokenUrl = `${issuer}/protocol/openid-connect/token`;
    jwks = createRemoteJWKSet(new URL(`${issuer}/protocol/openid-connect/certs`));
  });

  afterAll(async () => {
    const { child } = provider ?? {};
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    }
  });

  async function token(form: Record<string, string>, headers: Record<string, string> = {}) {
    const response = await fetch(tokenUrl, { method: 'POST', headers, body: new URLSearchParams(form) });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  async function verify(accessToken: unknown): Promise<JWTPayload> {
    if (typeof accessToken !== 'string') throw new Error(`no access token: ${String(accessToken)}`);
    const { payload } = await jwtVerify(accessToken, jwks, { issuer, audience: 'nhs-platform', algorithms: ['RS256'] });
    return payload;
  }

  it('serves Keycloak paths under /realms/nhs and advertises them in the discovery document', async () => {
    expect(issuer).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/realms\/nhs$/);
    const response = await fetch(`${issuer}/.well-known/openid-configuration`);
    expect(response.status).toBe(200);
    const discovery = (await response.json()) as Record<string, unknown>;
    expect(discovery).toMatchObject({
      issuer,
      token_endpoint: `${issuer}/protocol/openid-connect/token`,
      jwks_uri: `${issuer}/protocol/openid-connect/certs`,
      authorization_endpoint: `${issuer}/protocol/openid-connect/auth`,
      userinfo_endpoint: `${issuer}/protocol/openid-connect/userinfo`,
    });
    expect(discovery['grant_types_supported']).toEqual(expect.arrayContaining(['password', 'client_credentials']));

    const certs = (await (await fetch(`${issuer}/protocol/openid-connect/certs`)).json()) as { keys: object[] };
    expect(certs.keys).toHaveLength(1);
    expect(certs.keys[0]).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig' });
    expect(certs.keys[0]).not.toHaveProperty('d');
  });

  it.each(DEMO_USERS.map((user) => [user.username, user] as const))(
    'issues a verifiable access token to %s with the password grant',
    async (_username, user) => {
      const { status, body } = await token({
        grant_type: 'password',
        client_id: 'platform-cli',
        username: user.username,
        password: 'demo',
      });
      expect(status).toBe(200);
      expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 300, scope: 'profile email' });
      expect(decodeProtectedHeader(body['access_token'] as string)).toMatchObject({ alg: 'RS256', typ: 'JWT' });

      const claims = await verify(body['access_token']);
      expect(claims).toMatchObject({
        sub: user.id,
        azp: 'platform-cli',
        typ: 'Bearer',
        preferred_username: user.username,
        realm_access: { roles: [...user.roles] },
        resource_access: {},
        nhsd_organisations: [...user.organisations],
      });
      expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBe(300);
      expect(claims.jti).toEqual(expect.any(String));
    },
  );

  it('rejects a wrong password and an unknown user like Keycloak', async () => {
    for (const [username, password] of [
      ['clinician', 'not-the-password'],
      ['nobody', 'demo'],
    ]) {
      const { status, body } = await token({ grant_type: 'password', client_id: 'platform-cli', username, password });
      expect(status).toBe(401);
      expect(body).toEqual({ error: 'invalid_grant', error_description: 'Invalid user credentials' });
    }
  });

  it('adds openid to the scope on request, rejects unknown scopes and serves userinfo for the token', async () => {
    const granted = await token({
      grant_type: 'password',
      client_id: 'platform-cli',
      username: 'multi-org-clinician',
      password: 'demo',
      scope: 'openid',
    });
    expect(granted.body['scope']).toBe('openid profile email');

    const userinfo = await fetch(`${issuer}/protocol/openid-connect/userinfo`, {
      headers: { authorization: `Bearer ${String(granted.body['access_token'])}` },
    });
    expect(userinfo.status).toBe(200);
    expect(await userinfo.json()).toMatchObject({
      preferred_username: 'multi-org-clinician',
      nhsd_organisations: ['A83008', 'B82617'],
    });
    const anonymous = await fetch(`${issuer}/protocol/openid-connect/userinfo`);
    expect(anonymous.status).toBe(401);

    const rejected = await token({
      grant_type: 'password',
      client_id: 'platform-cli',
      username: 'clinician',
      password: 'demo',
      scope: 'openid admin',
    });
    expect(rejected).toMatchObject({ status: 400, body: { error: 'invalid_scope' } });
  });

  it('issues an application token to pharmacy-system with client_credentials', async () => {
    const basic = Buffer.from('pharmacy-system:pharmacy-system-secret').toString('base64');
    const { status, body } = await token({ grant_type: 'client_credentials' }, { authorization: `Basic ${basic}` });
    expect(status).toBe(200);
    expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 300 });
    expect(await verify(body['access_token'])).toMatchObject({
      azp: 'pharmacy-system',
      typ: 'Bearer',
      preferred_username: 'service-account-pharmacy-system',
      realm_access: { roles: ['pharmacist'] },
      nhsd_organisations: ['FCG72'],
    });

    const posted = await token({
      grant_type: 'client_credentials',
      client_id: 'pharmacy-system',
      client_secret: 'pharmacy-system-secret',
    });
    expect(posted.status).toBe(200);
  });

  it('rejects a wrong client secret with invalid_client and takes secrets from IDP_CLIENT_SECRET_<CLIENT_ID>', async () => {
    const wrong = await token({
      grant_type: 'client_credentials',
      client_id: 'pharmacy-system',
      client_secret: 'wrong',
    });
    expect(wrong).toMatchObject({ status: 401, body: { error: 'invalid_client' } });

    const demoDefault = await token({
      grant_type: 'client_credentials',
      client_id: 'gp-system',
      client_secret: 'gp-system-secret',
    });
    expect(demoDefault).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
    const fromEnv = await token({
      grant_type: 'client_credentials',
      client_id: 'gp-system',
      client_secret: GP_SYSTEM_SECRET,
    });
    expect(fromEnv.status).toBe(200);
    expect(await verify(fromEnv.body['access_token'])).toMatchObject({
      preferred_username: 'service-account-gp-system',
      nhsd_organisations: ['A83008'],
    });
  });

  it('does not let the public CLI client use client_credentials', async () => {
    const { status, body } = await token({ grant_type: 'client_credentials', client_id: 'platform-cli' });
    expect(status).toBe(400);
    expect(body['error']).toBe('invalid_request');
  });

  it('token.cli prints only the access token, for a role or a client', async () => {
    const forRole = await run(TOKEN_CLI, ['pharmacist'], { IDP_URL: issuer });
    expect(forRole.code).toBe(0);
    expect(forRole.err).toBe('');
    expect(forRole.out).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
    expect(await verify(forRole.out.trim())).toMatchObject({ preferred_username: 'pharmacist', azp: 'platform-cli' });

    const forClient = await run(TOKEN_CLI, ['--client', 'gp-system'], {
      IDP_URL: issuer,
      IDP_CLIENT_SECRET_GP_SYSTEM: GP_SYSTEM_SECRET,
    });
    expect(forClient.code).toBe(0);
    expect(await verify(forClient.out.trim())).toMatchObject({ preferred_username: 'service-account-gp-system' });
  });

  it('token.cli exits 2 listing the valid roles for an unknown role, and 1 when the provider is down', async () => {
    const unknown = await run(TOKEN_CLI, ['nurse'], { IDP_URL: issuer });
    expect(unknown.code).toBe(2);
    expect(unknown.out).toBe('');
    expect(unknown.err).toContain(
      'clinician, pharmacist, provider-clinician, practice-admin, registry-admin, ops, patient',
    );

    const downUrl = `http://127.0.0.1:${await closedPort()}/realms/nhs`;
    const down = await run(TOKEN_CLI, ['clinician'], { IDP_URL: downUrl });
    expect(down.code).toBe(1);
    expect(down.out).toBe('');
    expect(down.err).toContain(`identity provider not reachable at ${downUrl}: start the platform with \`npm start\``);
  });

  it('refuses to start on a bad port, naming IDP_PORT', async () => {
    const result = await run(MAIN, [], { IDP_PORT: 'eighty' });
    expect(result.code).toBe(1);
    const line = JSON.parse(result.out.trim()) as LogLine;
    expect(line.level).toBe('fatal');
    expect(line.msg).toContain('IDP_PORT');
  });

  it('stops gracefully on SIGTERM', async () => {
    const { child, lines } = provider;
    const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(lines.map((line) => line.event)).toEqual(expect.arrayContaining(['listening', 'stopping', 'stopped']));
  });
});
