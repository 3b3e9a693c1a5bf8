// What this phone has installed, kept in Cache Storage beside the precache (the service worker
// writes, the page reads): the release key pinned at the first install, and the checked release
// of each installed version, so the page can show the fingerprint of the code it runs, offline too.
import type { Fingerprint } from './manifest'
import type { ReleaseKey } from './signature'

const CACHE = 'blossom-release'
const PIN = '/pinned-release-key'
const releaseUrl = (version: string): string => `/installed-release/${encodeURIComponent(version)}`

/** signed: by the pinned key. unsigned: a build nobody signed, taken on first use. development: built with no release key. */
export type ReleaseStanding = 'signed' | 'unsigned' | 'development'

export interface InstalledRelease {
  readonly version: string
  readonly fingerprint: Fingerprint
  readonly standing: ReleaseStanding
}

async function read(url: string): Promise<string | undefined> {
  const response = await (await caches.open(CACHE)).match(url)
  return response === undefined ? undefined : response.text()
}

const write = async (url: string, text: string): Promise<void> => (await caches.open(CACHE)).put(url, new Response(text))

export const pinnedKey = async (): Promise<ReleaseKey | undefined> => (await read(PIN)) as ReleaseKey | undefined

export const pinKey = (key: ReleaseKey): Promise<void> => write(PIN, key)

export const recordInstalled = (release: InstalledRelease): Promise<void> => write(releaseUrl(release.version), JSON.stringify(release))

export async function installedRelease(version: string): Promise<InstalledRelease | undefined> {
  const text = await read(releaseUrl(version)).catch(() => undefined)
  if (text === undefined) return undefined
  try {
    return JSON.parse(text) as InstalledRelease
  } catch {
    return undefined
  }
}

/** Every installed release this phone has a record of (the active one, and one waiting). */
export async function installedReleases(): Promise<InstalledRelease[]> {
  const cache = await caches.open(CACHE)
  const out: InstalledRelease[] = []
  for (const request of await cache.keys()) {
    if (!new URL(request.url).pathname.startsWith('/installed-release/')) continue
    try {
      out.push(JSON.parse(await (await cache.match(request))!.text()) as InstalledRelease)
    } catch {
      // a record this version cannot read says nothing
    }
  }
  return out
}

/** Keeps the record of `version` and the pin; drops records of versions no longer installed. */
export async function forgetOtherReleases(version: string): Promise<void> {
  const cache = await caches.open(CACHE)
  for (const request of await cache.keys()) {
    const path = new URL(request.url).pathname
    if (path !== PIN && path !== releaseUrl(version)) await cache.delete(request)
  }
}
