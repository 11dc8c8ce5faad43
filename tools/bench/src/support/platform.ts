import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { SERVICES, serviceVariables } from '@platform/shared-catalogue';
import {
  signerFrom,
  type CallerAssertionSigner,
  GATEWAY_ISSUER,
  generatePlatformCallerKeys,
} from '@platform/shared-nats';
import type { Cleanup } from './cleanup';
import { assertPortsFree, exited, isAlive, runToCompletion, signal, waitGone, whenExited } from './children';
import type { Progress } from './progress';

/**
 * The ports of the platform a benchmark starts (apart from the usual ones, so `npm start` can run beside it):
 * the gateway, the identity provider and each service of the catalogue (its health port + 20000, or
 * BENCH_<PREFIX>_PORT).
 */
export const PORTS: { gateway: number; idp: number } & Record<string, number> = {
  gateway: Number(process.env['BENCH_GATEWAY_PORT'] ?? 28080),
  idp: Number(process.env['BENCH_IDP_PORT'] ?? 28081),
  ...Object.fromEntries(
    SERVICES.map((service) => [
      service.name,
      Number(process.env[`BENCH_${service.envPrefix}_PORT`] ?? service.healthPort + 20000),
    ]),
  ),
};

/** How every benchmark runs the platform unless it says otherwise (and what its reports say it ran with). */
export const PLATFORM_DEFAULTS = {
  /** pds's pool (the baselines get the same). */
  poolSize: 10,
  /** The platform's logging is not what is measured. */
  logLevel: 'warn',
  /** RATE_LIMIT_PER_CLIENT and RATE_LIMIT_BURST: one client sends the whole load, so it must never be refused. */
  rateLimit: 1_000_000,
  /** IDP_ACCESS_TOKEN_TTL: access tokens must outlive the whole benchmark. */
  tokenTtlSeconds: 86_400,
} as const;

export interface PlatformSettings {
  /** Repository root (the built platform is under dist/). */
  root: string;
  /** Folder for the state file and the launcher's log. */
  workDir: string;
  ports: { gateway: number; idp: number } & Record<string, number>;
  databaseUrl: string;
  natsUrl: string;
  /** PDS_DB_SCHEMA of the pds service. */
  schema: string;
  /** Other services' schemas by service name (default: the pds schema's name, `_`, the service's schema). */
  schemas?: Record<string, string>;
  /** More environment for every platform process (rate limits, profiler preload...). */
  env?: Record<string, string>;
  /** Copy the platform's output to the console as well as to the log file. */
  verbose: boolean;
}

export interface RunningPlatform {
  gatewayUrl: string;
  issuer: string;
  /** Process ids of the services the launcher started, by name (gateway, pds, identity-provider). */
  pids: Record<string, number>;
  /** Signs as the platform's gateway, for a benchmark that sets up data over NATS (the launcher was given its keys). */
  gatewaySigner: CallerAssertionSigner;
  /**
   * NATS_URL for a benchmark's own connection: settings.natsUrl with the launcher's `test` user (its calls and
   * stream info, as the gateway) when it carries no credentials. A server the launcher started itself is
   * secured and needs them; an open one (the machine's NATS) ignores them.
   */
  natsUrl: string;
  /** An access token for that demo user, from the platform's identity provider. */
  token(role: string): Promise<string>;
  stop(): Promise<void>;
}

interface LauncherState {
  pids: Record<string, number>;
  gateway: string;
  issuer: string;
}

const START_TIMEOUT_MS = 120_000;
const LAUNCHER_STOP_GRACE_MS = 30_000;
const TAIL_LINES = 40;

/** Each catalogue service's port, schema, pool and sandbox data for a benchmark's platform. */
function serviceEnvironment(settings: PlatformSettings): Record<string, string> {
  const env: Record<string, string> = {};
  for (const service of SERVICES) {
    const variables = serviceVariables(service);
    env[variables.httpPort] = String(settings.ports[service.name]);
    env[variables.schema] =
      service.name === 'pds'
        ? settings.schema
        : (settings.schemas?.[service.name] ?? `${settings.schema}_${service.schema}`);
    env[variables.poolSize] = String(PLATFORM_DEFAULTS.poolSize);
    if (service.sandboxSeed) env[variables.seed] = 'sandbox';
  }
  return env;
}

/**
 * Starts the whole platform through its own launcher (`dist/tools/launcher/src/main.js`), as `npm start`
 * would, and waits for the launcher's state file, which it writes once every service is ready. The
 * launcher runs in its own process group so a Ctrl-C reaches it once, from this benchmark.
 */
export async function startPlatform(
  settings: PlatformSettings,
  progress: Progress,
  cleanup: Cleanup,
): Promise<RunningPlatform> {
  await assertPortsFree(settings.ports);
  mkdirSync(settings.workDir, { recursive: true });
  const stateFile = path.join(settings.workDir, 'launcher-state.json');
  const logFile = path.join(settings.workDir, 'platform.log');
  rmSync(stateFile, { force: true });

  const callerKeys = await generatePlatformCallerKeys(SERVICES.map((service) => service.name));
  const natsTestPassword = randomBytes(24).toString('hex');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    LAUNCHER_NATS_TEST_PASSWORD: natsTestPassword,
    PLATFORM_CALLER_KEYS: JSON.stringify(callerKeys),
    GATEWAY_PORT: String(settings.ports.gateway),
    IDP_PORT: String(settings.ports.idp),
    DATABASE_URL: settings.databaseUrl,
    NATS_URL: settings.natsUrl,
    ...serviceEnvironment(settings),
    LOG_LEVEL: PLATFORM_DEFAULTS.logLevel,
    LOG_DIR: path.join(settings.workDir, 'logs'),
    LAUNCHER_STATE_FILE: stateFile,
    IDP_ACCESS_TOKEN_TTL: String(PLATFORM_DEFAULTS.tokenTtlSeconds),
    RATE_LIMIT_PER_CLIENT: String(PLATFORM_DEFAULTS.rateLimit),
    RATE_LIMIT_BURST: String(PLATFORM_DEFAULTS.rateLimit),
    // Never the open sandbox mode, whatever the caller's environment says: the figures include authentication.
    SANDBOX: 'false',
    ...settings.env,
  };
  const launcher = spawn(process.execPath, [path.join(settings.root, 'dist/tools/launcher/src/main.js')], {
    cwd: settings.root,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const launcherPid = launcher.pid;
  if (launcherPid === undefined) throw new Error('could not start the launcher');
  const log = createWriteStream(logFile, { flags: 'w' });
  const tail: string[] = [];
  for (const stream of [launcher.stdout, launcher.stderr]) {
    createInterface({ input: stream }).on('line', (line) => {
      log.write(`${line}\n`);
      tail.push(line);
      if (tail.length > TAIL_LINES) tail.shift();
      if (settings.verbose) progress.say(`platform | ${line}`);
    });
  }
  let servicePids: number[] = [];
  const describeTail = (): string =>
    `\n--- last lines of the platform's output (all in ${path.relative(settings.root, logFile)}) ---\n${tail.join('\n')}`;

  let stopping: Promise<void> | undefined;
  const stopOnce = async (): Promise<void> => {
    if (!exited(launcher)) {
      const timer = setTimeout(() => signal(-launcherPid, 'SIGKILL'), LAUNCHER_STOP_GRACE_MS);
      signal(launcherPid, 'SIGTERM');
      await whenExited(launcher);
      clearTimeout(timer);
    }
    const left = await waitGone(servicePids, 5000);
    for (const pid of left) signal(pid, 'SIGKILL');
    const stubborn = await waitGone(left, 5000);
    log.end();
    if (left.length > 0) progress.say(`killed ${left.length} platform process(es) the launcher left behind`);
    if (stubborn.length > 0) throw new Error(`platform processes still running: ${stubborn.join(', ')}`);
  };
  const stop = (): Promise<void> => (stopping ??= stopOnce());
  cleanup.add({
    describe: 'stop the platform',
    run: stop,
    force: () => {
      signal(-launcherPid, 'SIGKILL');
      for (const pid of servicePids) signal(pid, 'SIGKILL');
    },
  });

  const started = Date.now();
  const countdown = progress.phase(
    'starting the platform (launcher: identity provider, pds, n3-registry, gateway)',
    START_TIMEOUT_MS / 1000,
  );
  let state: LauncherState | undefined;
  try {
    while (!state) {
      if (exited(launcher)) throw new Error(`the launcher exited before the platform was ready${describeTail()}`);
      if (Date.now() - started > START_TIMEOUT_MS)
        throw new Error(`the platform was not ready within ${START_TIMEOUT_MS / 1000} s${describeTail()}`);
      if (existsSync(stateFile)) {
        try {
          state = JSON.parse(readFileSync(stateFile, 'utf8')) as LauncherState;
        } catch {
          // being written
        }
      }
      if (!state) await new Promise((resolve) => setTimeout(resolve, 200));
    }
  } finally {
    countdown.end();
  }
  servicePids = Object.values(state.pids).filter((pid) => Number.isInteger(pid) && isAlive(pid));
  progress.say(`platform ready in ${((Date.now() - started) / 1000).toFixed(1)} s (gateway ${state.gateway})`);

  return {
    gatewayUrl: state.gateway,
    gatewaySigner: signerFrom(callerKeys, GATEWAY_ISSUER),
    issuer: state.issuer,
    natsUrl: settings.natsUrl.includes('@')
      ? settings.natsUrl
      : settings.natsUrl.replace(/^(nats:\/\/)?/, `nats://test:${natsTestPassword}@`),
    pids: state.pids,
    stop,
    token: async (role: string): Promise<string> => {
      let child: ChildProcess | undefined;
      const unregister = cleanup.add({
        describe: 'stop the token command',
        run: () => {
          child?.kill('SIGKILL');
          return Promise.resolve();
        },
      });
      try {
        const output = await runToCompletion(
          process.execPath,
          [path.join(settings.root, 'dist/apps/identity-provider/src/token.cli.js'), role],
          {
            cwd: settings.root,
            env: { ...process.env, IDP_URL: state.issuer },
            timeoutMs: 30_000,
            onStart: (started) => (child = started),
          },
        );
        const token = output.trim();
        if (!/^[\w-]+\.[\w-]+\.[\w-]+$/.test(token)) throw new Error('the token command did not print a JWT');
        return token;
      } finally {
        unregister();
      }
    },
  };
}
