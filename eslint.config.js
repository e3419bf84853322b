// @ts-check
import { readdirSync } from 'node:fs';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Every folder in adapters/ is a provider: the isolation rules below cover each one without a list to keep. */
const adapters = readdirSync(new URL('./adapters/', import.meta.url), { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name);

/** Import paths that reach `adapter` from anywhere (alias-free: absolute-ish or relative up to three levels). */
const pathsInto = (adapter) => [
  `**/adapters/${adapter}`, `**/adapters/${adapter}/**`,
  ...['..', '../..', '../../..'].flatMap((up) => [`${up}/${adapter}`, `${up}/${adapter}/**`]),
];

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
  // Adapters never import each other, and use only the core's contract-level modules.
  ...adapters.map((adapter) => ({
    files: [`adapters/${adapter}/**/*.ts`],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: adapters.filter((other) => other !== adapter).flatMap(pathsInto), message: 'Adapters never import each other.' },
          { group: ['**/src/*', '!**/src/model.ts', '!**/src/errors.ts', '!**/src/adapter-contract.ts', '!**/src/adapter-testing.ts', '!**/src/ids.ts', '!**/src/adapter-kit'], message: 'Adapters may import only src/model.ts, src/errors.ts, src/ids.ts, src/adapter-contract.ts, src/adapter-testing.ts (testing.ts) and src/adapter-kit/.' },
        ],
      }],
    },
  })),
  {
    // The simulator kit (sim-kit/) serves simulators only: in an adapter, only its
    // simulator/ folder may use it; the core never does (demo mode reaches a simulator
    // through the factory's createDemo). A separate rule key, so the isolation rules
    // above stay as they are.
    files: ['src/**/*.ts', 'adapters/**/*.ts'],
    ignores: ['adapters/*/simulator/**'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', { patterns: [{ group: ['**/sim-kit', '**/sim-kit/**'], message: 'Only adapters/<provider>/simulator/ may import sim-kit/.' }] }],
    },
  },
  {
    // The simulator kit stands alone: no core, no adapter.
    files: ['sim-kit/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', { patterns: [{ group: ['**/src/**', '**/adapters/**'], message: 'sim-kit/ depends on nothing in src/ or adapters/.' }] }],
    },
  },
);
