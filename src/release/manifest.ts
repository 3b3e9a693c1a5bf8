// A release is one build of the app, described by a manifest in WEBCAT's format: the SHA-256 of
// every file served, the WebAssembly the app compiles, and the exact CSP. `npm run build` writes it
// to MANIFEST_PATH; a release signature (signature.ts) makes it a release of the Blossom project.
// Pure functions over the manifest; hashing is WebCrypto, present in Node, pages and workers.
import { canonicalJson, type CanonicalValue } from './canonical'
import { ReleaseError } from './errors'

/** Where the manifest is served; the same path WEBCAT's tools and extension use. */
export const MANIFEST_PATH = '/.well-known/webcat/manifest.json'

/** WEBCAT's manifest (webcat-cli's buildManifest; hashes are unpadded base64url SHA-256). */
export interface ReleaseManifest {
  readonly app: string
  /** Blossom's build id (package version plus commit), also shown in the app. */
  readonly version: string
  readonly default_csp: string
  readonly extra_csp: Readonly<Record<string, string>>
  /** Without a leading slash, as WEBCAT writes it. */
  readonly default_index: string
  readonly default_fallback: string
  /** Served path ("/assets/x.js") to the file's hash. WebAssembly is listed in wasm instead. */
  readonly files: Readonly<Record<string, string>>
  /** Hashes of every WebAssembly module the app compiles (libsodium's, inlined in its chunk). */
  readonly wasm: readonly string[]
  /** Added by WEBCAT's Sigsum tooling; Blossom's signature does not cover it. */
  readonly timestamp?: string
}

/** The file at MANIFEST_PATH. Blossom writes no WEBCAT signatures; an operator's tooling adds them. */
export interface ManifestDocument {
  readonly manifest: ReleaseManifest
  readonly signatures: CanonicalValue
}

/** The human-comparable name of a release: SHA-256 of its canonical manifest, in hex. */
export type Fingerprint = string & { readonly __brand: 'Fingerprint' }

const HASH = /^[A-Za-z0-9_-]{43}$/

export function toBase64Url(bytes: Uint8Array): string {
  let binary = ''
  for (const b of bytes) binary += String.fromCharCode(b)
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

export function fromBase64Url(text: string): Uint8Array {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) throw new ReleaseError('malformed', 'A key or signature is not base64url.')
  const binary = atob(text.replace(/-/g, '+').replace(/_/g, '/'))
  return Uint8Array.from(binary, (c) => c.charCodeAt(0))
}

export async function sha256(bytes: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>))
}

/** A file's hash as the manifest writes it. */
export const fileHash = async (bytes: Uint8Array): Promise<string> => toBase64Url(await sha256(bytes))

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

function stringMap(value: unknown, what: string, check: (key: string, value: string) => boolean): Readonly<Record<string, string>> {
  if (!isRecord(value)) throw new ReleaseError('malformed', `The release manifest's ${what} is not a map.`)
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'string' || !check(k, v)) throw new ReleaseError('malformed', `The release manifest's ${what} has a bad entry: ${k}`)
  }
  return value as Record<string, string>
}

/** Reads and checks a manifest document's shape; throws ReleaseError('malformed') with what is wrong. */
export function parseManifestDocument(text: string): ManifestDocument {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    throw new ReleaseError('malformed', 'The release manifest is not JSON.')
  }
  if (!isRecord(json) || !isRecord(json['manifest'])) throw new ReleaseError('malformed', 'The release manifest has no manifest object.')
  const m = json['manifest']
  for (const key of ['app', 'version', 'default_csp', 'default_index', 'default_fallback'] as const) {
    if (typeof m[key] !== 'string' || m[key] === '') throw new ReleaseError('malformed', `The release manifest has no ${key}.`)
  }
  if (m['timestamp'] !== undefined && typeof m['timestamp'] !== 'string') throw new ReleaseError('malformed', 'The release manifest has a bad timestamp.')
  const files = stringMap(m['files'], 'files', (path, hash) => path.startsWith('/') && HASH.test(hash))
  stringMap(m['extra_csp'], 'extra_csp', (path) => path.startsWith('/'))
  const wasm = m['wasm']
  if (!Array.isArray(wasm) || !wasm.every((h) => typeof h === 'string' && HASH.test(h))) {
    throw new ReleaseError('malformed', 'The release manifest has a bad wasm list.')
  }
  if (Object.keys(files).length === 0) throw new ReleaseError('malformed', 'The release manifest lists no files.')
  if (!Object.hasOwn(files, `/${String(m['default_index'])}`) || !Object.hasOwn(files, String(m['default_fallback']))) {
    throw new ReleaseError('malformed', 'The release manifest does not list its own index page.')
  }
  try {
    canonicalJson(m as CanonicalValue) // refuses what cannot be signed
  } catch (error) {
    // Too deeply nested to walk (RangeError) is as malformed as anything else.
    throw error instanceof ReleaseError ? error : new ReleaseError('malformed', 'The release manifest cannot be read.')
  }
  return { manifest: m as unknown as ReleaseManifest, signatures: (json['signatures'] ?? {}) as CanonicalValue }
}

/** The bytes a release signature covers: the canonical manifest without WEBCAT's timestamp. */
export function signedManifestBytes(manifest: ReleaseManifest): Uint8Array {
  const { timestamp: _timestamp, ...signed } = manifest
  return new TextEncoder().encode(canonicalJson(signed as unknown as CanonicalValue))
}

export async function fingerprintOf(manifest: ReleaseManifest): Promise<Fingerprint> {
  const digest = await sha256(signedManifestBytes(manifest))
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('') as Fingerprint
}

/** What a person compares: the first 64 bits of the fingerprint, in four groups ("3f2a 91c0 7d1e 88b2"). */
export const shortFingerprint = (fingerprint: Fingerprint): string => (fingerprint.slice(0, 16).match(/.{4}/g) ?? []).join(' ')
