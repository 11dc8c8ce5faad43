import { fork } from 'node:child_process';
import path from 'node:path';
import type { Cleanup } from '../support/cleanup';
import { stopChild } from '../support/children';
import type { BaselineReady } from './baseline-server';

export interface BaselineSettings {
  databaseUrl: string;
  schema: string;
  poolSize: number;
  /** The N3 registry's schema: serves the owner-of-IP lookup too. */
  n3Schema?: string;
  /** Extra node options for the child (the profiler preload). */
  execArgv?: string[];
  env?: Record<string, string>;
}

export interface RunningBaseline {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 20_000;

/** Forks the baseline server (its own process and event loop, like the gateway) and waits for its port. */
export function startBaseline(settings: BaselineSettings, cleanup: Cleanup): Promise<RunningBaseline> {
  return startServer(
    'baseline server',
    'baseline-server.js',
    {
      ...settings.env,
      BASELINE_DATABASE_URL: settings.databaseUrl,
      BASELINE_DB_SCHEMA: settings.schema,
      BASELINE_POOL_SIZE: String(settings.poolSize),
      ...(settings.n3Schema ? { BASELINE_N3_SCHEMA: settings.n3Schema } : {}),
    },
    settings.execArgv ?? [],
    cleanup,
  );
}

export interface SameWorkSettings {
  databaseUrl: string;
  schema: string;
  poolSize: number;
  /** The identity provider's issuer (its JWKS is at Keycloak's path under it, as the gateway assumes). */
  issuer: string;
  env?: Record<string, string>;
}

/**
 * Forks the same-work server (`same-work-server.ts`: the gateway's token checks and pds's audited read in one
 * process) and waits for its port.
 */
export function startSameWork(settings: SameWorkSettings, cleanup: Cleanup): Promise<RunningBaseline> {
  return startServer(
    'same-work server',
    'same-work-server.js',
    {
      ...settings.env,
      SAME_WORK_DATABASE_URL: settings.databaseUrl,
      SAME_WORK_DB_SCHEMA: settings.schema,
      SAME_WORK_POOL_SIZE: String(settings.poolSize),
      SAME_WORK_OIDC_ISSUER: settings.issuer,
    },
    [],
    cleanup,
  );
}

async function startServer(
  name: string,
  script: string,
  env: Record<string, string>,
  execArgv: string[],
  cleanup: Cleanup,
): Promise<RunningBaseline> {
  const child = fork(path.join(__dirname, script), [], {
    env: { ...process.env, ...env },
    execArgv,
    // Its own process group: a Ctrl-C reaches it once, through the benchmark's cleanup.
    detached: true,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => (stopping ??= stopChild(child, 5000));
  cleanup.add({ describe: `stop the ${name}`, run: stop, force: () => child.kill('SIGKILL') });

  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the ${name} did not start within 20 s`)), START_TIMEOUT_MS);
    child.once('message', (message: BaselineReady) => {
      clearTimeout(timer);
      if (message.type === 'ready' && message.port > 0) resolve(message.port);
      else reject(new Error(`the ${name} sent an unexpected message`));
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`the ${name} exited while starting (${signal ?? `exit code ${code}`})`));
    });
  });
  if (child.pid === undefined) throw new Error(`the ${name} has no process id`);
  return { url: `http://127.0.0.1:${port}`, pid: child.pid, stop };
}
