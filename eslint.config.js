// One lint config for the workspace. Packages talk to each other only through
// their published entry points, never another package's src/ or dist/ internals.
const js = require('@eslint/js');
const tseslint = require('typescript-eslint');
const importX = require('eslint-plugin-import-x');
const { createTypeScriptImportResolver } = require('eslint-import-resolver-typescript');

module.exports = tseslint.config(
  { ignores: ['**/dist/**', '**/coverage/**', '**/node_modules/**', '**/*.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    plugins: { 'import-x': importX },
    settings: {
      'import-x/resolver-next': [createTypeScriptImportResolver()],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'import-x/extensions': ['.ts', '.js'],
    },
    rules: {
      // Modules that import each other (directly or round a loop) have no order in which
      // both are whole; a cycle is always a sign that one of them holds two jobs.
      'import-x/no-cycle': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-non-null-assertion': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/packages/*/src/**', '**/apps/*/src/**', '../../*/src/**', '../../../*/src/**'],
              message: 'Import the package by name, not its src/.',
            },
            { group: ['@org/*/src/**', '@org/*/dist/**', 'btrfs-to-s3/**'], message: 'Import the package entry point only.' },
          ],
        },
      ],
    },
  },
);
