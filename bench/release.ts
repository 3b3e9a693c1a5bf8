// What checking a release costs: a phone checking a new version before offering it (the manifest's
// signature, then every file's SHA-256), and what the checks add to what a phone downloads.
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { gzipSync } from 'node:zlib'
import { checkRelease, MANIFEST_PATH, newReleaseSecret, parseManifestDocument, SIGNATURE_PATH, signManifest, verifyManifest, type ReleaseSource } from '../src/release'
import type { Row } from './table'

async function medianAsync(runs: number, fn: () => Promise<unknown>): Promise<number> {
  const times: number[] = []
  for (let i = 0; i < runs; i++) {
    const t = performance.now()
    await fn()
    times.push(performance.now() - t)
  }
  return times.sort((a, b) => a - b)[runs >> 1]!
}

export async function releaseRows(dist: string, quick: boolean): Promise<Row[]> {
  const runs = quick ? 5 : 41
  const { manifest } = parseManifestDocument(await readFile(path.join(dist, ...MANIFEST_PATH.split('/')), 'utf8'))
  const { secret, key } = await newReleaseSecret()
  const signature = JSON.stringify(await signManifest(manifest, secret))
  const files = new Map<string, Uint8Array>()
  for (const served of Object.keys(manifest.files)) files.set(served, new Uint8Array(await readFile(path.join(dist, ...served.split('/')))))
  // From memory: the cost of checking, not of reading the disk or the network.
  const source: ReleaseSource = async (served) =>
    served === SIGNATURE_PATH ? new TextEncoder().encode(signature) : served === MANIFEST_PATH ? new TextEncoder().encode(JSON.stringify({ manifest })) : files.get(served)
  const bytes = [...files.values()].reduce((n, f) => n + f.length, 0)
  const gz = async (file: string): Promise<number> => gzipSync(await readFile(file), { level: 9 }).length / 1024
  const releaseChunk = Object.keys(manifest.files).find((f) => f.startsWith('/assets/release-'))
  return [
    { figure: 'verify the manifest signature (Ed25519, @noble/ed25519)', value: await medianAsync(runs, () => verifyManifest(manifest, JSON.parse(signature), key)), unit: 'ms' },
    { figure: `check a whole release: signature and every file (${files.size} files, ${Math.round(bytes / 1024)} KiB)`, value: await medianAsync(runs, () => checkRelease(source, key)), unit: 'ms' },
    { figure: 'service worker script, gzip', value: await gz(path.join(dist, 'sw.js')), unit: 'KiB' },
    { figure: 'release checks chunk (loaded after the shell paints), gzip', value: releaseChunk === undefined ? 0 : await gz(path.join(dist, ...releaseChunk.split('/'))), unit: 'KiB' },
  ]
}
