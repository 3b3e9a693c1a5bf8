// Checking a release as it is served: fetch its manifest and signature, verify the signature with
// the pinned key, then every file against the manifest. The page runs this on any new version
// before offering it; the service worker runs the same checks on what it precaches.
import { ReleaseError } from './errors'
import { fileHash, fingerprintOf, MANIFEST_PATH, parseManifestDocument, type Fingerprint, type ReleaseManifest } from './manifest'
import { parseSignatureDocument, SIGNATURE_PATH, verifyManifest, type ReleaseKey } from './signature'

/** Where a release's files come from: bytes, undefined when the server has no such file (404). Throws when unreachable. */
export type ReleaseSource = (path: string) => Promise<Uint8Array | undefined>

/** A manifest that passed: signed by the pinned key, or (no key pinned) an unsigned development build. */
export interface Release {
  readonly manifest: ReleaseManifest
  readonly fingerprint: Fingerprint
  /** The key that signed it; undefined for a development build with no release key. */
  readonly signedBy: ReleaseKey | undefined
}

const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes)

async function fetchOrUnreachable(source: ReleaseSource, path: string): Promise<Uint8Array | undefined> {
  try {
    return await source(path)
  } catch {
    throw new ReleaseError('unreachable', `Could not fetch ${path}.`)
  }
}

/** Reads the served manifest and checks its signature with `key` (no key: a development build, unsigned is fine). */
export async function readRelease(source: ReleaseSource, key: ReleaseKey | undefined): Promise<Release> {
  const manifestBytes = await fetchOrUnreachable(source, MANIFEST_PATH)
  if (manifestBytes === undefined) throw new ReleaseError('unsigned', 'The server has no release manifest.')
  const { manifest } = parseManifestDocument(text(manifestBytes))
  if (key !== undefined) {
    const signatureBytes = await fetchOrUnreachable(source, SIGNATURE_PATH)
    const signatures = signatureBytes === undefined ? undefined : parseSignatureDocument(text(signatureBytes))
    await verifyManifest(manifest, signatures, key)
  }
  return { manifest, fingerprint: await fingerprintOf(manifest), signedBy: key }
}

/** Throws files-differ naming the first file whose bytes are not the manifest's (or are missing). */
export async function checkFile(manifest: ReleaseManifest, path: string, bytes: Uint8Array | undefined): Promise<void> {
  const expected = manifest.files[path]
  if (expected === undefined) throw new ReleaseError('files-differ', `${path} is not part of the release.`)
  if (bytes === undefined) throw new ReleaseError('files-differ', `${path} is missing on the server.`)
  if ((await fileHash(bytes)) !== expected) throw new ReleaseError('files-differ', `${path} is not the file the release names.`)
}

/** Fetches and checks every file the manifest lists, a few at a time. */
export async function checkFiles(manifest: ReleaseManifest, source: ReleaseSource): Promise<void> {
  const paths = Object.keys(manifest.files)
  const next = async (): Promise<void> => {
    for (let path = paths.shift(); path !== undefined; path = paths.shift()) {
      await checkFile(manifest, path, await fetchOrUnreachable(source, path))
    }
  }
  await Promise.all([next(), next(), next(), next()])
}

const semver = (version: string): number[] | undefined => /^(\d+)\.(\d+)\.(\d+)(?:[+]|$)/.exec(version)?.slice(1).map(Number)

/** True if `version` is a release version: x.y.z, optionally +build metadata (the commit). */
export const isReleaseVersion = (version: string): boolean => semver(version) !== undefined

/**
 * Throws 'older' unless `next` is a newer release than `installed`: a higher x.y.z. Each release has
 * its own x.y.z (`npm run release -- sign` refuses anything else), so a build of the same or a lower
 * one, or one whose version cannot be ordered, is a rollback. A development build (no x.y.z) takes
 * anything.
 */
export function refuseOlder(next: string, installed: string): void {
  const b = semver(installed)
  if (b === undefined) return
  const a = semver(next)
  for (let i = 0; a !== undefined && i < 3; i++) {
    if (a[i]! > b[i]!) return
    if (a[i]! < b[i]!) break
  }
  throw new ReleaseError('older', `Version ${next} is not newer than the installed ${installed}.`)
}

/** The whole check of a served release: signature, then every file. */
export async function checkRelease(source: ReleaseSource, key: ReleaseKey | undefined): Promise<Release> {
  const release = await readRelease(source, key)
  await checkFiles(release.manifest, source)
  return release
}
