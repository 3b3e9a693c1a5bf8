// Build of the Blossom PWA: the Preact app into dist/, and the service worker (sw/sw.ts, Workbox
// precaching) into dist/sw.js with the list of every built file injected into it.
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import preact from '@preact/preset-vite'
import { defineConfig, type Plugin } from 'vite'
import { VitePWA } from 'vite-plugin-pwa'
import { strings } from './src/ui/strings.js'

/**
 * A label for this build, shown small in the app and baked into the bundle, so two builds of
 * the same sources differ only where they must. BLOSSOM_BUILD_ID wins (tests build two versions);
 * otherwise the package version plus the commit, when git knows one.
 */
function buildId(): string {
  const fromEnv = process.env['BLOSSOM_BUILD_ID']
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv
  const pkg = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8')) as { version: string }
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
      cwd: new URL('.', import.meta.url),
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim()
    return commit === '' ? pkg.version : `${pkg.version}+${commit}`
  } catch {
    return pkg.version
  }
}

const HTML_ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }

/** Fills %BLOSSOM_key% in index.html from src/ui/strings.ts, so every visible string lives there. */
function htmlStrings(): Plugin {
  return {
    name: 'blossom-html-strings',
    transformIndexHtml: {
      order: 'pre',
      handler: (html) =>
        html.replace(/%BLOSSOM_(\w+)%/g, (_match, key: string) => {
          const value: unknown = (strings as Record<string, unknown>)[key]
          if (typeof value !== 'string') throw new Error(`index.html names unknown string ${key}`)
          return value.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c)
        }),
    },
  }
}

export default defineConfig({
  define: {
    __BLOSSOM_BUILD_ID__: JSON.stringify(buildId()),
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // libsodium (with its wasm inlined as base64) is one large chunk by nature.
    chunkSizeWarningLimit: 1024,
  },
  plugins: [
    htmlStrings(),
    preact(),
    VitePWA({
      strategies: 'injectManifest',
      srcDir: 'sw',
      filename: 'sw.ts',
      // src/ui/main.tsx registers the worker itself (workbox-window) and asks before updating.
      injectRegister: false,
      registerType: 'prompt',
      // The manifest is a static file: public/manifest.webmanifest, linked from index.html.
      manifest: false,
      injectManifest: {
        // A classic script: works where module service workers do not.
        rollupFormat: 'iife',
        // Everything the app needs to start with no network. The worker itself is never precached.
        globPatterns: ['**/*.{html,js,css,wasm,png,svg,ico,webmanifest}'],
        globIgnores: ['sw.js', '**/*.map'],
        // libsodium's chunk is large; anything far larger is a mistake to catch at build time.
        maximumFileSizeToCacheInBytes: 4 * 1024 * 1024,
      },
      devOptions: { enabled: false },
    }),
  ],
})
