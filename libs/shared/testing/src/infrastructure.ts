import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from 'pg';

/** The real PostgreSQL the integration tests use (CI starts it when it is not running). */
export function testDatabaseUrl(): string {
  return process.env['TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
}

/** A lower-case SQL identifier unique to this test run, for a schema or a stream of one's own. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${process.pid}_${Math.random().toString(36).slice(2, 8)}`.toLowerCase();
}

export async function dropSchema(url: string, schema: string): Promise<void> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export interface TestNats {
  url: string;
  stop(): Promise<void>;
  /**
   * Kills the server outright (kill -9) and starts it again `downMs` later on the same port and store folder,
   * as a NATS restart in production: streams and their messages stay, connections drop and reconnect.
   */
  restart(downMs?: number): Promise<void>;
}

const NATS_BINARIES = ['/usr/sbin/nats-server', '/usr/bin/nats-server', '/usr/local/bin/nats-server'];

function exited(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  return new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}

/**
 * A real NATS server (the OS's nats-server, JetStream on) private to one test file, so that its services'
 * queue groups cannot be answered by a platform someone is running on the shared NATS.
 */
export async function startTestNats(): Promise<TestNats> {
  const binary = NATS_BINARIES.find((candidate) => existsSync(candidate));
  if (!binary) throw new Error('nats-server is not installed: apt-get install nats-server');
  const port = await freePort();
  const dataDir = mkdtempSync(path.join(tmpdir(), 'platform-nats-'));
  const launch = async (): Promise<ChildProcess> => {
    const started = spawn(binary, ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', dataDir], {
      stdio: 'ignore',
    });
    for (let attempt = 0; attempt < 100 && !(await accepts(port)); attempt += 1) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return started;
  };
  let child = await launch();
  return {
    url: `nats://127.0.0.1:${port}`,
    stop: async () => {
      await exited(child, 'SIGTERM');
      rmSync(dataDir, { recursive: true, force: true });
    },
    restart: async (downMs = 0) => {
      await exited(child, 'SIGKILL');
      await new Promise((resolve) => setTimeout(resolve, downMs));
      child = await launch();
    },
  };
}
