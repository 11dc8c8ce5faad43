import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, writeFileSync, type WriteStream } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { ensureNats, ensurePostgres, stopChild, type Stoppable } from './infrastructure';

/**
 * `npm start`: one command for the whole platform on embedded defaults. Starts (or reuses) PostgreSQL and
 * NATS, then the identity provider, every service and the gateway as separate processes with labelled
 * output, waits until each is ready and prints how to use it. Ctrl-C stops everything it started.
 */

const root = path.resolve(__dirname, '../../../..');
const args = new Set(process.argv.slice(2));
const sandbox = args.has('--sandbox') || /^(true|1|yes)$/i.test(process.env['SANDBOX'] ?? '');
const env = process.env;
const host = '127.0.0.1';
const ports = {
  gateway: Number(env['GATEWAY_PORT'] ?? 8080),
  idp: Number(env['IDP_PORT'] ?? 8081),
  pds: Number(env['PDS_HTTP_PORT'] ?? 9464),
  n3: Number(env['N3_HTTP_PORT'] ?? 9465),
  eps: Number(env['EPS_HTTP_PORT'] ?? 9466),
  postgres: Number(env['EMBEDDED_POSTGRES_PORT'] ?? 54329),
};
const dataDir = path.resolve(env['PLATFORM_DATA_DIR'] ?? path.join(root, 'tmp'));
const logDir = env['LOG_DIR'] ? path.resolve(env['LOG_DIR']) : undefined;
const stateFile = env['LAUNCHER_STATE_FILE'];
const natsUrl = env['NATS_URL'] ?? 'nats://127.0.0.1:4222';
const issuer = `http://${host}:${ports.idp}/realms/nhs`;

const COLOURS: Record<string, string> = {
  launcher: '1',
  'identity-provider': '35',
  pds: '36',
  'n3-registry': '32',
  eps: '34',
  gateway: '33',
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
}

const running = new Map<string, ChildProcess>();
const infrastructure: Stoppable[] = [];
let stopping = false;

function startService(spec: ServiceSpec): ChildProcess {
  if (logDir) logFiles.set(spec.name, createWriteStream(path.join(logDir, `${spec.name}.log`), { flags: 'a' }));
  const child = spawn(process.execPath, ['--enable-source-maps', path.join(root, 'dist', spec.entry)], {
    env: { ...env, ...spec.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) => print(spec.name, line));
  }
  child.once('exit', (code, signal) => {
    running.delete(spec.name);
    if (!stopping) say(`${spec.name} exited (${signal ?? `code ${code}`}); the rest of the platform keeps running`);
  });
  running.set(spec.name, child);
  return child;
}

async function waitReady(spec: ServiceSpec, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!running.has(spec.name)) throw new Error(`${spec.name} exited before it was ready`);
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

async function main(): Promise<void> {
  process.on('SIGINT', () => void shutdown(0));
  process.on('SIGTERM', () => void shutdown(0));
  if (logDir) mkdirSync(logDir, { recursive: true });

  const nats = await ensureNats(natsUrl, path.join(dataDir, 'nats'), say);
  if (nats) infrastructure.push(nats);
  const postgres = await ensurePostgres(env['DATABASE_URL'], path.join(dataDir, 'postgres'), ports.postgres, say);
  if (postgres.stoppable) infrastructure.push(postgres.stoppable);

  const shared = { NATS_URL: natsUrl, LOG_LEVEL: env['LOG_LEVEL'] ?? 'info' };
  const specs: ServiceSpec[] = [
    {
      name: 'identity-provider',
      entry: 'apps/identity-provider/src/main.js',
      env: { ...shared, IDP_HOST: host, IDP_PORT: String(ports.idp) },
      readyUrl: `${issuer}/.well-known/openid-configuration`,
    },
    {
      name: 'pds',
      entry: 'apps/pds/src/main.js',
      env: {
        ...shared,
        DATABASE_URL: postgres.url,
        PDS_HTTP_HOST: host,
        PDS_HTTP_PORT: String(ports.pds),
        PDS_SEED: env['PDS_SEED'] ?? 'sandbox',
      },
      readyUrl: `http://${host}:${ports.pds}/health/ready`,
    },
    {
      name: 'n3-registry',
      entry: 'apps/n3-registry/src/main.js',
      env: {
        ...shared,
        DATABASE_URL: postgres.url,
        N3_HTTP_HOST: host,
        N3_HTTP_PORT: String(ports.n3),
        N3_SEED: env['N3_SEED'] ?? 'sandbox',
      },
      readyUrl: `http://${host}:${ports.n3}/health/ready`,
    },
    {
      name: 'eps',
      entry: 'apps/eps/src/main.js',
      env: { ...shared, DATABASE_URL: postgres.url, EPS_HTTP_HOST: host, EPS_HTTP_PORT: String(ports.eps) },
      readyUrl: `http://${host}:${ports.eps}/health/ready`,
    },
    {
      name: 'gateway',
      entry: 'apps/gateway/src/main.js',
      env: {
        ...shared,
        GATEWAY_HOST: host,
        GATEWAY_PORT: String(ports.gateway),
        OIDC_ISSUER: issuer,
        SANDBOX: String(sandbox),
      },
      readyUrl: `http://${host}:${ports.gateway}/health/ready`,
    },
  ];
  for (const spec of specs) startService(spec);
  await Promise.all(specs.map((spec) => waitReady(spec, 60_000)));
  if (stateFile) {
    const pids = Object.fromEntries([...running.entries()].map(([name, child]) => [name, child.pid]));
    writeFileSync(stateFile, JSON.stringify({ pids, gateway: `http://${host}:${ports.gateway}`, issuer }, null, 2));
  }
  say(banner());
}

main().catch((error: unknown) => {
  say(`failed: ${error instanceof Error ? error.message : String(error)}`);
  void shutdown(1);
});
