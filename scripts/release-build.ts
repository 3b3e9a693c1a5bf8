// Build-time half of releases (Node only): subresource integrity for the HTML, and the WEBCAT
// manifest of a built dist/. Used by vite.config.ts; the signing commands are in release.ts.
import { createHash } from 'node:crypto'
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { CONTENT_SECURITY_POLICY } from '../src/release/headers'
import { fileHash, fingerprintOf, MANIFEST_PATH, parseManifestDocument, type Fingerprint, type ManifestDocument, type ReleaseManifest } from '../src/release/manifest'
import { SIGNATURE_PATH, signManifest, type ReleaseSecret } from '../src/release/signature'

/** A served path ("/.well-known/…") inside a dist folder. */
const fileIn = (dist: string, served: string): string => path.join(dist, ...served.split('/'))

export async function readDistManifest(dist: string): Promise<ReleaseManifest> {
  return parseManifestDocument(await readFile(fileIn(dist, MANIFEST_PATH), 'utf8')).manifest
}

/** Signs dist/'s manifest with a release secret: writes SIGNATURE_PATH, returns the fingerprint. */
export async function signDist(dist: string, secret: ReleaseSecret): Promise<Fingerprint> {
  const manifest = await readDistManifest(dist)
  const target = fileIn(dist, SIGNATURE_PATH)
  await mkdir(path.dirname(target), { recursive: true })
  await writeFile(target, `${JSON.stringify(await signManifest(manifest, secret), null, 2)}\n`)
  return fingerprintOf(manifest)
}

/** Every file under dir, as "/relative/path", sorted; dot-folders (.well-known) are not part of a release. */
async function servedFiles(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = []
  for (const entry of (await readdir(path.join(dir, prefix), { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (entry.name.startsWith('.') || entry.name.endsWith('.map')) continue
    const relative = prefix === '' ? entry.name : `${prefix}/${entry.name}`
    if (entry.isDirectory()) out.push(...(await servedFiles(dir, relative)))
    else if (entry.isFile()) out.push(`/${relative}`)
  }
  return out
}

/** WebAssembly modules inlined in a script as base64 (libsodium's build does this). */
function inlinedWasm(code: string): Uint8Array[] {
  // "\0asm" + version 1, in base64: every wasm module starts with it.
  return [...code.matchAll(/AGFzbQEAAAA[A-Za-z0-9+/]*={0,2}/g)].map((m) => new Uint8Array(Buffer.from(m[0], 'base64')))
}

/** Adds integrity="sha384-…" to every script and stylesheet index.html loads from the build. */
export async function addIntegrity(dist: string): Promise<void> {
  const file = path.join(dist, 'index.html')
  const html = await readFile(file, 'utf8')
  const tags = /<(script|link)\b[^>]*?\b(src|href)="(\/assets\/[^"]+\.(?:js|css))"[^>]*>/g
  let out = html
  for (const [tag, , , url] of html.matchAll(tags)) {
    if (tag.includes('integrity=')) continue
    const bytes = await readFile(path.join(dist, url as string))
    const integrity = `sha384-${createHash('sha384').update(bytes).digest('base64')}`
    out = out.replace(tag, tag.replace(/\s*\/?>$/, (end) => ` integrity="${integrity}"${end}`))
  }
  await writeFile(file, out)
}

interface PrecacheEntry {
  url: string
  revision: string | null
  size: number
  integrity?: string
}

/** A Workbox manifest transform: adds `integrity` (sha256, SRI format) to every precache entry, read from dist. */
export function withIntegrity(dist: () => string) {
  return async (entries: PrecacheEntry[]) => ({
    manifest: await Promise.all(
      entries.map(async (entry) => ({
        ...entry,
        integrity: `sha256-${createHash('sha256').update(await readFile(path.join(dist(), ...entry.url.split('/')))).digest('base64')}`,
      })),
    ),
    warnings: [] as string[],
  })
}

export interface ManifestOptions {
  readonly app: string
  readonly version: string
}

/** Writes dist/.well-known/webcat/manifest.json (unsigned) and returns its manifest. */
export async function writeManifest(dist: string, options: ManifestOptions): Promise<ReleaseManifest> {
  const files: Record<string, string> = {}
  const wasm = new Set<string>()
  for (const served of await servedFiles(dist)) {
    const bytes = new Uint8Array(await readFile(path.join(dist, served)))
    if (served.endsWith('.wasm')) {
      wasm.add(await fileHash(bytes))
      continue
    }
    files[served] = await fileHash(bytes)
    if (served.endsWith('.js')) for (const module of inlinedWasm(Buffer.from(bytes).toString('latin1'))) wasm.add(await fileHash(module))
  }
  const manifest: ReleaseManifest = {
    app: options.app,
    version: options.version,
    default_csp: CONTENT_SECURITY_POLICY,
    extra_csp: {},
    default_index: 'index.html',
    // Every deep link (/a/…) is answered with the app shell.
    default_fallback: '/index.html',
    files,
    wasm: [...wasm].sort(),
  }
  const document: ManifestDocument = { manifest, signatures: {} }
  const target = fileIn(dist, MANIFEST_PATH)
  await mkdir(path.dirname(target), { recursive: true })
  await writeFile(target, `${JSON.stringify(document, null, 2)}\n`)
  return manifest
}
