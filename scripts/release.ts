// Release commands (run with `npm run release -- <command>`, after `npm run build`):
//   keygen <secret-file>             make a release key pair; prints the public key (commit it as release/blossom-release.pub)
//   sign <secret-file> [dist]        sign dist/'s manifest with that key (writes dist/.well-known/blossom/signature.json)
//   verify [dist] [public-key]       check dist/: signature by the key (default: release/blossom-release.pub) and every file
//   fingerprint [dist]               print the fingerprint people compare with the one the app shows
// The secret key file never belongs in the repository: keep it offline, sign on a machine you trust.
import { chmod, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { checkRelease, fingerprintOf, isReleaseVersion, newReleaseSecret, parseReleaseKey, ReleaseError, shortFingerprint, type ReleaseKey, type ReleaseSecret, type ReleaseSource } from '../src/release'
import { readDistManifest, signDist } from './release-build'

const ROOT = path.resolve(import.meta.dirname, '..')

const fromDist = (dist: string): ReleaseSource => async (served) => {
  try {
    return new Uint8Array(await readFile(path.join(dist, ...served.split('/'))))
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw error
  }
}

async function main(args: string[]): Promise<void> {
  const [command, ...rest] = args
  switch (command) {
    case 'keygen': {
      const file = rest[0]
      if (file === undefined) throw new Error('usage: release keygen <secret-file>')
      const { secret, key } = await newReleaseSecret()
      await writeFile(file, `${secret}\n`, { flag: 'wx', mode: 0o600 }) // never overwrites a key
      await chmod(file, 0o600)
      console.log(key)
      return
    }
    case 'sign': {
      const [file, dist = path.join(ROOT, 'dist')] = rest
      if (file === undefined) throw new Error('usage: release sign <secret-file> [dist]')
      const secret = (await readFile(file, 'utf8')).trim() as ReleaseSecret
      const { version } = await readDistManifest(dist)
      // Phones refuse any version that is not newer than theirs: a release needs an x.y.z of its own.
      if (!isReleaseVersion(version)) throw new Error(`refusing to sign ${version}: a release version is x.y.z (bump package.json's version, then build)`)
      const fingerprint = await signDist(dist, secret)
      console.log(`signed ${(await readDistManifest(dist)).version}: ${shortFingerprint(fingerprint)}  (${fingerprint})`)
      return
    }
    case 'verify': {
      const [dist = path.join(ROOT, 'dist'), keyText] = rest
      const key: ReleaseKey = parseReleaseKey(keyText ?? (await readFile(path.join(ROOT, 'release', 'blossom-release.pub'), 'utf8')))
      const release = await checkRelease(fromDist(dist), key)
      console.log(`ok: ${release.manifest.version} signed by ${key}, ${Object.keys(release.manifest.files).length} files match: ${release.fingerprint}`)
      return
    }
    case 'fingerprint': {
      const [dist = path.join(ROOT, 'dist')] = rest
      const fingerprint = await fingerprintOf(await readDistManifest(dist))
      console.log(`${shortFingerprint(fingerprint)}  (${fingerprint})`)
      return
    }
    default:
      throw new Error('usage: release keygen|sign|verify|fingerprint … (see scripts/release.ts)')
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  console.error(error instanceof ReleaseError ? `refused (${error.code}): ${error.message}` : error instanceof Error ? error.message : String(error))
  process.exit(1)
})
