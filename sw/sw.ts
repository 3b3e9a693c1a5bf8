/// <reference lib="webworker" />
// Blossom's service worker: precaches the whole built app so that after one visit it starts with
// no network, answers every navigation (deep links such as /a/xyz) with the precached index.html,
// and caches nothing else: plan data lives encrypted in IndexedDB, never in a cache.
// It installs only a release it has checked: the manifest signed by the release key pinned at the
// first install, and every file it precaches (and this script) matching the manifest. Otherwise
// installing fails, and the browser keeps the version it has.
// It activates a new version only when the page asks (the user chose "Reload").
import { clientsClaim } from 'workbox-core'
import { addPlugins, cleanupOutdatedCaches, createHandlerBoundToURL, precacheAndRoute } from 'workbox-precaching'
import { NavigationRoute, registerRoute } from 'workbox-routing'
import { checkFile, forgetOtherReleases, installedReleases, pinKey, pinnedKey, readRelease, recordInstalled, refuseOlder, ReleaseError, type Release, type ReleaseKey, type ReleaseSource } from '../src/release'

declare const self: ServiceWorkerGlobalScope & {
  __WB_MANIFEST: Array<string | { url: string; revision: string | null }>
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

// Every precached response must be the file the checked manifest names.
addPlugins([
  {
    cacheWillUpdate: async ({ request, response }) => {
      if (!response.ok) return null
      const { release } = await ownRelease()
      await checkFile(release.manifest, new URL(request.url).pathname, new Uint8Array(await response.clone().arrayBuffer()))
      return response
    },
  },
])

// Filled in at build time with every built file and its revision.
precacheAndRoute(self.__WB_MANIFEST)
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

// Deep links get the app shell. The signaling socket is never a page; leave it alone.
registerRoute(new NavigationRoute(createHandlerBoundToURL('index.html'), { denylist: [/^\/signal(?:[/?#]|$)/] }))

// The first install takes the open page at once, so it works offline without a second visit.
// An update waits (no skipWaiting here) until the page sends SKIP_WAITING.
clientsClaim()

self.addEventListener('message', (event: ExtendableMessageEvent) => {
  const data: unknown = event.data
  if (typeof data === 'object' && data !== null && (data as { type?: unknown }).type === 'SKIP_WAITING') {
    void self.skipWaiting()
  }
})
