import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

export default defineConfig({
  resolve: {
    // One graphql instance, as at run time under Node: Vite would pick graphql's
    // ESM build for our code while @apollo/* require() the CommonJS one, and
    // graphql refuses types "from another module or realm".
    alias: [{ find: /^graphql$/, replacement: require.resolve('graphql') }],
  },
  test: {
    include: ['test/**/*.test.ts'],
    // End-to-end tests start real servers and seed real databases.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
