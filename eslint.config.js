// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/**', 'src/__generated__/**', 'coverage/**', 'bench/results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', URL: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'off',
    },
  },
  {
    // The architecture, enforced: the core reaches an adapter only through its index.ts.
    files: ['src/**/*.ts'],
    ignores: ['src/adapters.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['**/adapters/**'], message: 'The core must not import adapters; register them in src/adapters.ts.' }] }],
    },
  },
  {
    // Adapters never import each other, and use only the core's contract-level modules.
    files: ['adapters/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['**/adapters/gitlab/**', '**/adapters/jenkins/**', '../gitlab/**', '../jenkins/**', '../../gitlab/**', '../../jenkins/**'], message: 'Adapters never import each other.' },
          { group: ['**/src/*', '!**/src/model.ts', '!**/src/errors.ts', '!**/src/adapter-contract.ts', '!**/src/adapter-testing.ts', '!**/src/ids.ts', '!**/src/adapter-kit'], message: 'Adapters may import only src/model.ts, src/errors.ts, src/ids.ts, src/adapter-contract.ts, src/adapter-testing.ts (testing.ts) and src/adapter-kit/.' },
        ],
      }],
    },
  },
);
