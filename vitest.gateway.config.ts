import { defineConfig } from 'vitest/config';

// OpenNDS 10 (LAB_OPENNDS=10) runs a shell helper script for each setting at start-up and for every
// ndsctl call: its lab takes minutes to come up on a busy machine, and so does its restart.
const opennds10 = process.env.LAB_OPENNDS === '10';

// The real-gateway suite: OpenNDS in network namespaces. Needs root; run after `npm test`.
export default defineConfig({
  test: {
    globalSetup: ['test/support/build-dist.ts'],
    include: ['test/gateway/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: opennds10 ? 480_000 : 180_000,
    hookTimeout: opennds10 ? 600_000 : 240_000,
  },
});
