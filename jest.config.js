// One jest run, three tiers: unit (*.spec.ts), integration (*.int-spec.ts: real PostgreSQL and NATS) and
// end-to-end (apps/platform-e2e: the platform started as processes, driven through the gateway).
const path = require('node:path');
const { paths } = require('./tsconfig.json').compilerOptions;

const moduleNameMapper = Object.fromEntries(
  Object.entries(paths).map(([alias, [target]]) => [`^${alias}$`, path.join(__dirname, target)]),
);
const transform = {
  '^.+\\.ts$': [
    '@swc/jest',
    {
      jsc: {
        parser: { syntax: 'typescript', decorators: true },
        transform: { legacyDecorator: true, decoratorMetadata: true },
        target: 'es2022',
        keepClassNames: true,
        // Aliases are rewritten at transform time too, so global setup (outside jest's resolver) can use them.
        baseUrl: __dirname,
        paths,
      },
      module: { type: 'commonjs', ignoreDynamic: true },
    },
  ],
};
const common = {
  transform,
  moduleNameMapper,
  testEnvironment: 'node',
  rootDir: __dirname,
  roots: ['<rootDir>/apps', '<rootDir>/libs', '<rootDir>/tools', '<rootDir>/deploy'],
};

module.exports = {
  // A global option (jest ignores it per project): integration and e2e tests run real services, and a shared
  // 2-core machine under the whole suite can take longer than jest's default 5 s.
  testTimeout: 30000,
  // End-to-end files in path order, after the others (see the sequencer for why).
  testSequencer: '<rootDir>/tools/scripts/jest-sequencer.cjs',
  projects: [
    { ...common, displayName: 'unit', testMatch: ['**/*.spec.ts'] },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['**/*.int-spec.ts'],
      testTimeout: 30000,
    },
    {
      ...common,
      displayName: 'e2e',
      testMatch: ['<rootDir>/apps/platform-e2e/**/*.e2e-spec.ts'],
      globalSetup: '<rootDir>/apps/platform-e2e/src/support/global-setup.ts',
      globalTeardown: '<rootDir>/apps/platform-e2e/src/support/global-teardown.ts',
      testTimeout: 30000,
    },
  ],
};
