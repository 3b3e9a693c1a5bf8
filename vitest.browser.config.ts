// Browser tests (tests/shell, tests/browser): real Chromium through playwright-core against the
// built app. Run them with `npm run test:browser`, which puts them in a private network namespace
// where only loopback exists. One file at a time: each drives a browser and a server.
import { defineConfig } from 'vitest/config'
import { catalogs } from './scripts/catalogs'

export default defineConfig({
  plugins: [catalogs()],
  test: {
    include: ['tests/shell/**/*.test.ts', 'tests/browser/**/*.test.ts'],
    environment: 'node',
    globalSetup: ['tests/shell/global-setup.ts'],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 240_000,
    teardownTimeout: 30_000,
  },
})
