import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Network and CLI tests start real processes; two cores means two forks at most.
    pool: 'forks',
    maxWorkers: 2,
  },
});
