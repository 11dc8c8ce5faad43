import { readFileSync } from 'node:fs';
import { GATEWAY_ISSUER, signerFrom, type CallerAssertionSigner, type PlatformCallerKeys } from '@platform/shared-nats';

/** What the global setup wrote about the platform it started for this run. */
export interface E2eState {
  gateway: string;
  issuer: string;
  /**
   * NATS_URL of the launcher's `test` user (`nats://test:<password>@host:port`): open connections with
   * `natsEndpointOptions(state.natsUrl)` (@platform/shared-nats), which takes the credentials out of it.
   */
  natsUrl: string;
  databaseUrl: string;
  /** Each service's schema, by service name (the catalogue's: pds, n3-registry, eps). */
  schemas: Record<string, string>;
  /** The caller keys the launcher was given: tests that talk to services over NATS sign as the gateway. */
  callerKeys: PlatformCallerKeys;
  logDir: string;
  stateDir: string;
  launcherPid: number;
  /** The launcher's state file: its `pids` are rewritten whenever it restarts a process. */
  launcherStateFile: string;
  rpcTimeoutMs: number;
  /** The GP Connect simulator (the demo practices' systems), e.g. to set a patient's record. */
  gpconnectUrl: string;
  /** The NHSmail relay's relay/inbound SMTP port (25 in production). */
  smtpRelayPort: number;
  /** The process IDs when the platform first came up (see currentPids for the ones now). */
  pids: Record<string, number>;
}

export const STATE_ENV = 'PLATFORM_E2E_STATE';

export function e2eState(): E2eState {
  const file = process.env[STATE_ENV];
  if (!file) throw new Error(`${STATE_ENV} is not set: run the e2e tests through jest's e2e project`);
  return JSON.parse(readFileSync(file, 'utf8')) as E2eState;
}

/**
 * The platform's process IDs now, as the launcher last wrote them (it restarts what dies, so these change):
 * pds, n3-registry, eps, gateway, identity-provider and nats-server.
 */
export function currentPids(state: E2eState): Record<string, number> {
  return (JSON.parse(readFileSync(state.launcherStateFile, 'utf8')) as { pids: Record<string, number> }).pids;
}

/**
 * Waits until the gateway reports every service up (`/health/ready` 200 with status ok), for a test that
 * starts after, or ends with, a process killed and restarted by the launcher. False when it never does.
 */
export async function platformUp(state: E2eState, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const response = await fetch(`${state.gateway}/health/ready`, { signal: AbortSignal.timeout(3000) });
      if (response.status === 200 && ((await response.json()) as { status?: string }).status === 'ok') return true;
    } catch {
      // the gateway itself may be restarting
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}

/**
 * Kills one of the platform's processes with SIGKILL and waits (at most `timeoutMs`) until the launcher has
 * started a new one and the gateway sees everything up again: the milliseconds that took, or `timeoutMs` when
 * it never recovered.
 */
export async function killAndAwaitRecovery(state: E2eState, name: string, timeoutMs = 60_000): Promise<number> {
  const pid = currentPids(state)[name];
  if (!pid) throw new Error(`the launcher names no running ${name}`);
  const killedAt = Date.now();
  process.kill(pid, 'SIGKILL');
  while (Date.now() - killedAt < timeoutMs) {
    const now = currentPids(state)[name];
    if (now !== undefined && now !== pid && (await platformUp(state, 200))) return Date.now() - killedAt;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return timeoutMs;
}

/** Signs as the platform's gateway does, for a test that sends requests to the services over NATS itself. */
export function gatewaySigner(state: E2eState): CallerAssertionSigner {
  return signerFrom(state.callerKeys, GATEWAY_ISSUER);
}

/** The demo users' password and the confidential clients' secrets of the local identity provider. */
export const DEMO_PASSWORD = 'demo';
export const CLIENT_SECRETS: Record<string, string> = {
  'gp-system': 'gp-system-secret',
  'pharmacy-system': 'pharmacy-system-secret',
};

export async function passwordToken(issuer: string, username: string): Promise<string> {
  const response = await fetch(`${issuer}/protocol/openid-connect/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'password', client_id: 'platform-cli', username, password: DEMO_PASSWORD }),
  });
  const body = (await response.json()) as { access_token?: string };
  if (!response.ok || !body.access_token) throw new Error(`no token for ${username}: ${response.status}`);
  return body.access_token;
}

export async function clientToken(issuer: string, clientId: string): Promise<string> {
  const response = await fetch(`${issuer}/protocol/openid-connect/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: clientId,
      client_secret: CLIENT_SECRETS[clientId] ?? '',
    }),
  });
  const body = (await response.json()) as { access_token?: string };
  if (!response.ok || !body.access_token) throw new Error(`no token for client ${clientId}: ${response.status}`);
  return body.access_token;
}
