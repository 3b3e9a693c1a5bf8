import { configDefaults, defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    // Browser tests need a build, Chromium and a private network: `npm run test:browser`.
    exclude: [...configDefaults.exclude, 'tests/shell/**', 'tests/browser/**'],
    environment: 'node',
    setupFiles: ['tests/setup.ts'],
    testTimeout: 30_000,
  },
})
