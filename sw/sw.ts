/// <reference lib="webworker" />
// Blossom's service worker: precaches the whole built app so that after one visit it starts with
// no network, answers every navigation (deep links such as /a/xyz) with the precached index.html,
// and caches nothing else: plan data lives encrypted in IndexedDB, never in a cache.
// It activates a new version only when the page asks (the user chose "Reload").
import { clientsClaim } from 'workbox-core'
import { cleanupOutdatedCaches, createHandlerBoundToURL, precacheAndRoute } from 'workbox-precaching'
import { NavigationRoute, registerRoute } from 'workbox-routing'

declare const self: ServiceWorkerGlobalScope & {
  __WB_MANIFEST: Array<string | { url: string; revision: string | null }>
}

// Filled in at build time with every built file and its revision.
precacheAndRoute(self.__WB_MANIFEST)
cleanupOutdatedCaches()

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
