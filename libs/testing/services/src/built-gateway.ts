import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { SignJWT } from 'jose';
import { freePort, type TestJwks } from '@platform/shared-testing';
import { testCallerEnvironment } from './caller-keys';

const GATEWAY_MAIN = path.resolve(__dirname, '../../../..', 'dist/apps/gateway/src/main.js');

/** The issuer the tests' tokens name and the built gateway trusts (their JWKS serves its keys). */
export const TEST_GATEWAY_ISSUER = 'http://127.0.0.1/realms/nhs';

/** The built gateway (dist/, as the launcher runs it) on a test's NATS, trusting the test's JWKS. */
export interface BuiltGateway {
  base: string;
  port: number;
  child: ChildProcess;
  /** The last 4,000 characters it wrote, for a test's failure message. */
  output(): string;
  /** SIGTERM, and waits for it to exit (SIGKILL after 10 s). */
  stop(): Promise<void>;
}

/**
 * Starts the built gateway with the test's caller keys (the services under test trust it), on `natsUrl`,
 * trusting tokens from `jwksUrl` for `TEST_GATEWAY_ISSUER`, no access log and no metrics listener;
 * `env` adds or overrides settings. Resolves once `/health/live` answers (its services need not be up).
 */
export async function startBuiltGateway(options: {
  natsUrl: string;
  jwksUrl: string;
  env?: Record<string, string>;
  /** A port chosen beforehand (when another process must know the gateway's address first); a free one otherwise. */
  port?: number;
}): Promise<BuiltGateway> {
  if (!existsSync(GATEWAY_MAIN)) throw new Error('dist/ is missing: run `npm run build` first');
  const port = options.port ?? (await freePort());
  const base = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, [GATEWAY_MAIN], {
    env: {
      ...process.env,
      ...(await testCallerEnvironment('gateway')),
      GATEWAY_HOST: '127.0.0.1',
      GATEWAY_PORT: String(port),
      GATEWAY_METRICS_PORT: '0',
      NATS_URL: options.natsUrl,
      OIDC_ISSUER: TEST_GATEWAY_ISSUER,
      OIDC_JWKS_URL: options.jwksUrl,
      SANDBOX: 'false',
      ACCESS_LOG: 'false',
      LOG_LEVEL: 'warn',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString()).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
    await exited;
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    const live = await fetch(`${base}/health/live`, { signal: AbortSignal.timeout(1000) }).then(
      (response) => response.ok,
      () => false,
    );
    if (live) return { base, port, child, output: () => output, stop };
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`the gateway did not start:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A Keycloak-shaped access token: a user's (password grant) or an application's (client_credentials). */
export function gatewayAccessToken(
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
    .setIssuer(TEST_GATEWAY_ISSUER)
    .setAudience('nhs-platform')
    .setSubject(claims.subject)
    .setIssuedAt()
    .setExpirationTime('10m')
    .sign(jwks.privateKey);
}
