import { catalogs } from './scripts/catalogs'
import { fileURLToPath } from 'node:url'
import { configDefaults, defineConfig } from 'vitest/config'

export default defineConfig({
  plugins: [catalogs()],
  // As in vite.config.ts: tests run y-webrtc over the app's simple-peer stand-in.
  resolve: {
    alias: { 'simple-peer/simplepeer.min.js': fileURLToPath(new URL('./src/transport/peer.ts', import.meta.url)) },
  },
  test: {
    include: ['tests/**/*.test.ts'],
    // Browser tests need a build, Chromium and a private network: `npm run test:browser`.
    exclude: [...configDefaults.exclude, 'tests/shell/**', 'tests/browser/**'],
    environment: 'node',
    setupFiles: ['tests/setup.ts'],
    testTimeout: 30_000,
    // Through Vite, not straight to Node, so the alias above reaches its import of simple-peer.
    server: { deps: { inline: ['y-webrtc'] } },
  },
})
