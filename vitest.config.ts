import { defineConfig } from 'vitest/config';

// `npm test` runs every project: Node unit/integration tests here, the Workers-runtime edge
// tests in their own project (test/edge/vitest.config.ts), then, alone so that nothing else
// competes for the CPU while it measures a throttled browser, the visitor benchmark's quick mode.
export default defineConfig({
  test: {
    projects: [
      'test/edge/vitest.config.ts',
      {
        test: {
          name: 'node',
          include: ['test/**/*.test.ts'],
          exclude: ['test/edge/**', 'test/bench/**', 'node_modules/**'],
          testTimeout: 120_000,
          hookTimeout: 300_000,
        },
      },
      {
        test: {
          name: 'visitor',
          include: ['test/bench/**/*.test.ts'],
          testTimeout: 420_000,
          hookTimeout: 300_000,
        },
      },
    ],
  },
});
