import nx from '@nx/eslint-plugin';
import prettier from 'eslint-config-prettier';
import regexp from 'eslint-plugin-regexp';
import tseslint from 'typescript-eslint';

/**
 * Module boundaries (house style): a service may import its own scope, shared utilities and other
 * services' contracts; contracts import only utilities; utilities import only utilities. The gateway
 * reaches services through their contracts only. Tools and tests may use contracts and utilities.
 */
const depConstraints = (tests) => [
  { sourceTag: 'type:util', onlyDependOnLibsWithTags: tests ? ['type:util', 'type:testing'] : ['type:util'] },
  { sourceTag: 'type:testing', onlyDependOnLibsWithTags: ['type:util', 'type:testing'] },
  { sourceTag: 'type:contracts', onlyDependOnLibsWithTags: tests ? ['type:util', 'type:testing'] : ['type:util'] },
  {
    sourceTag: 'type:app',
    onlyDependOnLibsWithTags: tests ? ['type:util', 'type:contracts', 'type:testing'] : ['type:util', 'type:contracts'],
  },
  { sourceTag: 'type:e2e', onlyDependOnLibsWithTags: ['type:util', 'type:contracts', 'type:testing'] },
  { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: ['scope:shared'] },
  { sourceTag: 'scope:gateway', onlyDependOnLibsWithTags: ['scope:shared', 'type:contracts'] },
  { sourceTag: 'scope:identity', onlyDependOnLibsWithTags: ['scope:shared'] },
  { sourceTag: 'scope:tooling', onlyDependOnLibsWithTags: ['scope:shared', 'type:contracts'] },
  { sourceTag: 'scope:e2e', onlyDependOnLibsWithTags: ['scope:shared', 'type:contracts'] },
  { sourceTag: 'scope:pds', onlyDependOnLibsWithTags: ['scope:pds', 'scope:shared', 'type:contracts'] },
  { sourceTag: 'scope:n3', onlyDependOnLibsWithTags: ['scope:n3', 'scope:shared', 'type:contracts'] },
  { sourceTag: 'scope:eps', onlyDependOnLibsWithTags: ['scope:eps', 'scope:shared', 'type:contracts'] },
  { sourceTag: 'scope:e-referrals', onlyDependOnLibsWithTags: ['scope:e-referrals', 'scope:shared', 'type:contracts'] },
  { sourceTag: 'scope:gp2gp', onlyDependOnLibsWithTags: ['scope:gp2gp', 'scope:shared', 'type:contracts'] },
  {
    sourceTag: 'scope:nhsmail-relay',
    onlyDependOnLibsWithTags: ['scope:nhsmail-relay', 'scope:shared', 'type:contracts'],
  },
];

/** Test files may also use the testing utilities; production code may not. */
const boundaries = (tests) => [
  'error',
  {
    enforceBuildableLibDependency: false,
    allow: [],
    banTransitiveDependencies: false,
    checkDynamicDependenciesExceptions: [],
    depConstraints: depConstraints(tests),
  },
];
const TEST_FILES = ['**/*.spec.ts', '**/*.int-spec.ts', '**/*.e2e-spec.ts', '**/*.test-harness.ts'];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'tmp/**', 'coverage/**', '.nx/**', '**/*.js', '**/*.mjs', '**/*.cjs'] },
  ...tseslint.configs.recommendedTypeChecked,
  regexp.configs['flat/recommended'],
  {
    // Regular expressions meet untrusted text: none may backtrack super-linearly or capture misleadingly.
    files: ['**/*.ts'],
    rules: {
      'regexp/no-super-linear-backtracking': 'error',
      'regexp/no-misleading-capturing-group': 'error',
      'regexp/no-misleading-unicode-character': 'error',
      'regexp/confusing-quantifier': 'error',
      'regexp/no-lazy-ends': 'error',
      'regexp/no-potentially-useless-backreference': 'error',
      'regexp/optimal-lookaround-quantifier': 'error',
      'regexp/no-empty-alternative': 'error',
      'regexp/no-useless-flag': 'error',
      // Style only (spelling a class as \d or \w, groups that could be non-capturing): not yet adopted.
      'regexp/prefer-d': 'off',
      'regexp/prefer-w': 'off',
      'regexp/prefer-range': 'off',
      'regexp/use-ignore-case': 'off',
      'regexp/negation': 'off',
      'regexp/no-unused-capturing-group': 'off',
      'regexp/no-dupe-characters-character-class': 'off',
    },
  },
  {
    files: ['**/*.ts'],
    plugins: { '@nx': nx },
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@nx/enforce-module-boundaries': boundaries(false),
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
      eqeqeq: ['error', 'always'],
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['../../*/**', '../../../*/**'],
              message: 'Import other projects through their @platform/* alias.',
            },
          ],
        },
      ],
    },
  },
  {
    files: TEST_FILES,
    rules: {
      '@nx/enforce-module-boundaries': boundaries(true),
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/unbound-method': 'off',
    },
  },
  prettier,
);
