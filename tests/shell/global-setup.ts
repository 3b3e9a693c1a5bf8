// Builds the app twice, once per test run, into a temporary folder: version A, and version B that
// differs only in its baked-in build id (so its precache manifest and sw.js differ: an update).
// Both pin a release key made here and are signed with it, as the project signs a release.
// From B it derives what a hostile server would serve instead: an asset changed, sw.js changed,
// no signature, a signature by another key. Tests get the folders through inject('shellBuilds').
import { appendFile, cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type { TestProject } from 'vitest/node'
import { fileHash, MANIFEST_PATH, newReleaseSecret, SIGNATURE_PATH, type ReleaseSecret } from '../../src/release'
import { signDist } from '../../scripts/release-build'
import { ROOT, viteBuild as build } from '../support/vite'

export interface ShellBuild {
  dist: string
  buildId: string
  /** Fingerprint of its manifest (full hex), as the release command prints it. */
  fingerprint: string
}

/** B as a hostile server would serve it instead of the signed release. */
export interface HostileBuilds {
  /** The entry chunk changed, and the manifest's hash for it changed to match, under the old signature. */
  manifestForged: string
  assetChanged: string
  swChanged: string
  /** sw.js replaced by a worker of the server's own, which checks nothing. */
  swReplaced: string
  /** A genuine, correctly signed release older than A: a rollback to old bugs. */
  older: string
  unsigned: string
  otherKey: string
}

declare module 'vitest' {
  export interface ProvidedContext {
    shellBuilds: { a: ShellBuild; b: ShellBuild; hostile: HostileBuilds; releaseKey: string }
  }
}


async function hostileCopies(tmp: string, b: string, older: string, otherSecret: ReleaseSecret): Promise<HostileBuilds> {
  const copy = async (name: string): Promise<string> => {
    const dist = path.join(tmp, name)
    await cp(b, dist, { recursive: true })
    return dist
  }
  const assetChanged = await copy('asset-changed')
  const entry = (await readdir(path.join(assetChanged, 'assets'))).find((f) => f.startsWith('index-') && f.endsWith('.js'))
  if (entry === undefined) throw new Error('no entry chunk in the build')
  await appendFile(path.join(assetChanged, 'assets', entry), '\n;globalThis.blossomTampered = true\n')
  const manifestForged = await copy('manifest-forged')
  await cp(path.join(assetChanged, 'assets', entry), path.join(manifestForged, 'assets', entry))
  const manifestFile = path.join(manifestForged, ...MANIFEST_PATH.split('/'))
  const document = JSON.parse(await readFile(manifestFile, 'utf8')) as { manifest: { files: Record<string, string> } }
  document.manifest.files[`/assets/${entry}`] = await fileHash(new Uint8Array(await readFile(path.join(manifestForged, 'assets', entry))))
  await writeFile(manifestFile, JSON.stringify(document))
  const swChanged = await copy('sw-changed')
  await appendFile(path.join(swChanged, 'sw.js'), '\n;self.blossomTampered = true\n')
  const swReplaced = await copy('sw-replaced')
  await writeFile(path.join(swReplaced, 'sw.js'), "self.blossomTampered = true\nself.addEventListener('install', () => {})\n")
  const unsigned = await copy('unsigned')
  await rm(path.join(unsigned, ...SIGNATURE_PATH.split('/')))
  const otherKey = await copy('other-key')
  await signDist(otherKey, otherSecret)
  return { manifestForged, assetChanged, swChanged, swReplaced, older, unsigned, otherKey }
}

const BUILD_TIMEOUT_MS = 180_000

const viteBuild = (outDir: string, buildId: string, releaseKey: string): Promise<void> =>
  build(ROOT, ['--outDir', outDir, '--emptyOutDir', '--logLevel', 'warn'], buildId, BUILD_TIMEOUT_MS, { BLOSSOM_BUILD_ID: buildId, BLOSSOM_RELEASE_KEY: releaseKey })

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const tmp = await mkdtemp(path.join(tmpdir(), 'blossom-shell-'))
  const release = await newReleaseSecret()
  const other = await newReleaseSecret()
  try {
    // Versions as releases name them (x.y.z+commit): B is A's next build, `older` an earlier release.
    const a: ShellBuild = { dist: path.join(tmp, 'a'), buildId: '0.2.0+shell-a', fingerprint: '' }
    const b: ShellBuild = { dist: path.join(tmp, 'b'), buildId: '0.2.1+shell-b', fingerprint: '' }
    const older = path.join(tmp, 'older')
    await viteBuild(a.dist, a.buildId, release.key)
    await viteBuild(b.dist, b.buildId, release.key)
    await viteBuild(older, '0.1.9+shell-old', release.key)
    a.fingerprint = await signDist(a.dist, release.secret)
    b.fingerprint = await signDist(b.dist, release.secret)
    await signDist(older, release.secret)
    const hostile = await hostileCopies(tmp, b.dist, older, other.secret)
    project.provide('shellBuilds', { a, b, hostile, releaseKey: release.key })
  } catch (error) {
    await rm(tmp, { recursive: true, force: true })
    throw error
  }
  return () => rm(tmp, { recursive: true, force: true })
}
