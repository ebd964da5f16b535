import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // One PostgreSQL server for the whole run; each test file makes its own databases on it.
    globalSetup: ['test/global-setup.ts'],
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Most test time is spent waiting on PostgreSQL and Chromium, not on the CPU: one more
    // worker than the 2 cores keeps the whole suite under 4 minutes here.
    maxWorkers: 3,
  },
});
