// Build of the Blossom PWA: the Preact app into dist/, and the service worker (sw/sw.ts, Workbox
// precaching) into dist/sw.js with the list of every built file injected into it.
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import preact from '@preact/preset-vite'
import { defineConfig, type Plugin } from 'vite'
import { VitePWA } from 'vite-plugin-pwa'
import { addIntegrity, withIntegrity, writeManifest } from './scripts/release-build.js'
import { parseReleaseKey } from './src/release/signature.js'
import { catalogs, readCatalog } from './scripts/catalogs.js'

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

/**
 * The release key this build pins on a phone's first install: every later version must be signed
 * by it. BLOSSOM_RELEASE_KEY names another public key (tests, forks), or `none` for a development
 * build that checks files but no signature. By default, the project's key in release/.
 */
function releaseKey(): string | null {
  const fromEnv = process.env['BLOSSOM_RELEASE_KEY']
  if (fromEnv === 'none') return null
  const text = fromEnv !== undefined && fromEnv !== '' ? fromEnv : readFileSync(new URL('./release/blossom-release.pub', import.meta.url), 'utf8')
  return parseReleaseKey(text)
}

/**
 * After the bundle is written: subresource integrity in index.html (before the service worker's
 * precache list is made from the files), then, after everything else, the WEBCAT manifest of dist/.
 */
/** The build's output folder, once Vite has resolved it (the service worker's precache list reads files from it). */
let outDir = 'dist'

function release(version: string): Plugin {
  return {
    name: 'blossom-release',
    apply: 'build',
    configResolved: (config) => void (outDir = path.resolve(config.root, config.build.outDir)),
    writeBundle: { sequential: true, handler: () => addIntegrity(outDir) },
    closeBundle: {
      sequential: true,
      order: 'post',
      handler: async () => void (await writeManifest(outDir, { app: APP_URL, version })),
    },
  }
}

/** WEBCAT's manifest names the app by URL; Blossom has no public home yet, so a URN that says what it is. */
const APP_URL = 'urn:blossom:app'

const HTML_ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }

/** Fills %BLOSSOM_key% in index.html from the English catalog, so every visible string lives there. */
function htmlStrings(): Plugin {
  return {
    name: 'blossom-html-strings',
    transformIndexHtml: {
      order: 'pre',
      handler: (html) => {
        const english = readCatalog('en')
        return html.replace(/%BLOSSOM_(\w+)%/g, (_match, key: string) => {
          const value: unknown = english[key]
          if (typeof value !== 'string') throw new Error(`index.html names unknown string ${key}`)
          return value.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c)
        })
      },
    },
  }
}

const BUILD_ID = buildId()

export default defineConfig({
  define: {
    __BLOSSOM_BUILD_ID__: JSON.stringify(BUILD_ID),
    __BLOSSOM_RELEASE_KEY__: JSON.stringify(releaseKey()),
  },
  resolve: {
    // y-webrtc's simple-peer bundle (Node polyfills, 28 KB gzip) gives way to a small class over RTCPeerConnection.
    alias: { 'simple-peer/simplepeer.min.js': fileURLToPath(new URL('./src/transport/peer.ts', import.meta.url)) },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // libsodium (with its wasm inlined as base64) is one large chunk by nature.
    chunkSizeWarningLimit: 1024,
  },
  plugins: [
    catalogs(),
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
        // Each entry carries its SHA-256: the browser checks it when the worker fetches the file,
        // and the worker checks it again every time it serves the file from its cache.
        manifestTransforms: [withIntegrity(() => outDir)],
      },
      devOptions: { enabled: false },
    }),
    release(BUILD_ID),
  ],
})
