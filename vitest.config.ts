import { defineConfig } from 'vitest/config';

// One `npm test` runs every project: Node unit/integration tests here, the Workers-runtime
// edge tests in their own project (see test/edge/vitest.config.ts once it exists).
export default defineConfig({
  test: {
    projects: [
      'test/edge/vitest.config.ts',
      {
        test: {
          name: 'node',
          include: ['test/**/*.test.ts'],
          exclude: ['test/edge/**', 'node_modules/**'],
          testTimeout: 120_000,
          hookTimeout: 300_000,
        },
      },
    ],
  },
});
