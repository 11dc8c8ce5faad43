import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SERVICES, serviceVariables } from '@platform/shared-catalogue';
import { generatePlatformCallerKeys } from '@platform/shared-nats';
import { freePort, testDatabaseUrl, uniqueName } from '@platform/shared-testing';
import { STATE_ENV, type E2eState } from './platform';

const root = path.resolve(__dirname, '../../../..');

/**
 * Starts the whole platform the way a person does (the launcher from dist/, which `npm test` builds first)
 * on free ports, with a NATS server of its own (the launcher starts the OS's nats-server because nothing
 * answers at that URL), the real PostgreSQL in a schema of its own, and every process's log in a folder
 * the tests read.
 */
export default async function globalSetup(): Promise<void> {
  const launcher = path.join(root, 'dist/tools/launcher/src/main.js');
  if (!existsSync(launcher)) throw new Error('dist/ is missing: run `npm run build` before the e2e tests');
  const stateDir = mkdtempSync(path.join(tmpdir(), 'platform-e2e-'));
  const [gatewayPort, idpPort, natsPort, gpconnectPort, relayPort, submissionPort] = await Promise.all([
    freePort(),
    freePort(),
    freePort(),
    freePort(),
    freePort(),
    freePort(),
  ]);
  // Every service of the catalogue on a free port and in a schema of its own.
  const schemas: Record<string, string> = {};
  const serviceEnv: Record<string, string> = {};
  for (const service of SERVICES) {
    const variables = serviceVariables(service);
    schemas[service.name] = uniqueName(`${service.schema}_e2e`);
    serviceEnv[variables.schema] = schemas[service.name];
    serviceEnv[variables.httpPort] = String(await freePort());
  }
  const databaseUrl = testDatabaseUrl();
  // The platform's caller keys, made here so that tests can sign as the gateway does (support/platform.ts).
  const callerKeys = await generatePlatformCallerKeys(SERVICES.map((service) => service.name));
  const launcherState = path.join(stateDir, 'launcher.json');
  const rpcTimeoutMs = 3000;
  // Nothing answers on this port, so the launcher starts its own secured nats-server there (a user per
  // process, passwords of its own). The tests get the launcher's `test` user, with this password: it calls
  // the services and reads stream info as the gateway would, and cannot listen to any service's requests.
  const natsTestPassword = randomBytes(24).toString('hex');
  const natsUrl = `nats://127.0.0.1:${natsPort}`;
  // A loaded machine starts the platform slowly: PLATFORM_E2E_START_TIMEOUT_MS gives it longer than 90 s, and
  // the launcher's own wait for each process as long.
  const startTimeoutMs = Number(process.env['PLATFORM_E2E_START_TIMEOUT_MS'] ?? 90_000);
  const child = spawn(process.execPath, [launcher], {
    cwd: root,
    env: {
      ...process.env,
      GATEWAY_PORT: String(gatewayPort),
      IDP_PORT: String(idpPort),
      NATS_URL: natsUrl,
      LAUNCHER_NATS_TEST_PASSWORD: natsTestPassword,
      DATABASE_URL: databaseUrl,
      ...serviceEnv,
      PLATFORM_CALLER_KEYS: JSON.stringify(callerKeys),
      PLATFORM_DATA_DIR: stateDir,
      LOG_DIR: path.join(stateDir, 'logs'),
      LAUNCHER_STATE_FILE: launcherState,
      LAUNCHER_READY_TIMEOUT_MS: String(startTimeoutMs),
      GATEWAY_RPC_TIMEOUT_MS: String(rpcTimeoutMs),
      RATE_LIMIT_OVERRIDES: 'gp-system=1:3',
      // The practice systems' simulator and the relay's SMTP ports free too (their defaults may be in use), and
      // the registry's directory pointing at that simulator.
      GPCONNECT_SIMULATOR_PORT: String(gpconnectPort),
      N3_SANDBOX_GPCONNECT_URL: `http://127.0.0.1:${gpconnectPort}`,
      NHSMAIL_RELAY_PORT: String(relayPort),
      NHSMAIL_SUBMISSION_PORT: String(submissionPort),
      // A delivery claimed by a relay that the fault suite kills comes back when its lease ends: 15 s rather
      // than 120 s, so the suite sees it delivered within its wait (local deliveries are fenced by the lease's
      // owner, so a shorter lease delivers nothing twice).
      NHSMAIL_DELIVERY_LEASE_SECONDS: '15',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
    detached: false,
  });
  const deadline = Date.now() + startTimeoutMs;
  while (!existsSync(launcherState)) {
    if (child.exitCode !== null)
      throw new Error(`the launcher exited with code ${child.exitCode} before the platform was ready`);
    if (Date.now() > deadline) {
      child.kill('SIGINT');
      throw new Error(`the platform was not ready within ${startTimeoutMs / 1000} s`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const started = JSON.parse(readFileSync(launcherState, 'utf8')) as {
    pids: Record<string, number>;
    gateway: string;
    issuer: string;
  };
  const state: E2eState = {
    gateway: started.gateway,
    issuer: started.issuer,
    natsUrl: `nats://test:${natsTestPassword}@127.0.0.1:${natsPort}`,
    databaseUrl,
    schemas,
    callerKeys,
    logDir: path.join(stateDir, 'logs'),
    stateDir,
    launcherPid: child.pid ?? 0,
    launcherStateFile: launcherState,
    rpcTimeoutMs,
    gpconnectUrl: `http://127.0.0.1:${gpconnectPort}`,
    smtpRelayPort: relayPort,
    pids: started.pids,
  };
  const stateFile = path.join(stateDir, 'e2e.json');
  writeFileSync(stateFile, JSON.stringify(state, null, 2), { mode: 0o600 });
  process.env[STATE_ENV] = stateFile;
}
