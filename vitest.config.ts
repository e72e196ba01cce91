import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Real MobileNet weights on a single-threaded WASM backend: model loads and embeddings take seconds.
    testTimeout: 180_000,
    hookTimeout: 180_000,
    pool: 'forks',
    globalSetup: ['test/global-setup.ts'],
  },
});
