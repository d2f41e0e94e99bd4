// One lint config for the workspace. Packages talk to each other only through
// their published entry points, never another package's src/ or dist/ internals.
const js = require('@eslint/js');
const tseslint = require('typescript-eslint');

module.exports = tseslint.config(
  { ignores: ['**/dist/**', '**/coverage/**', '**/node_modules/**', '**/*.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-non-null-assertion': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['**/packages/*/src/**', '**/apps/*/src/**', '../../*/src/**', '../../../*/src/**'], message: 'Import the package by name, not its src/.' },
            { group: ['@org/*/src/**', '@org/*/dist/**', 'btrfs-to-s3/**'], message: 'Import the package entry point only.' },
          ],
        },
      ],
    },
  },
);
