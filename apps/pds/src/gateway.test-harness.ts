import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { SignJWT } from 'jose';
import { freePort, type TestJwks } from '@platform/shared-testing';
import { testCallerEnvironment } from '@platform/testing-services';

const GATEWAY_MAIN = path.resolve(__dirname, '../../../dist/apps/gateway/src/main.js');
export const ISSUER = 'http://127.0.0.1/realms/nhs';

/** The built gateway (dist/, as the launcher runs it) in front of a pds under test, on that pds's NATS. */
export interface GatewayUnderTest {
  base: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

export async function startGatewayUnderTest(options: {
  natsUrl: string;
  jwks: TestJwks;
  sandbox: boolean;
}): Promise<GatewayUnderTest> {
  if (!existsSync(GATEWAY_MAIN)) throw new Error('dist/ is missing: run `npm run build` first');
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  let output = '';
  const child = spawn(process.execPath, [GATEWAY_MAIN], {
    env: {
      ...process.env,
      ...(await testCallerEnvironment('gateway')),
      GATEWAY_HOST: '127.0.0.1',
      GATEWAY_PORT: String(port),
      GATEWAY_METRICS_PORT: '0',
      NATS_URL: options.natsUrl,
      OIDC_ISSUER: ISSUER,
      OIDC_JWKS_URL: options.jwks.url,
      SANDBOX: String(options.sandbox),
      ACCESS_LOG: 'false',
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString()).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  for (let attempt = 0; ; attempt += 1) {
    const live = await fetch(`${base}/health/live`).then(
      (response) => response.ok,
      () => false,
    );
    if (live) break;
    if (attempt > 200 || child.exitCode !== null) throw new Error(`the gateway did not start:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    base,
    child,
    stop: async () => {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
    },
  };
}

/** A Keycloak-shaped access token: a user's (password grant) or an application's (client_credentials). */
export function accessToken(
  jwks: TestJwks,
  claims: {
    subject: string;
    username: string;
    roles: string[];
    organisations?: string[];
    clientId?: string;
    application?: boolean;
    nhsNumber?: string;
  },
): Promise<string> {
  const clientId = claims.clientId ?? 'platform-cli';
  return new SignJWT({
    typ: 'Bearer',
    azp: clientId,
    preferred_username: claims.username,
    realm_access: { roles: claims.roles },
    nhsd_organisations: claims.organisations ?? [],
    ...(claims.application ? { client_id: clientId } : {}),
    ...(claims.nhsNumber ? { nhs_number: claims.nhsNumber } : {}),
  })
    .setProtectedHeader({ alg: 'RS256', kid: 'k' })
    .setIssuer(ISSUER)
    .setAudience('nhs-platform')
    .setSubject(claims.subject)
    .setIssuedAt()
    .setExpirationTime('10m')
    .sign(jwks.privateKey);
}
