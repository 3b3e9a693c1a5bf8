// Releases in Node: the canonical bytes WEBCAT and Blossom sign, the manifest a build writes, and
// every way a hostile server can bend a release (changed fields, moved signatures, other keys,
// changed or missing files) refused with the reason a phone shows.
import { createHash } from 'node:crypto'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  canonicalJson,
  checkRelease,
  CONTENT_SECURITY_POLICY,
  fileHash,
  fingerprintOf,
  MANIFEST_PATH,
  newReleaseSecret,
  parseManifestDocument,
  parseReleaseKey,
  parseSignatureDocument,
  refuseOlder,
  ReleaseError,
  SIGNATURE_PATH,
  signManifest,
  verifyManifest,
  type ReleaseKey,
  type ReleaseManifest,
  type ReleaseSecret,
  type ReleaseSource,
} from '../../src/release'
import { addIntegrity, signDist, writeManifest } from '../../scripts/release-build'

const enc = new TextEncoder()

async function refusal(promise: Promise<unknown>): Promise<string> {
  try {
    await promise
  } catch (error) {
    expect(error).toBeInstanceOf(ReleaseError)
    return (error as ReleaseError).code
  }
  throw new Error('expected a refusal')
}

describe('canonical JSON (the bytes WEBCAT signs)', () => {
  it('sorts keys, drops whitespace, escapes only quote and backslash', () => {
    expect(canonicalJson({ b: [1, 'x"y\\z', true, null], a: { d: 'é/<', c: -3 } })).toBe('{"a":{"c":-3,"d":"é/<"},"b":[1,"x\\"y\\\\z",true,null]}')
  })

  it('refuses what it cannot write one way only', () => {
    expect(() => canonicalJson({ a: 1.5 })).toThrow(ReleaseError)
    expect(() => canonicalJson({ a: 'line\nbreak' })).toThrow(ReleaseError)
    expect(() => canonicalJson({ a: 'lone \ud800 surrogate' })).toThrow(ReleaseError) // would encode like U+FFFD
  })
})

let secret: ReleaseSecret
let key: ReleaseKey
let other: { secret: ReleaseSecret; key: ReleaseKey }
let manifest: ReleaseManifest

beforeAll(async () => {
  ;({ secret, key } = await newReleaseSecret())
  other = await newReleaseSecret()
  manifest = {
    app: 'urn:blossom:app',
    version: '1.2.3+abc',
    default_csp: CONTENT_SECURITY_POLICY,
    extra_csp: {},
    default_index: 'index.html',
    default_fallback: '/index.html',
    files: { '/index.html': await fileHash(enc.encode('<html>')), '/assets/app.js': await fileHash(enc.encode('run()')) },
    wasm: [await fileHash(enc.encode('\0asm'))],
  }
})

describe('release signature', () => {
  it('verifies with the key that signed, whatever WEBCAT adds as timestamp', async () => {
    const signed = await signManifest(manifest, secret)
    await verifyManifest(manifest, signed, key)
    await verifyManifest({ ...manifest, timestamp: 'size=1\nroot_hash=00' }, signed, key)
    // Two signers can share the document; each verifies alone.
    const both = await signManifest(manifest, other.secret, signed)
    await verifyManifest(manifest, both, key)
    await verifyManifest(manifest, both, other.key)
  })

  it.each([
    ['the CSP loosened', (m: ReleaseManifest) => ({ ...m, default_csp: `${m.default_csp}; script-src 'unsafe-eval'` })],
    ['a file hash swapped', (m: ReleaseManifest) => ({ ...m, files: { ...m.files, '/assets/app.js': m.files['/index.html']! } })],
    ['a file added', (m: ReleaseManifest) => ({ ...m, files: { ...m.files, '/assets/evil.js': m.files['/index.html']! } })],
    ['a wasm module allowed', (m: ReleaseManifest) => ({ ...m, wasm: [...m.wasm, m.files['/index.html']!] })],
    ['the version renamed', (m: ReleaseManifest) => ({ ...m, version: '9.9.9' })],
  ])('refuses a manifest changed after signing: %s', async (_name, change) => {
    const signed = await signManifest(manifest, secret)
    expect(await refusal(verifyManifest(change(manifest), signed, key))).toBe('bad-signature')
  })

  it('refuses no signature, another key, a signature moved under the pinned key, and garbage', async () => {
    expect(await refusal(verifyManifest(manifest, undefined, key))).toBe('unsigned')
    expect(await refusal(verifyManifest(manifest, { signatures: {} }, key))).toBe('unsigned')
    const byOther = await signManifest(manifest, other.secret)
    expect(await refusal(verifyManifest(manifest, byOther, key))).toBe('wrong-key')
    const moved = { signatures: { [key]: byOther.signatures[other.key]! } }
    expect(await refusal(verifyManifest(manifest, moved, key))).toBe('bad-signature')
    expect(await refusal(verifyManifest(manifest, { signatures: { [key]: 'AAAA' } }, key))).toBe('bad-signature')
    expect(await refusal(verifyManifest(manifest, { signatures: { [key]: '!!not base64!!' } }, key))).toBe('bad-signature')
  })

  it('reads keys and signature files strictly', () => {
    expect(parseReleaseKey(` ${key}\n`)).toBe(key)
    expect(() => parseReleaseKey('short')).toThrow(/32 bytes/)
    expect(() => parseSignatureDocument('nope')).toThrow(/not JSON/)
    expect(() => parseSignatureDocument('{"signatures":[]}')).toThrow(/no signatures/)
    expect(() => parseSignatureDocument('{"signatures":{"k":1}}')).toThrow(/not a string/)
  })
})

describe('rollback', () => {
  it('takes only a higher x.y.z over a release', () => {
    expect(() => refuseOlder('0.1.9+abc', '0.2.0+def')).toThrow(expect.objectContaining({ code: 'older' }))
    expect(() => refuseOlder('1.0.0', '1.0.1')).toThrow(ReleaseError)
    // Another build of the same x.y.z, or a version that cannot be ordered, is a rollback too.
    for (const next of ['0.2.0+new', '0.2.0', 'dev-build', 'v9.0.0', '9.0.0-rc.1', '']) {
      expect(() => refuseOlder(next, '0.2.0+old'), next).toThrow(expect.objectContaining({ code: 'older' }))
    }
    expect(() => refuseOlder('0.10.0', '0.9.9')).not.toThrow()
    expect(() => refuseOlder('0.2.1+abc', '0.2.0+def')).not.toThrow()
    expect(() => refuseOlder('1.0.0', '0.99.99')).not.toThrow()
    // A development build (no x.y.z) takes anything.
    expect(() => refuseOlder('0.0.1', 'dev-build')).not.toThrow()
  })
})

describe('manifest document', () => {
  const doc = (m: unknown): string => JSON.stringify({ manifest: m, signatures: {} })

  it('reads what a build writes and refuses broken ones with what is wrong', () => {
    expect(parseManifestDocument(doc(manifest)).manifest).toEqual(manifest)
    expect(() => parseManifestDocument('{')).toThrow(/not JSON/)
    expect(() => parseManifestDocument('{}')).toThrow(/no manifest/)
    expect(() => parseManifestDocument(doc({ ...manifest, default_csp: '' }))).toThrow(/default_csp/)
    expect(() => parseManifestDocument(doc({ ...manifest, files: {} }))).toThrow(/no files/)
    expect(() => parseManifestDocument(doc({ ...manifest, files: { 'index.html': manifest.files['/index.html'] } }))).toThrow(/files/)
    expect(() => parseManifestDocument(doc({ ...manifest, files: { '/index.html': 'abc' } }))).toThrow(/files/)
    expect(() => parseManifestDocument(doc({ ...manifest, wasm: 'x' }))).toThrow(/wasm/)
    expect(() => parseManifestDocument(doc({ ...manifest, default_index: 'other.html' }))).toThrow(/index page/)
    expect(() => parseManifestDocument(doc({ ...manifest, default_fallback: '__proto__' }))).toThrow(/index page/)
    // Nested too deep to walk: malformed, not a crash that would read as "offline".
    const deep = `${'['.repeat(50_000)}"x"${']'.repeat(50_000)}`
    const text = doc({ ...manifest, extra: 'DEEP' }).replace('"DEEP"', deep)
    expect(() => parseManifestDocument(text)).toThrow(expect.objectContaining({ code: 'malformed' }))
  })

  it('has a fingerprint that changes with any field', async () => {
    const f = await fingerprintOf(manifest)
    expect(f).toMatch(/^[0-9a-f]{64}$/)
    expect(await fingerprintOf({ ...manifest })).toBe(f)
    expect(await fingerprintOf({ ...manifest, version: 'x' })).not.toBe(f)
  })
})

describe('a built dist/', () => {
  let dist: string
  const wasm = new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 1, 2, 3])
  beforeAll(async () => {
    dist = await mkdtemp(path.join(tmpdir(), 'blossom-release-'))
    await mkdir(path.join(dist, 'assets'), { recursive: true })
    await mkdir(path.join(dist, '.hidden'), { recursive: true })
    await writeFile(path.join(dist, 'index.html'), '<script type="module" crossorigin src="/assets/app-1.js"></script>\n<link rel="stylesheet" crossorigin href="/assets/app-1.css">')
    await writeFile(path.join(dist, 'assets', 'app-1.js'), `const wasm = \`${Buffer.from(wasm).toString('base64')}\``)
    await writeFile(path.join(dist, 'assets', 'app-1.css'), 'body{}')
    await writeFile(path.join(dist, 'assets', 'app-1.js.map'), '{}')
    await writeFile(path.join(dist, 'assets', 'extra.wasm'), new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]))
    await writeFile(path.join(dist, '.hidden', 'x'), 'x')
  })
  afterAll(() => rm(dist, { recursive: true, force: true }))

  it('gets SRI on its script and style, a manifest of every served file and wasm, and a signature that checks', async () => {
    await addIntegrity(dist)
    const html = await readFile(path.join(dist, 'index.html'), 'utf8')
    for (const file of ['app-1.js', 'app-1.css']) {
      const sri = `sha384-${createHash('sha384').update(await readFile(path.join(dist, 'assets', file))).digest('base64')}`
      expect(html).toContain(`/assets/${file}" integrity="${sri}"`)
    }
    const written = await writeManifest(dist, { app: 'urn:blossom:app', version: 't' })
    expect(Object.keys(written.files)).toEqual(['/assets/app-1.css', '/assets/app-1.js', '/index.html'])
    expect(written.wasm).toEqual([await fileHash(wasm), await fileHash(new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]))].sort())
    expect(written.default_csp).toBe(CONTENT_SECURITY_POLICY)
    expect(parseManifestDocument(await readFile(path.join(dist, ...MANIFEST_PATH.split('/')), 'utf8')).manifest).toEqual(written)

    const fromDist: ReleaseSource = async (served) => {
      try {
        return new Uint8Array(await readFile(path.join(dist, ...served.split('/'))))
      } catch {
        return undefined
      }
    }
    expect(await refusal(checkRelease(fromDist, key))).toBe('unsigned')
    const fingerprint = await signDist(dist, secret)
    expect((await checkRelease(fromDist, key)).fingerprint).toBe(fingerprint)
    expect(await refusal(checkRelease(fromDist, other.key))).toBe('wrong-key')
    await writeFile(path.join(dist, 'assets', 'app-1.css'), 'body{color:red}')
    await expect(checkRelease(fromDist, key)).rejects.toThrow('/assets/app-1.css is not the file the release names.')
    await rm(path.join(dist, 'assets', 'app-1.css'))
    await expect(checkRelease(fromDist, key)).rejects.toThrow('/assets/app-1.css is missing on the server.')
    await rm(path.join(dist, ...SIGNATURE_PATH.split('/')))
    expect(await refusal(checkRelease(fromDist, key))).toBe('unsigned')
    const unreachable: ReleaseSource = () => Promise.reject(new Error('offline'))
    expect(await refusal(checkRelease(unreachable, key))).toBe('unreachable')
  })
})

describe('npm run release (the documented commands)', () => {
  it('makes a key once, signs a build, verifies it, and refuses another key', async () => {
    const { spawnSync } = await import('node:child_process')
    const work = await mkdtemp(path.join(tmpdir(), 'blossom-release-cli-'))
    try {
      const run = (...args: string[]) => {
        const r = spawnSync(process.execPath, [path.resolve('node_modules/tsx/dist/cli.mjs'), 'scripts/release.ts', ...args], { encoding: 'utf8' })
        return { code: r.status, out: r.stdout.trim(), err: r.stderr.trim() }
      }
      const secretFile = path.join(work, 'release.key')
      const made = run('keygen', secretFile)
      expect(made.code).toBe(0)
      const pub = parseReleaseKey(made.out)
      expect((await readFile(secretFile, 'utf8')).trim()).not.toContain(pub) // the file holds the secret, stdout the public key
      expect(run('keygen', secretFile).code).not.toBe(0) // never overwrites a key

      const dist = path.join(work, 'dist')
      await mkdir(dist)
      await writeFile(path.join(dist, 'index.html'), '<html>')
      await writeManifest(dist, { app: 'urn:blossom:app', version: 'cli' })
      const unordered = run('sign', secretFile, dist)
      expect(unordered.code).toBe(1) // phones could not order it: not a release
      expect(unordered.err).toMatch(/x\.y\.z/)
      await writeManifest(dist, { app: 'urn:blossom:app', version: '1.0.0+cli' })
      const signed = run('sign', secretFile, dist)
      expect(signed.code).toBe(0)
      const printed = run('fingerprint', dist).out
      expect(signed.out).toContain(printed.split('  ')[0]!)
      expect(run('verify', dist, pub)).toMatchObject({ code: 0 })
      const refused = run('verify', dist, other.key)
      expect(refused.code).toBe(1)
      expect(refused.err).toMatch(/^refused \(wrong-key\)/)
    } finally {
      await rm(work, { recursive: true, force: true })
    }
  })
})
