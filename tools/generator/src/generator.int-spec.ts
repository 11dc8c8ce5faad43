// `npm run new-service` end to end, in a copy of the repository: the generated service type-checks, lints,
// builds, starts from dist/ against the real PostgreSQL and a private NATS and is ready, passes its own
// integration test, and the tests that hold the catalogue, contracts, docs, chart and kustomize overlays to the
// code pass with it. Nothing is written to this checkout.
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  dropSchema,
  freePort,
  referencePath,
  startTestNats,
  testDatabaseUrl,
  uniqueName,
  type TestNats,
} from '@platform/shared-testing';
import { testCallerKeys } from '@platform/testing-services';

const ROOT = path.resolve(__dirname, '../../..');
const SERVICE = { name: 'probe-desk', prefix: 'probe', env: 'PROBE', port: 9499 };
const GENERATE = [
  'run',
  'new-service',
  '--',
  SERVICE.name,
  '--subject-prefix',
  SERVICE.prefix,
  '--env-prefix',
  SERVICE.env,
  '--port',
  String(SERVICE.port),
];
/** What the generator writes besides its new folders, and what its post-steps rewrite. */
const CHANGED = [
  'libs/shared/catalogue/src/services.ts',
  'tsconfig.json',
  'eslint.config.mjs',
  'apps/gateway/src/gateway.module.ts',
  'apps/gateway/README.md',
  '.env.example',
  'deploy/charts/platform/values.yaml',
  'k8s/overlays/dev/kustomization.yaml',
  'k8s/overlays/prod/kustomization.yaml',
  'k8s/base/platform.yaml',
  'docs/messaging.md',
  'docs/openapi.json',
];
const GENERATED_CODE = [
  `apps/${SERVICE.name}`,
  `libs/contracts/${SERVICE.prefix}`,
  `apps/gateway/src/${SERVICE.name}`,
  'apps/gateway/src/gateway.module.ts',
  'libs/shared/catalogue/src/services.ts',
];

let copy: string;
let scratch: string;
const env: NodeJS.ProcessEnv = { ...process.env, PLATFORM_REFERENCE_DIR: referencePath() };
// The outer jest's worker identity would confuse the jest runs inside the copy.
delete env['JEST_WORKER_ID'];

function run(command: string, args: string[], cwd = copy): { status: number | null; output: string } {
  // Bounded: a step that hangs fails its test instead of holding the whole run.
  const result = spawnSync(command, args, {
    cwd,
    env,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    timeout: 150_000,
    killSignal: 'SIGKILL',
  });
  const timedOut = result.error ? `\n${command} ${args.join(' ')}: ${result.error.message}` : '';
  return { status: result.status, output: `${result.stdout}${result.stderr}${timedOut}` };
}

const bin = (tool: string): string => path.join(ROOT, 'node_modules', '.bin', tool);
const readCopy = (file: string): string => readFileSync(path.join(copy, file), 'utf8');

/** tsc's error lines, without the folder they were found in. */
function typeErrors(output: string): string[] {
  return output.split('\n').filter((line) => /error TS\d+/.test(line));
}

beforeAll(() => {
  scratch = mkdtempSync(path.join(tmpdir(), 'platform-generator-'));
  copy = path.join(scratch, 'repo');
  // The working tree as git sees it: tracked and untracked files that are not ignored (dist, tmp, node_modules).
  const listed = spawnSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: ROOT,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  }).stdout.split('\0');
  for (const file of listed) {
    const from = path.join(ROOT, file);
    if (!file || !existsSync(from) || !statSync(from).isFile()) continue;
    mkdirSync(path.dirname(path.join(copy, file)), { recursive: true });
    copyFileSync(from, path.join(copy, file));
  }
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(copy, 'node_modules'), 'dir');
}, 60_000);

afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe('npm run new-service', () => {
  let generated: { status: number | null; output: string };

  beforeAll(() => {
    generated = run('npm', GENERATE);
  }, 120_000);

  it('writes the service, renders the kustomize base and the OpenAPI document, and exits 0', () => {
    expect({ status: generated.status, output: generated.output }).toEqual({
      status: 0,
      output: expect.stringContaining(`created ${SERVICE.name}:`),
    });
    for (const file of [
      `apps/${SERVICE.name}/src/main.ts`,
      `apps/${SERVICE.name}/src/${SERVICE.name}.ts`,
      `apps/${SERVICE.name}/src/config/${SERVICE.prefix}.config.ts`,
      `apps/${SERVICE.name}/src/items/items.int-spec.ts`,
      `libs/contracts/${SERVICE.prefix}/src/client.ts`,
      `apps/gateway/src/${SERVICE.name}/${SERVICE.name}.controller.ts`,
      `k8s/overlays/prod/networkpolicy-${SERVICE.name}.yaml`,
    ]) {
      expect([file, existsSync(path.join(copy, file))]).toEqual([file, true]);
    }
    expect(readCopy('k8s/base/platform.yaml')).toContain(`name: platform-${SERVICE.name}`);
    expect(readCopy('docs/openapi.json')).toContain(`"/${SERVICE.name}/items/{id}"`);
    expect(readCopy('tsconfig.json')).toContain(`"@platform/contracts-${SERVICE.prefix}"`);
  });

  it('refuses to create it again, naming every clash, and changes nothing', () => {
    const before = CHANGED.map(readCopy);
    const again = run('node', ['dist/tools/generator/src/main.js', ...GENERATE.slice(3)]);
    expect(again.status).toBe(1);
    expect(again.output).toContain('refused, nothing written');
    for (const clash of [`the name ${SERVICE.name}`, `the health port ${SERVICE.port}`, `${SERVICE.env}_HTTP_PORT`]) {
      expect(again.output).toContain(clash);
    }
    expect(CHANGED.map(readCopy)).toEqual(before);
  });

  it('type-checks (tsc --noEmit) with no error the checkout itself does not have', () => {
    const checked = run(bin('tsc'), ['-p', 'tsconfig.json', '--noEmit']);
    if (checked.status === 0) return;
    // Work in progress elsewhere in this checkout can fail tsc on its own: only new errors count.
    const baseline = new Set(typeErrors(run(bin('tsc'), ['-p', 'tsconfig.json', '--noEmit'], ROOT).output));
    expect(typeErrors(checked.output).filter((line) => !baseline.has(line))).toEqual([]);
  }, 90_000);

  it('lints the generated files and the edited gateway module and catalogue with zero warnings', () => {
    expect(run(bin('nx'), ['show', 'projects']).status).toBe(0);
    const linted = run(bin('eslint'), ['--max-warnings', '0', ...GENERATED_CODE]);
    expect({ status: linted.status, output: linted.output.trim() }).toEqual({ status: 0, output: '' });
  }, 120_000);

  it('builds, and the built service starts against PostgreSQL and its own NATS and answers /health/ready with 200', async () => {
    expect(run('node', ['tools/scripts/build.mjs', '--quiet']).status).toBe(0);
    const main = path.join(copy, 'dist', 'apps', SERVICE.name, 'src', 'main.js');
    expect(existsSync(main)).toBe(true);
    const schema = uniqueName(`${SERVICE.prefix}_gen`);
    const port = await freePort();
    let nats: TestNats | undefined;
    let child: ReturnType<typeof spawn> | undefined;
    let stderr = '';
    try {
      nats = await startTestNats();
      child = spawn(process.execPath, [main], {
        cwd: copy,
        env: {
          ...env,
          // It calls no other service: it only needs the keys it trusts (the gateway's among them).
          CALLER_TRUSTED_KEYS: (await testCallerKeys()).trustedKeys,
          NATS_URL: nats.url,
          DATABASE_URL: testDatabaseUrl(),
          [`${SERVICE.env}_DB_SCHEMA`]: schema,
          [`${SERVICE.env}_HTTP_PORT`]: String(port),
          LOG_LEVEL: 'warn',
        },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      child.stderr?.on('data', (chunk: Buffer) => (stderr = `${stderr}${chunk.toString()}`.slice(-4000)));
      const started = child;
      const exited = new Promise<number | null>((resolve) => started.once('exit', (code) => resolve(code)));
      let status = 0;
      let body: unknown;
      for (let attempt = 0; attempt < 100 && status !== 200 && child.exitCode === null; attempt += 1) {
        try {
          const response = await fetch(`http://127.0.0.1:${port}/health/ready`, { signal: AbortSignal.timeout(1000) });
          status = response.status;
          body = await response.json();
        } catch {
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
      }
      expect({ status, body, stderr }).toEqual({
        status: 200,
        body: { status: 'ok', checks: { postgres: 'up', nats: 'up' } },
        stderr: '',
      });
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      if (child && child.exitCode === null) child.kill('SIGKILL');
      await nats?.stop();
      await dropSchema(testDatabaseUrl(), schema);
    }
  }, 60_000);

  it('passes its own integration test (create, get, retry, concurrency) against PostgreSQL and NATS', () => {
    const tested = run(bin('jest'), [
      '--selectProjects',
      'integration',
      '--runInBand',
      '--testPathPatterns',
      `apps/${SERVICE.name}/`,
      '--forceExit',
    ]);
    expect({ status: tested.status, output: tested.output }).toEqual({
      status: 0,
      output: expect.stringMatching(/Tests: +\d+ passed, \d+ total/),
    });
  }, 90_000);

  it('passes its contract and messaging-doc tests, the catalogue test, the OpenAPI check and the chart and kustomize tests', () => {
    const tested = run(bin('jest'), [
      '--selectProjects',
      'unit',
      '--testPathPatterns',
      `libs/contracts/${SERVICE.prefix}/|libs/shared/catalogue/|apps/gateway/src/openapi.spec|deploy/tests/`,
      '--forceExit',
    ]);
    expect({ status: tested.status, output: tested.output }).toEqual({
      status: 0,
      output: expect.stringMatching(/Test Suites: (\d+) passed, \1 total/),
    });
  }, 120_000);
});
