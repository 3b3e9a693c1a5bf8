// The vault on IndexedDB (fake-indexeddb here; real Chromium in the browser tests):
// only ciphertext is written, the right passphrase restores everything, and every
// failure is a clear StoreError that destroys nothing.
import 'fake-indexeddb/auto'
import { describe, expect, it } from 'vitest'
import { newIdentity, identityFromSeed, toBase64Url, utf8, type PassphraseParams } from '../../src/crypto'
import { SecureDoc, newDocId } from '../../src/doc'
import { StoreError, Vault, openBlossomDB } from '../../src/store'
import { makeCore, options, text, type } from '../doc/fixtures'
import { everyStoredByte } from './scan'

// Real Argon2id, smaller memory than the default so the suite stays quick; one test uses the default.
const quick = (): PassphraseParams => ({ salt: crypto.getRandomValues(new Uint8Array(16)), opsLimit: 1, memLimitBytes: 8 * 1024 * 1024 })
let dbCount = 0
const freshDb = () => openBlossomDB(`vault-test-${++dbCount}`)

async function expectStoreError(p: Promise<unknown>, code: string) {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  )
  expect(e).toBeInstanceOf(StoreError)
  expect((e as StoreError).code).toBe(code)
  expect((e as StoreError).message.length).toBeGreaterThan(15)
}

describe('vault', () => {
  it('unlocks with the right passphrase only; a wrong one changes nothing', async () => {
    const db = await freshDb()
    const vault = await Vault.create(db, 'river stone lantern', quick())
    await vault.putSecret('settings', utf8('dark mode'))
    const headerBefore = await db.get('vault', 'header')
    await expectStoreError(Vault.unlock(db, 'river stone lanterns'), 'wrong-passphrase')
    await expectStoreError(Vault.unlock(db, ''), 'wrong-passphrase')
    expect(await db.get('vault', 'header')).toEqual(headerBefore)
    const again = await Vault.unlock(db, 'river stone lantern')
    expect(new TextDecoder().decode(await again.getSecret('settings'))).toBe('dark mode')
  })

  it('refuses a second setup, a missing vault, and a short passphrase', async () => {
    const db = await freshDb()
    await expectStoreError(Vault.unlock(db, 'anything at all'), 'no-vault')
    await expectStoreError(Vault.create(db, 'short', quick()), 'weak-passphrase')
    await Vault.create(db, 'long enough phrase', quick())
    await expectStoreError(Vault.create(db, 'another phrase here', quick()), 'vault-exists')
    expect(await Vault.exists(db)).toBe(true)
  })

  it('changes the passphrase; the old one stops working; a wrong current one changes nothing', async () => {
    const db = await freshDb()
    const vault = await Vault.create(db, 'first passphrase', quick())
    await vault.putSecret('identity', utf8('seed'))
    await expectStoreError(vault.changePassphrase('not the first', 'second passphrase'), 'wrong-passphrase')
    await expectStoreError(vault.changePassphrase('first passphrase', 'short'), 'weak-passphrase')
    await Vault.unlock(db, 'first passphrase')
    await vault.changePassphrase('first passphrase', 'second passphrase')
    await expectStoreError(Vault.unlock(db, 'first passphrase'), 'wrong-passphrase')
    const reopened = await Vault.unlock(db, 'second passphrase')
    expect(new TextDecoder().decode(await reopened.getSecret('identity'))).toBe('seed')
  })

  it('locking forgets the keys: every use afterwards asks for the passphrase', async () => {
    const db = await freshDb()
    const vault = await Vault.create(db, 'lock me please', quick())
    vault.lock()
    expect(vault.locked).toBe(true)
    await expectStoreError(vault.getSecret('identity'), 'locked')
    await expectStoreError(vault.putSecret('identity', utf8('x')), 'locked')
    await expectStoreError(vault.docStore.load(newDocId()), 'locked')
  })

  it('the spare key slot looks like a wrapped key (same size, same format byte)', async () => {
    const db = await freshDb()
    await Vault.create(db, 'indistinguishable', quick())
    const { slots } = (await db.get('vault', 'header'))!
    expect(slots[1].length).toBe(slots[0].length)
    expect(slots[1][0]).toBe(slots[0][0])
  })

  it('a header whose Argon2id parameters were lowered on disk does not open', async () => {
    const db = await freshDb()
    await Vault.create(db, 'downgrade attack', quick())
    const header = (await db.get('vault', 'header'))!
    await db.put('vault', { ...header, memLimitBytes: header.memLimitBytes / 2 }, 'header')
    await expectStoreError(Vault.unlock(db, 'downgrade attack'), 'wrong-passphrase')
  })

  it('a changed or swapped record is reported as corrupt, not returned', async () => {
    const db = await freshDb()
    const vault = await Vault.create(db, 'tamper evident', quick())
    // A new vault already holds its spare record (and where it is): these two are the new ones.
    const spare = new Set(await db.getAllKeys('secrets'))
    await vault.putSecret('identity', utf8('identity seed'))
    const [identityKey] = (await db.getAllKeys('secrets')).filter((k) => !spare.has(k))
    await vault.putSecret('settings', utf8('settings'))
    const [settingsKey] = (await db.getAllKeys('secrets')).filter((k) => !spare.has(k) && k !== identityKey)
    const keys = [identityKey!, settingsKey!]
    const values = [(await db.get('secrets', identityKey!))!, (await db.get('secrets', settingsKey!))!]
    // Swap the two records' bytes.
    await db.put('secrets', values[1]!, keys[0]!)
    await db.put('secrets', values[0]!, keys[1]!)
    await expectStoreError(vault.getSecret('identity'), 'corrupt')
    const flipped = values[0]!.slice()
    flipped[flipped.length - 1]! ^= 1
    await db.put('secrets', flipped, keys[0]!)
    await expectStoreError(vault.getSecret('identity'), 'corrupt')
  })

  it('stores only ciphertext: no plan text, ids or public keys anywhere in IndexedDB; unlock restores the plan', async () => {
    const db = await freshDb()
    const passphrase = 'correct horse battery staple'
    const vault = await Vault.create(db, passphrase) // default Argon2id parameters
    const core = makeCore(1)
    const me = core.members[0]!
    await vault.putSecret('identity', me.seed)
    const doc = await SecureDoc.open(options(core, me, { store: vault.docStore }))
    type(doc, 0, 'MARKER-location-is-the-old-bridge ')
    doc.flush()
    doc.plain.getMap('brief').set('bring', 'MARKER-water')
    doc.flush()
    doc.compact()
    type(doc, 0, 'MARKER-after-compaction ')
    await doc.close()

    const bytes = await everyStoredByte(db)
    expect(bytes.length).toBeGreaterThan(500)
    for (const needle of ['MARKER', core.docId, toBase64Url(me.signingPublicKey), 'old bridge']) {
      expect(bytes.includes(Buffer.from(needle, 'utf8')), needle).toBe(false)
      expect(bytes.includes(Buffer.from(needle, 'utf16le')), needle).toBe(false)
    }
    for (const raw of [me.signingPublicKey, me.boxPublicKey, me.seed.subarray(0, 16), core.key.subarray(0, 16)]) {
      expect(bytes.includes(Buffer.from(raw))).toBe(false)
    }

    vault.lock()
    const unlocked = await Vault.unlock(db, passphrase)
    const identity = identityFromSeed((await unlocked.getSecret('identity'))!)
    expect(identity.signingPublicKey).toEqual(me.signingPublicKey)
    const reopened = await SecureDoc.open(options(core, identity, { store: unlocked.docStore }))
    expect(text(reopened)).toBe('MARKER-after-compaction MARKER-location-is-the-old-bridge ')
    expect(reopened.plain.getMap('brief').get('bring')).toBe('MARKER-water')
  })

  it('a full disk gives a clear error, loses nothing, and saves everything once space is back', async () => {
    const db = await freshDb()
    const vault = await Vault.create(db, 'disk is full now', quick())
    const core = makeCore(1)
    const doc = await SecureDoc.open(options(core, core.members[0]!, { store: vault.docStore }))
    type(doc, 0, 'first ')
    doc.flush()
    await doc.whenSaved()

    const proto = Object.getPrototypeOf(db.transaction('docs', 'readwrite').objectStore('docs')) as { put: (...a: unknown[]) => unknown }
    const realPut = proto.put
    proto.put = () => {
      throw new DOMException('The quota has been exceeded.', 'QuotaExceededError')
    }
    const errors: unknown[] = []
    doc.on('store-error', (e) => errors.push(e))
    try {
      await expectStoreError(vault.putSecret('settings', utf8('x')), 'full')
      type(doc, 0, 'second ')
      doc.flush()
      await doc.whenSaved()
      expect(errors).toHaveLength(1)
      expect((errors[0] as StoreError).code).toBe('full')
      expect(text(doc)).toBe('second first ')
    } finally {
      proto.put = realPut
    }
    type(doc, 0, 'third ')
    doc.flush()
    await doc.close()
    const reopened = await SecureDoc.open(options(core, core.members[0]!, { store: vault.docStore }))
    expect(text(reopened)).toBe('third second first ')
  })

  it('keeps documents apart and deletes one without touching another', async () => {
    const db = await freshDb()
    const vault = await Vault.create(db, 'two documents here', quick())
    const [c1, c2] = [makeCore(1), makeCore(1)]
    const d1 = await SecureDoc.open(options(c1, c1.members[0]!, { store: vault.docStore }))
    const d2 = await SecureDoc.open(options(c2, c2.members[0]!, { store: vault.docStore }))
    type(d1, 0, 'one')
    type(d2, 0, 'two')
    await Promise.all([d1.close(), d2.close()])
    await vault.deleteDoc(c1.docId)
    expect(await vault.docStore.load(c1.docId)).toEqual([])
    const r2 = await SecureDoc.open(options(c2, c2.members[0]!, { store: vault.docStore }))
    expect(text(r2)).toBe('two')
    expect(newIdentity()).toBeDefined()
  })
})
