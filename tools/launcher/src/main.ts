import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  createWriteStream,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  writeFileSync,
  type WriteStream,
} from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { SERVICES, serviceVariables, streamingEnvironment } from '@platform/shared-catalogue';
import {
  callerKeyEnvironment,
  GATEWAY_ISSUER,
  generatePlatformCallerKeys,
  type PlatformCallerKeys,
} from '@platform/shared-nats';
import { ensureNats, ensurePostgres, stopChild, type NatsProcess, type Stoppable } from './infrastructure';
import { GATEWAY_NATS_USER } from './nats-auth';
import { RestartPolicy, restartSettingsFrom } from './restart-policy';

/**
 * `npm start`: one command for the whole platform on embedded defaults. Starts (or reuses) PostgreSQL and
 * NATS, then the identity provider, every service and the gateway as separate processes with labelled
 * output, waits until each is ready and prints how to use it. Ctrl-C stops everything it started.
 *
 * It also supervises them, as Kubernetes would: a process that dies (and the nats-server it started) is
 * restarted with exponential back-off; one that stops answering /health/live is killed and restarted; one
 * that keeps dying (LAUNCHER_MAX_RESTARTS within LAUNCHER_RESTART_WINDOW_MS) stops the whole platform with
 * exit code 1. LAUNCHER_STATE_FILE always holds the current process IDs.
 */

const root = path.resolve(__dirname, '../../../..');
const args = new Set(process.argv.slice(2));
const sandbox = args.has('--sandbox') || /^(true|1|yes)$/i.test(process.env['SANDBOX'] ?? '');
const env = process.env;
/** What every process inherits: the launcher's environment without the secrets meant for the launcher. */
const childEnv: NodeJS.ProcessEnv = { ...env };
delete childEnv['LAUNCHER_NATS_TEST_PASSWORD'];
const host = '127.0.0.1';
const ports = {
  gateway: Number(env['GATEWAY_PORT'] ?? 8080),
  idp: Number(env['IDP_PORT'] ?? 8081),
  postgres: Number(env['EMBEDDED_POSTGRES_PORT'] ?? 54329),
  gpconnect: Number(env['GPCONNECT_SIMULATOR_PORT'] ?? 9480),
};
const dataDir = path.resolve(env['PLATFORM_DATA_DIR'] ?? path.join(root, 'tmp'));
const logDir = env['LOG_DIR'] ? path.resolve(env['LOG_DIR']) : undefined;
const stateFile = env['LAUNCHER_STATE_FILE'];
/**
 * NATS_URL set: that server, as given, when it answers (its credentials come from the URL); otherwise the
 * launcher starts a secured nats-server there. Unset: the launcher's own secured nats-server on 127.0.0.1:4223
 * (not 4222, so that it never mistakes a machine's open NATS for its own). See infrastructure.ts, ensureNats.
 */
const natsUrl = env['NATS_URL'] ?? 'nats://127.0.0.1:4223';
const issuer = `http://${host}:${ports.idp}/realms/nhs`;

const COLOURS: Record<string, string> = {
  launcher: '1',
  'identity-provider': '35',
  gateway: '33',
  ...Object.fromEntries(SERVICES.map((service) => [service.name, service.colour])),
};
const useColour = process.stdout.isTTY === true;
const logFiles = new Map<string, WriteStream>();

function print(name: string, line: string): void {
  const label = `[${name}]`.padEnd(20);
  process.stdout.write(useColour ? `\x1b[${COLOURS[name] ?? '0'}m${label}\x1b[0m ${line}\n` : `${label} ${line}\n`);
  logFiles.get(name)?.write(`${line}\n`);
}
const say = (line: string): void => print('launcher', line);

interface ServiceSpec {
  name: string;
  entry: string;
  env: Record<string, string>;
  readyUrl: string;
  /** Polled while the process runs: failing LIVENESS_FAILURES times in a row gets it killed and restarted. */
  liveUrl?: string;
}

const restartSettings = restartSettingsFrom(env);
const LIVENESS_EVERY_MS = Number(env['LAUNCHER_LIVENESS_EVERY_MS'] ?? 5000);
/** How long every process has to become ready at start (a loaded machine starts a dozen Node processes slowly). */
const READY_TIMEOUT_MS = Number(env['LAUNCHER_READY_TIMEOUT_MS'] ?? 60_000);
const LIVENESS_FAILURES = 3;

const running = new Map<string, ChildProcess>();
const policies = new Map<string, RestartPolicy>();
const restartCounts = new Map<string, number>();
const infrastructure: Stoppable[] = [];
let nats: NatsProcess | undefined;
let stopping = false;
/** Set once the first start-up is over: from then on the launcher restarts what dies. */
let supervising = false;

function policyOf(name: string): RestartPolicy {
  let policy = policies.get(name);
  if (!policy) {
    policy = new RestartPolicy(restartSettings);
    policies.set(name, policy);
  }
  return policy;
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

function startService(spec: ServiceSpec): ChildProcess {
  if (logDir && !logFiles.has(spec.name))
    logFiles.set(spec.name, createWriteStream(path.join(logDir, `${spec.name}.log`), { flags: 'a' }));
  const child = spawn(process.execPath, ['--enable-source-maps', path.join(root, 'dist', spec.entry)], {
    env: { ...childEnv, ...spec.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) => print(spec.name, line));
  }
  const startedAt = Date.now();
  child.once('exit', (code, signal) => {
    if (running.get(spec.name) === child) running.delete(spec.name);
    onExit(spec, `${signal ?? `code ${code}`}`, Date.now() - startedAt);
  });
  running.set(spec.name, child);
  return child;
}

/** A process died: restart it after its back-off, or stop everything when it keeps dying. */
function onExit(spec: ServiceSpec, how: string, upMs: number): void {
  // Ctrl-C in a terminal reaches the children too, sometimes just before the launcher itself: wait a moment.
  setTimeout(() => {
    if (stopping) return;
    if (!supervising) {
      say(`${spec.name} exited (${how}) during start-up`);
      return;
    }
    const decision = policyOf(spec.name).onExit(Date.now(), upMs);
    if (!decision.restart) {
      say(
        `${spec.name} exited (${how}) and keeps dying: ${decision.restartsInWindow} restarts within ${seconds(restartSettings.windowMs)}; stopping the platform`,
      );
      void shutdown(1);
      return;
    }
    const diedAt = Date.now();
    say(
      `${spec.name} exited (${how}) after ${seconds(upMs)}; restarting in ${seconds(decision.delayMs)} (restart ${decision.attempt} within ${seconds(restartSettings.windowMs)})`,
    );
    setTimeout(() => {
      if (stopping) return;
      const child = startService(spec);
      restartCounts.set(spec.name, (restartCounts.get(spec.name) ?? 0) + 1);
      writeState();
      waitReady(spec, 120_000, child).then(
        () => say(`${spec.name} is back (pid ${child.pid}), ready ${seconds(Date.now() - diedAt)} after it exited`),
        (error: unknown) => say(`${spec.name}: ${error instanceof Error ? error.message : String(error)}`),
      );
    }, decision.delayMs);
  }, 100);
}

/** The nats-server the launcher started died: the same, with the same back-off and limit. */
function superviseNats(server: NatsProcess): void {
  let startedAt = Date.now();
  server.onExit((code, signal) => {
    const upMs = Date.now() - startedAt;
    setTimeout(() => {
      if (stopping || !supervising) return;
      const decision = policyOf('nats-server').onExit(Date.now(), upMs);
      if (!decision.restart) {
        say(
          `nats-server keeps dying: ${decision.restartsInWindow} restarts within ${seconds(restartSettings.windowMs)}; stopping the platform`,
        );
        void shutdown(1);
        return;
      }
      const diedAt = Date.now();
      say(
        `nats-server exited (${signal ?? `code ${code}`}); restarting in ${seconds(decision.delayMs)} (restart ${decision.attempt})`,
      );
      setTimeout(() => {
        if (stopping) return;
        startedAt = Date.now();
        server.restart().then(
          () => {
            restartCounts.set('nats-server', (restartCounts.get('nats-server') ?? 0) + 1);
            writeState();
            say(
              `nats-server is back (pid ${server.pid}), answering ${seconds(Date.now() - diedAt)} after it exited; the services reconnect by themselves`,
            );
          },
          (error: unknown) => say(`nats-server: ${error instanceof Error ? error.message : String(error)}`),
        );
      }, decision.delayMs);
    }, 100);
  });
}

/** Kills (and so restarts) a process that stops answering its liveness endpoint, as the kubelet would. */
function watchLiveness(specs: ServiceSpec[]): void {
  const failures = new Map<string, number>();
  const timer = setInterval(() => {
    for (const spec of specs) {
      const child = running.get(spec.name);
      if (!spec.liveUrl || !child || stopping) continue;
      fetch(spec.liveUrl, { signal: AbortSignal.timeout(3000) })
        .then(
          (response) => (response.ok ? undefined : `answered ${response.status}`),
          (error: unknown) =>
            error instanceof Error && error.name === 'TimeoutError' ? 'no answer within 3 s' : 'not listening',
        )
        .then(
          (problem) => {
            if (running.get(spec.name) !== child) return;
            if (!problem || problem === 'not listening') {
              // Not listening is a process still starting (or already gone, which its exit handles).
              failures.set(spec.name, 0);
              return;
            }
            const count = (failures.get(spec.name) ?? 0) + 1;
            failures.set(spec.name, count);
            if (count >= LIVENESS_FAILURES) {
              failures.set(spec.name, 0);
              say(
                `${spec.name} failed its liveness check ${count} times in a row (${problem}); killing pid ${child.pid}`,
              );
              child.kill('SIGKILL');
            }
          },
          () => undefined,
        );
    }
  }, LIVENESS_EVERY_MS);
  timer.unref();
}

async function waitReady(spec: ServiceSpec, timeoutMs: number, child = running.get(spec.name)): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!child || child.exitCode !== null || child.signalCode !== null)
      throw new Error(`${spec.name} exited before it was ready`);
    try {
      const response = await fetch(spec.readyUrl, { signal: AbortSignal.timeout(2000) });
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${spec.name} was not ready within ${timeoutMs / 1000} s (${spec.readyUrl})`);
}

/** The current process IDs (and restart counts) for the e2e setup and for people, replaced atomically. */
function writeState(): void {
  if (!stateFile) return;
  const pids: Record<string, number | undefined> = Object.fromEntries(
    [...running.entries()].map(([name, child]) => [name, child.pid]),
  );
  if (nats?.pid) pids['nats-server'] = nats.pid;
  const state = {
    pids,
    restarts: Object.fromEntries(restartCounts),
    gateway: `http://${host}:${ports.gateway}`,
    issuer,
  };
  writeFileSync(`${stateFile}.tmp`, JSON.stringify(state, null, 2));
  renameSync(`${stateFile}.tmp`, stateFile);
}

async function shutdown(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    say('stopping...');
    await Promise.all([...running.values()].map((child) => stopChild(child, 10_000)));
    for (const item of infrastructure.reverse()) {
      await item.stop().catch((error: unknown) => say(`could not stop ${item.describe}: ${String(error)}`));
    }
    for (const stream of logFiles.values()) stream.end();
    say('stopped');
  }
  process.exit(code);
}

function banner(): string {
  const gateway = `http://${host}:${ports.gateway}`;
  const lines = [
    '',
    `The platform is running${sandbox ? ' in NHS sandbox mode (FHIR APIs open, no token needed)' : ''}.`,
    `  Gateway          ${gateway}`,
    `  OpenAPI          ${gateway}/docs`,
    `  PDS FHIR API     ${gateway}/personal-demographics/FHIR/R4/Patient/9000000009`,
    `  N3 registry      ${gateway}/n3/organisations/VNE51, ${gateway}/n3/ip-owner?ip=192.168.8.20`,
    `  EPS              ${gateway}/fhir-prescribing/FHIR/R4/$prepare, ${gateway}/fhir-dispensing/FHIR/R4/Task/$release`,
    `  Identity (OIDC)  ${issuer}  (Keycloak-compatible; discovery at /.well-known/openid-configuration)`,
    `  Health/metrics   ${gateway}/health/ready, ${gateway}/metrics`,
    '',
    '  Demo users (password "demo"): clinician, pharmacist, provider-clinician, practice-admin, registry-admin, ops, patient',
    ports.idp === 8081
      ? '  Get a token:     TOKEN=$(npm run -s token -- clinician)'
      : `  Get a token:     TOKEN=$(IDP_URL=${issuer} npm run -s token -- clinician)`,
    `  Read a patient:  curl -H "Authorization: Bearer $TOKEN" -H "X-Request-ID: $(cat /proc/sys/kernel/random/uuid)" \\`,
    `                     ${gateway}/personal-demographics/FHIR/R4/Patient/9000000009`,
    '',
    'Ctrl-C stops everything.',
  ];
  return lines.join('\n');
}

/**
 * The NHSmail relay's STARTTLS certificate for a local run: NHSMAIL_TLS_CERT/KEY when given, otherwise a
 * self-signed pair for 127.0.0.1 made once with the openssl CLI under the data folder (local use only).
 */
function nhsmailTlsEnvironment(): Record<string, string> {
  if (env['NHSMAIL_TLS_CERT'] && env['NHSMAIL_TLS_KEY']) {
    return { NHSMAIL_TLS_CERT: env['NHSMAIL_TLS_CERT'], NHSMAIL_TLS_KEY: env['NHSMAIL_TLS_KEY'] };
  }
  const dir = path.join(dataDir, 'nhsmail-tls');
  const cert = path.join(dir, 'local-self-signed.crt');
  const key = path.join(dir, 'local-self-signed.key');
  if (!existsSync(cert) || !existsSync(key)) {
    mkdirSync(dir, { recursive: true });
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '365']
        .concat(['-subj', '/CN=nhsmail-relay local', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'])
        .concat(['-keyout', key, '-out', cert]),
      { stdio: 'ignore' },
    );
  }
  return { NHSMAIL_TLS_CERT: cert, NHSMAIL_TLS_KEY: key };
}

/**
 * The NHSmail relay's [secure] mail key for a local run: NHSMAIL_SECURE_KEYS when given, otherwise a random
 * AES-256 key made once under the data folder (so stored secure messages stay readable across restarts).
 */
function nhsmailSecureEnvironment(gatewayUrl: string): Record<string, string> {
  const page = { NHSMAIL_SECURE_PAGE_URL: env['NHSMAIL_SECURE_PAGE_URL'] ?? gatewayUrl };
  if (env['NHSMAIL_SECURE_KEYS']) return { ...page, NHSMAIL_SECURE_KEYS: env['NHSMAIL_SECURE_KEYS'] };
  return { ...page, NHSMAIL_SECURE_KEYS: `local-1:${localSecret('nhsmail-secure/local.key')}` };
}

/**
 * GP2GP's attachment-link key for a local run: GP2GP_LINK_SECRET when given, otherwise one made once under the
 * data folder, so a link handed out before gp2gp restarts (the launcher restarts a process that died) still
 * works after it, as it does across replicas in a cluster (the chart's gp2gp-links Secret).
 */
function gp2gpLinkEnvironment(): Record<string, string> {
  return { GP2GP_LINK_SECRET: env['GP2GP_LINK_SECRET'] ?? localSecret('gp2gp-links/local.key') };
}

/**
 * The gateway's key for e-RS A042 content locations: GATEWAY_ERS_LINK_SECRET when given, otherwise one made once
 * under the data folder, so a location handed out before the gateway restarts still works after it (the chart's
 * ers-links Secret does the same across replicas).
 */
function ersLinkEnvironment(): Record<string, string> {
  return { GATEWAY_ERS_LINK_SECRET: env['GATEWAY_ERS_LINK_SECRET'] ?? localSecret('ers-links/local.key') };
}

/** 32 random bytes (base64) kept in a 0600 file under the data folder: made on the first run, read after. */
function localSecret(relativePath: string): string {
  const file = path.join(dataDir, relativePath);
  if (!existsSync(file)) {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, randomBytes(32).toString('base64'), { mode: 0o600 });
  }
  return readFileSync(file, 'utf8').trim();
}

async function main(): Promise<void> {
  process.on('SIGINT', () => void shutdown(0));
  process.on('SIGTERM', () => void shutdown(0));
  if (logDir) mkdirSync(logDir, { recursive: true });

  mkdirSync(dataDir, { recursive: true });
  const natsSetup = await ensureNats(
    {
      url: natsUrl,
      explicit: env['NATS_URL'] !== undefined,
      dataDir,
      testPassword: env['LAUNCHER_NATS_TEST_PASSWORD'] || undefined,
    },
    say,
  );
  nats = natsSetup.server;
  if (nats) {
    infrastructure.push(nats);
    superviseNats(nats);
  }
  const postgres = await ensurePostgres(env['DATABASE_URL'], path.join(dataDir, 'postgres'), ports.postgres, say);
  if (postgres.stoppable) infrastructure.push(postgres.stoppable);

  // NATS_URL is per process: each its own user and password when the launcher started NATS.
  const shared = { LOG_LEVEL: env['LOG_LEVEL'] ?? 'info' };
  // Caller trust (ADR 0014): each process gets its own signing key and every process the set of public keys.
  // New keys every start, never written to disk, unless the caller hands a set over (tests, benchmarks).
  const callerKeys: PlatformCallerKeys = env['PLATFORM_CALLER_KEYS']
    ? (JSON.parse(env['PLATFORM_CALLER_KEYS']) as PlatformCallerKeys)
    : await generatePlatformCallerKeys(SERVICES.map((service) => service.name));
  const specs: ServiceSpec[] = [
    {
      name: 'identity-provider',
      entry: 'apps/identity-provider/src/main.js',
      env: { ...shared, IDP_HOST: host, IDP_PORT: String(ports.idp) },
      readyUrl: `${issuer}/.well-known/openid-configuration`,
    },
    // Every national-application service in the catalogue, on its own health port and schema.
    ...SERVICES.map((service): ServiceSpec => {
      const variables = serviceVariables(service);
      const port = Number(env[variables.httpPort] ?? service.healthPort);
      return {
        name: service.name,
        entry: service.entry,
        env: {
          ...shared,
          NATS_URL: natsSetup.urlFor(service.name),
          ...callerKeyEnvironment(callerKeys, service.name),
          DATABASE_URL: postgres.url,
          [variables.httpHost]: host,
          [variables.httpPort]: String(port),
          ...(service.sandboxSeed && { [variables.seed]: env[variables.seed] ?? 'sandbox' }),
          ...(service.streamsLargeBodies && streamingEnvironment(env, service.semiSpaceMiB)),
          ...(service.name === 'gp2gp' && gp2gpLinkEnvironment()),
          // The NHSmail relay's SMTP ports (NHSMAIL_SUBMISSION_PORT, NHSMAIL_RELAY_PORT: 2587 and 2525 unless set),
          // its STARTTLS certificate, and the identity provider whose tokens XOAUTH2 takes.
          ...(service.name === 'nhsmail-relay' && {
            ...nhsmailTlsEnvironment(),
            ...nhsmailSecureEnvironment(`http://${host}:${ports.gateway}`),
            NHSMAIL_SMTP_HOST: host,
            OIDC_ISSUER: issuer,
          }),
        },
        readyUrl: `http://${host}:${port}/health/ready`,
        liveUrl: `http://${host}:${port}/health/live`,
      };
    }),
    // Not a platform service: a stand-in for the demo practices' clinical systems, which GP2GP fetches from.
    {
      name: 'gpconnect-simulator',
      entry: 'tools/gpconnect-simulator/src/main.js',
      env: { GPCONNECT_SIMULATOR_HOST: host, GPCONNECT_SIMULATOR_PORT: String(ports.gpconnect) },
      readyUrl: `http://${host}:${ports.gpconnect}/health/ready`,
    },
    {
      name: 'gateway',
      entry: 'apps/gateway/src/main.js',
      env: {
        ...shared,
        NATS_URL: natsSetup.urlFor(GATEWAY_NATS_USER),
        ...callerKeyEnvironment(callerKeys, GATEWAY_ISSUER),
        GATEWAY_HOST: host,
        GATEWAY_PORT: String(ports.gateway),
        OIDC_ISSUER: issuer,
        SANDBOX: String(sandbox),
        ...ersLinkEnvironment(),
        ...streamingEnvironment(env),
      },
      readyUrl: `http://${host}:${ports.gateway}/health/ready`,
      liveUrl: `http://${host}:${ports.gateway}/health/live`,
    },
  ];
  for (const spec of specs) startService(spec);
  await Promise.all(specs.map((spec) => waitReady(spec, READY_TIMEOUT_MS)));
  supervising = true;
  watchLiveness(specs);
  writeState();
  say(banner());
}

main().catch((error: unknown) => {
  say(`failed: ${error instanceof Error ? error.message : String(error)}`);
  void shutdown(1);
});
