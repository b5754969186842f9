import { defineConfig } from 'vitest/config';

// The real-gateway suite: OpenNDS in network namespaces. Needs root; run after `npm test`.
export default defineConfig({
  test: {
    globalSetup: ['test/support/build-dist.ts'],
    include: ['test/gateway/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 180_000,
    hookTimeout: 240_000,
  },
});
