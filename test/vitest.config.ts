import { defineConfig } from 'vitest/config';

// Integration tests talk to real servers shared by the whole run: files run one after another, and
// timeouts leave room for JVM start-up, outages and restarts.
export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    exclude: ['**/node_modules/**'],
    globalSetup: ['./global-setup.ts'],
    fileParallelism: false,
    testTimeout: 180_000,
    hookTimeout: 600_000,
    teardownTimeout: 120_000,
    pool: 'forks',
    // kafkajs 2.2.4 trips Node 24's TimeoutNegativeWarning (harmless, clamped to 1 ms); keep the output clean.
    execArgv: ['--disable-warning=TimeoutNegativeWarning'],
  },
});
