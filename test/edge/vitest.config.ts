import { fileURLToPath } from 'node:url';
import { cloudflareTest } from '@cloudflare/vitest-pool-workers';
import { defineConfig } from 'vitest/config';
import { prepareAssets } from '../../scripts/dev-edge.mjs';

// Edge tests run inside workerd (Workers runtime) against local R2 and the Cache API,
// using the same wrangler.toml as `npm run dev:edge` and deploy.
const root = fileURLToPath(new URL('../../', import.meta.url));
// wrangler refuses a missing [assets] directory (the client build may not exist yet) and
// files over 25 MiB: prepareAssets creates the one and .assetsignores the others.
prepareAssets();

export default defineConfig({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: `${root}wrangler.toml` },
      miniflare: {
        bindings: { MRT_UPLOAD_TOKEN: 'test-upload-token', MRT_PLAIN_READ: '1' },
      },
    }),
  ],
  test: {
    name: 'edge',
    root,
    include: ['test/edge/**/*.test.ts'],
    testTimeout: 30_000,
  },
});
