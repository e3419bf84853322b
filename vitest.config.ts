import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

export default defineConfig({
  resolve: {
    // graphql 16 ships CJS (index.js) and ESM (index.mjs) without an exports map. Node
    // (and graphql-yoga) load index.js; Vite would pick index.mjs through the "module"
    // field, giving two GraphQLError classes and breaking instanceof checks (error
    // masking). Pin the one Node uses.
    alias: [{ find: /^graphql$/, replacement: require.resolve('graphql') }],
  },
  test: {
    include: ['test/**/*.test.ts'],
    // Chromium, redis-server, a Redis on 6379 and prlimit: installed or started once
    // before any test, or the run stops at once with one line saying what to run.
    globalSetup: ['test/setup/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Integration tests start real servers on ephemeral loopback ports; files run
    // in parallel workers, tests inside a file run in order.
    pool: 'forks',
  },
});
