import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { testCallerEnvironment } from './caller-keys';
import { freePort } from '@platform/shared-testing';

const ROOT = path.resolve(__dirname, '../../../..');

export interface BuiltService {
  stop(): Promise<void>;
}

/**
 * Starts another service of the platform from `dist/` (as the launcher does; `npm test` builds first), for
 * a test of a service that calls it over NATS; resolves once its `/health/ready` answers 200. `entry` is
 * relative to `dist/`, `portVariable` the service's health port variable.
 */
export async function startBuiltService(
  entry: string,
  portVariable: string,
  env: Record<string, string>,
): Promise<BuiltService> {
  const main = path.join(ROOT, 'dist', entry);
  if (!existsSync(main)) throw new Error(`${main} is missing: run \`npm run build\` first`);
  const port = await freePort();
  // apps/<name>/src/main.js: the service's name, for its caller keys.
  const name = entry.split('/')[1] ?? entry;
  const child = spawn(process.execPath, [main], {
    cwd: ROOT,
    env: {
      ...process.env,
      LOG_LEVEL: 'warn',
      ...(await testCallerEnvironment(name)),
      ...env,
      [portVariable]: String(port),
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const stop = (): Promise<void> =>
    new Promise((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
    });
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${entry} exited with ${child.exitCode}: ${stderr}`);
    try {
      const response = await fetch(`http://127.0.0.1:${port}/health/ready`, { signal: AbortSignal.timeout(1000) });
      if (response.ok) return { stop };
    } catch {
      // not yet listening
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`${entry} was not ready within 30 s: ${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
}
