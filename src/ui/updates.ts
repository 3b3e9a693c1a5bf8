// The app's side of updates: registers the service worker (workbox-window), checks every new
// version the server offers before offering it (signature by the pinned release key, every file
// against the signed manifest), and says why when it refuses. A new version never activates by
// itself: only apply() (the person pressed "Reload") tells a checked, waiting worker to take over.
import { Workbox } from 'workbox-window'
import type { ReleaseErrorCode, ReleaseKey, ReleaseSource, ReleaseStanding } from '../release'

/** The release checks are a chunk of their own: the shell paints before they arrive. */
const releases = () => import('../release')

declare const __BLOSSOM_BUILD_ID__: string
declare const __BLOSSOM_RELEASE_KEY__: string | null

/** How often a long-open app asks for a new version (only while the browser thinks it is online). */
const UPDATE_CHECK_MS = 60 * 60 * 1000
/** If the new worker has not taken over by then, reload anyway (bounded, never stuck on "Reloading"). */
const RELOAD_FALLBACK_MS = 10_000

export type UpdateState =
  | { readonly kind: 'none' }
  /** A new version passed every check and waits for "Reload". */
  | { readonly kind: 'ready'; readonly fingerprint: string }
  /** The server offered a version this phone refused; it keeps the one it runs. */
  | { readonly kind: 'refused'; readonly reason: Exclude<ReleaseErrorCode, 'unreachable'> }

/** The build this page runs, as its service worker checked it at install. */
export interface RunningBuild {
  readonly fingerprint: string
  readonly standing: ReleaseStanding
}

export interface UpdateSource {
  onChange(callback: (state: UpdateState) => void): () => void
  /** Activates the checked waiting version, then reloads the page. */
  apply(): void
  /** Resolves once known; undefined when no service worker runs (first visit before install, private mode). */
  running(): Promise<RunningBuild | undefined>
}

export function noUpdates(): UpdateSource {
  return { onChange: () => () => undefined, apply: () => location.reload(), running: async () => undefined }
}

/** Fetches from the server itself, past the running worker's precache (which answers only exact URLs). */
const fromServer: ReleaseSource = async (path) => {
  const response = await fetch(`${path}?release-check=${Date.now()}`, { cache: 'no-store' })
  if (response.status === 404) return undefined
  if (!response.ok) throw new Error(`HTTP ${response.status}`)
  return new Uint8Array(await response.arrayBuffer())
}

export function serviceWorkerUpdates(): UpdateSource {
  if (!('serviceWorker' in navigator)) return noUpdates()
  const container = navigator.serviceWorker
  const wb = new Workbox('/sw.js', { scope: '/' })
  const listeners = new Set<(state: UpdateState) => void>()
  let state: UpdateState = { kind: 'none' }
  let registration: ServiceWorkerRegistration | undefined
  /** The newer release the server serves, checked by this page; undefined until one passes. */
  let checked: { fingerprint: string } | undefined
  let checking: Promise<void> | undefined

  const set = (next: UpdateState): void => {
    state = next
    for (const listener of listeners) listener(state)
  }
  const refuse = (code: ReleaseErrorCode): void => {
    if (code !== 'unreachable') set({ kind: 'refused', reason: code })
  }
  const offer = (): void => {
    if (registration?.waiting && checked && container.controller) set({ kind: 'ready', fingerprint: checked.fingerprint })
  }

  /**
   * Checks what the server serves now (signature by the pinned key, every file, newer than this
   * version), at start, whenever a new worker appears, and with every update check. Only an update
   * (a worker already controls this page), never the first install.
   */
  const checkServer = (): Promise<void> =>
    (checking ??= (async () => {
      if (!container.controller) return
      const { checkRelease, pinnedKey, refuseOlder, ReleaseError, shortFingerprint } = await releases()
      try {
        // The key this version was built with is the pinned one (its worker would not have installed otherwise).
        const key = ((await pinnedKey().catch(() => undefined)) ?? __BLOSSOM_RELEASE_KEY__ ?? undefined) as ReleaseKey | undefined
        const release = await checkRelease(fromServer, key)
        if (release.manifest.version === __BLOSSOM_BUILD_ID__) return // nothing new
        refuseOlder(release.manifest.version, __BLOSSOM_BUILD_ID__)
        checked = { fingerprint: shortFingerprint(release.fingerprint) }
        offer()
      } catch (error) {
        checked = undefined
        refuse(error instanceof ReleaseError ? error.code : 'unreachable')
      }
    })().finally(() => (checking = undefined)))

  const watch = (worker: ServiceWorker | null | undefined): void => {
    if (!worker) return
    worker.addEventListener('statechange', () => worker.state === 'installed' && offer())
  }

  // The worker's own checks failed while installing: it tells every page why.
  container.addEventListener('message', (event: MessageEvent) => {
    const data = event.data as { type?: unknown; code?: unknown } | null
    if (data?.type === 'blossom-release-refused' && typeof data.code === 'string' && container.controller) refuse(data.code as ReleaseErrorCode)
  })

  wb.register().then(
    (reg) => {
      if (reg === undefined) return
      registration = reg
      watch(reg.installing)
      reg.addEventListener('updatefound', () => {
        checked = undefined
        watch(reg.installing)
        void checkServer()
      })
      void checkServer()
    },
    () => undefined, // no service worker (private mode, blocked): the app still runs while online
  )
  setInterval(() => {
    if (!navigator.onLine) return
    wb.update().catch(() => undefined)
    void checkServer()
  }, UPDATE_CHECK_MS)

  return {
    onChange(callback) {
      listeners.add(callback)
      callback(state)
      return () => listeners.delete(callback)
    },
    apply() {
      const reload = (): void => location.reload()
      const waiting = registration?.waiting
      if (!waiting) return reload() // another tab already switched to it
      if (!checked) return // never activate a version this page has not checked
      container.addEventListener('controllerchange', reload, { once: true })
      setTimeout(reload, RELOAD_FALLBACK_MS)
      waiting.postMessage({ type: 'SKIP_WAITING' })
    },
    async running() {
      await container.ready
      const { installedRelease, shortFingerprint } = await releases()
      const installed = await installedRelease(__BLOSSOM_BUILD_ID__)
      return installed && { fingerprint: shortFingerprint(installed.fingerprint), standing: installed.standing }
    },
  }
}
