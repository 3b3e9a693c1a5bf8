/// <reference lib="webworker" />
// Blossom's service worker: precaches the whole built app so that after one visit it starts with
// no network, answers every navigation (deep links such as /a/xyz) with the precached index.html,
// and caches nothing else: plan data lives encrypted in IndexedDB, never in a cache.
// It installs only a release it has checked: the manifest signed by the release key pinned at the
// first install, and every file it precaches (and this script) matching the manifest. Otherwise
// installing fails, and the browser keeps the version it has.
// It activates a new version only when the page asks (the user chose "Reload").
import { cacheNames, clientsClaim } from 'workbox-core'
import { addPlugins, cleanupOutdatedCaches, getCacheKeyForURL, matchPrecache, precacheAndRoute } from 'workbox-precaching'
import { NavigationRoute, registerRoute } from 'workbox-routing'
import {
  checkFile,
  contentTypeOf,
  forgetOtherReleases,
  installedReleases,
  pinKey,
  pinnedKey,
  readRelease,
  recordInstalled,
  refuseOlder,
  ReleaseError,
  SECURITY_HEADERS,
  type Release,
  type ReleaseKey,
  type ReleaseSource,
} from '../src/release'

declare const self: ServiceWorkerGlobalScope

/** What the build injects (vite.config.ts adds each entry's integrity). */
interface PrecacheEntry {
  readonly url: string
  readonly revision: string | null
  readonly integrity: string
}
declare const __BLOSSOM_BUILD_ID__: string
declare const __BLOSSOM_RELEASE_KEY__: string | null

const BAKED_KEY = (__BLOSSOM_RELEASE_KEY__ ?? undefined) as ReleaseKey | undefined

const fromNetwork: ReleaseSource = async (path) => {
  const response = await fetch(path, { cache: 'no-store' })
  if (response.status === 404) return undefined
  if (!response.ok) throw new Error(`HTTP ${response.status}`)
  return new Uint8Array(await response.arrayBuffer())
}

/**
 * The release this worker belongs to, checked once per install. The pinned key decides; with no
 * pin yet (first install) the key built into this worker does, and an unsigned build is taken on
 * first use (and shown as unsigned), but a signature that fails never is.
 */
async function checkOwnRelease(): Promise<{ release: Release; standing: 'signed' | 'unsigned' | 'development' }> {
  const pinned = await pinnedKey()
  if (pinned !== undefined && BAKED_KEY !== pinned) {
    throw new ReleaseError('wrong-key', 'This version trusts another release key than the one this phone pinned.')
  }
  if (BAKED_KEY === undefined) return { release: await readRelease(fromNetwork, undefined), standing: 'development' }
  try {
    return { release: await readRelease(fromNetwork, BAKED_KEY), standing: 'signed' }
  } catch (error) {
    if (pinned !== undefined || !(error instanceof ReleaseError) || error.code !== 'unsigned') throw error
    return { release: await readRelease(fromNetwork, undefined), standing: 'unsigned' }
  }
}

let own: ReturnType<typeof checkOwnRelease> | undefined
const ownRelease = (): ReturnType<typeof checkOwnRelease> => (own ??= checkOwnRelease())

// Filled in at build time with every built file, its revision and its SHA-256 (SRI format).
const PRECACHE = self.__WB_MANIFEST as PrecacheEntry[]
const INTEGRITY = new Map(PRECACHE.map((entry) => [`/${entry.url}`, entry.integrity]))

/** The file as this release serves it: exactly these bytes, with the release's headers (never the server's). */
const asReleased = (path: string, bytes: ArrayBuffer): Response =>
  new Response(bytes, { status: 200, headers: { ...SECURITY_HEADERS, 'Content-Type': contentTypeOf(path) } })

/** The release file a request is for ("/" is the app shell, as Workbox's precache route treats it). */
function releasedPath(url: string): string {
  const path = new URL(url).pathname
  return path.endsWith('/') ? `${path}index.html` : path
}

async function integrityOf(bytes: ArrayBuffer): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes))
  let binary = ''
  for (const b of digest) binary += String.fromCharCode(b)
  return `sha256-${btoa(binary)}`
}

addPlugins([
  {
    // Installing: every file must be the one the signed manifest names (the browser has already held
    // it to the integrity built into this worker). Stored with the release's headers, not the server's.
    cacheWillUpdate: async ({ request, response, event }) => {
      if (!response.ok) return null
      const path = releasedPath(request.url)
      const bytes = await response.arrayBuffer()
      if (event?.type === 'install') await checkFile((await ownRelease()).release.manifest, path, new Uint8Array(bytes))
      else if ((await integrityOf(bytes)) !== INTEGRITY.get(path)) return null
      return asReleased(path, bytes)
    },
    // Serving: the cache is shared with anything that runs on this origin, so every file is held to
    // its hash again. A changed one is not served: Workbox fetches it again under its integrity.
    cachedResponseWillBeUsed: async ({ request, cachedResponse }) => {
      if (!cachedResponse) return null
      const path = releasedPath(request.url)
      const bytes = await cachedResponse.arrayBuffer()
      return (await integrityOf(bytes)) === INTEGRITY.get(path) ? asReleased(path, bytes) : null
    },
  },
])

// Before Workbox's routes: what this worker answers itself. Every navigation gets the precached
// app shell (a POST or a link to a server path never reaches the server's own pages); a same-origin
// file that is not part of this release is not fetched (a stale tab asking for another version's
// chunk fails instead of running unchecked code). Only the page's release checks, drand beacons
// through the server's proxy (data every phone checks, never code) and the server's ICE servers
// (/network: addresses and a TURN credential, never code) go to the server.
self.addEventListener('fetch', (event: FetchEvent) => {
  const url = new URL(event.request.url)
  if (url.origin !== self.location.origin) return
  if (event.request.mode === 'navigate') {
    if (event.request.method !== 'GET') event.respondWith(Response.redirect('/', 303))
    return
  }
  if (event.request.method !== 'GET' || getCacheKeyForURL(url.href) !== undefined) return
  if (url.searchParams.has('release-check') || url.pathname.startsWith('/.well-known/') || url.pathname.startsWith('/drand/') || url.pathname === '/network') return
  event.respondWith(new Response('Not part of this version of Blossom.\n', { status: 404, headers: { ...SECURITY_HEADERS, 'Content-Type': 'text/plain; charset=utf-8' } }))
})

precacheAndRoute([...PRECACHE])
cleanupOutdatedCaches()

async function tell(message: { type: 'blossom-release-refused'; code: string; detail: string }): Promise<void> {
  for (const client of await self.clients.matchAll({ includeUncontrolled: true })) client.postMessage(message)
}

self.addEventListener('install', (event: ExtendableEvent) => {
  const installing = (async () => {
    const { release, standing } = await ownRelease()
    if (release.manifest.version !== __BLOSSOM_BUILD_ID__) throw new ReleaseError('files-differ', 'The manifest describes another version than this worker.')
    for (const installed of await installedReleases()) refuseOlder(release.manifest.version, installed.version)
    // The browser fetched this script itself; fetch it again and hold it to the manifest too.
    const script = await fromNetwork(new URL(self.location.href).pathname)
    await checkFile(release.manifest, new URL(self.location.href).pathname, script)
    if (BAKED_KEY !== undefined && (await pinnedKey()) === undefined) await pinKey(BAKED_KEY)
    await recordInstalled({ version: release.manifest.version, fingerprint: release.fingerprint, standing })
  })()
  installing.catch((error: unknown) => {
    const code = error instanceof ReleaseError ? error.code : 'unreachable'
    void tell({ type: 'blossom-release-refused', code, detail: error instanceof Error ? error.message : String(error) })
  })
  event.waitUntil(installing)
})

self.addEventListener('activate', (event: ExtendableEvent) => {
  event.waitUntil(forgetOtherReleases(__BLOSSOM_BUILD_ID__))
})

/**
 * The app shell, held to its hash like every file (Workbox's own navigation handler would fetch a
 * changed one from the network unchecked). Missing or changed in the cache, it is fetched again under
 * its integrity, so the browser refuses any other bytes, and the cache is repaired.
 */
async function appShell(): Promise<Response> {
  const path = '/index.html'
  const cached = await matchPrecache(path)
  if (cached) {
    const bytes = await cached.arrayBuffer()
    if ((await integrityOf(bytes)) === INTEGRITY.get(path)) return asReleased(path, bytes)
  }
  const bytes = await (await fetch(path, { integrity: INTEGRITY.get(path) ?? '', cache: 'no-store' })).arrayBuffer()
  const key = getCacheKeyForURL(path)
  if (key !== undefined) await (await caches.open(cacheNames.precache)).put(key, asReleased(path, bytes))
  return asReleased(path, bytes)
}

// Every navigation gets the app shell: deep links (/a/…), and any other path too.
registerRoute(new NavigationRoute(() => appShell()))

// The first install takes the open page at once, so it works offline without a second visit.
// An update waits (no skipWaiting here) until the page sends SKIP_WAITING.
clientsClaim()

self.addEventListener('message', (event: ExtendableMessageEvent) => {
  const data: unknown = event.data
  if (typeof data === 'object' && data !== null && (data as { type?: unknown }).type === 'SKIP_WAITING') {
    void self.skipWaiting()
  }
})
