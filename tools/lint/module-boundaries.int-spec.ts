import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(__dirname, '../..');

interface Probe {
  name: string;
  file: string;
  source: string;
}

const forbidden: Probe[] = [
  {
    name: 'a shared utility importing a contracts library',
    file: 'libs/shared/config/src/boundary-probe.ts',
    source: "import { PDS_SUBJECTS } from '@platform/contracts-pds';\nexport const x = PDS_SUBJECTS;\n",
  },
  {
    name: 'a contracts library importing the testing utilities',
    file: 'libs/contracts/pds/src/boundary-probe.ts',
    source: "import { freePort } from '@platform/shared-testing';\nexport const x = freePort;\n",
  },
  {
    name: 'the gateway importing the testing utilities in production code',
    file: 'apps/gateway/src/boundary-probe.ts',
    source: "import { freePort } from '@platform/shared-testing';\nexport const x = freePort;\n",
  },
  {
    name: 'the identity provider importing a service contract',
    file: 'apps/identity-provider/src/boundary-probe.ts',
    source: "import { PDS_SUBJECTS } from '@platform/contracts-pds';\nexport const x = PDS_SUBJECTS;\n",
  },
];
const allowed: Probe = {
  name: 'a service using contracts and shared utilities',
  file: 'apps/pds/src/boundary-probe.ts',
  source:
    "import { PDS_SUBJECTS } from '@platform/contracts-pds';\nimport { PlatformError } from '@platform/shared-errors';\nexport const x = [PDS_SUBJECTS, PlatformError];\n",
};

/**
 * The module-boundary rules must really refuse what house style forbids: probe files are written into
 * projects, linted with the repository's own ESLint config (as `npm run lint` does) and removed again.
 */
describe('module boundaries', () => {
  const violations = new Map<string, string[]>();

  beforeAll(() => {
    const probes = [...forbidden, allowed];
    for (const probe of probes) writeFileSync(path.join(root, probe.file), probe.source);
    try {
      spawnSync(process.execPath, [path.join(root, 'node_modules/nx/dist/bin/nx.js'), 'show', 'projects'], {
        cwd: root,
        stdio: 'ignore',
      });
      const result = spawnSync(
        process.execPath,
        [
          path.join(root, 'node_modules/eslint/bin/eslint.js'),
          '--format',
          'json',
          ...probes.map((probe) => probe.file),
        ],
        { cwd: root, encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 },
      );
      const report = JSON.parse(result.stdout) as {
        filePath: string;
        messages: { ruleId: string | null; message: string }[];
      }[];
      for (const file of report) {
        violations.set(
          path.relative(root, file.filePath),
          file.messages
            .filter((message) => message.ruleId === '@nx/enforce-module-boundaries')
            .map((message) => message.message),
        );
      }
    } finally {
      for (const probe of probes) rmSync(path.join(root, probe.file), { force: true });
    }
  }, 120_000);

  it.each(forbidden.map((probe) => [probe.name, probe.file] as const))('refuses %s', (_name, file) => {
    expect(violations.get(file)).toEqual([expect.stringMatching(/tagged with/)]);
  });

  it('allows a service to use its contracts and shared utilities', () => {
    expect(violations.get(allowed.file)).toEqual([]);
  });
});
