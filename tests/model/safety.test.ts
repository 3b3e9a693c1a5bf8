// Device safety: panic wipe, duress passphrase. Real vaults (fake-indexeddb).
import { afterEach, describe, expect, it } from 'vitest'
import { openBlossomDB, StoreError, Vault } from '../../src/store'
import { Phone } from '../../src/model'
import { startSignaling, type Harness } from '../server/helpers'
import { everyStoredByte } from '../store/scan'
import { newPhone, PASSPHRASE, type TestPhone } from './phones'

let harness: Harness | undefined
const phones: Phone[] = []
afterEach(async () => {
  await Promise.all(phones.splice(0).map((p) => p.lock().catch(() => undefined)))
  await harness?.stop()
})

const DURESS = 'the other phrase'

async function withActions(): Promise<TestPhone> {
  harness = await startSignaling()
  const t = await newPhone(harness.url, phones)
  const id = await t.phone.createAction('MARKER-ACTION')
  t.phone.get(id).setStage({ text: 'MARKER-LOCATION' })
  await t.phone.get(id).planDoc!.whenSaved()
  return t
}

describe('panic wipe', () => {
  it('removes every stored byte and leaves a phone that looks freshly installed', async () => {
    const t = await withActions()
    expect((await everyStoredByte(t.db)).length).toBeGreaterThan(1000)
    await t.phone.panicWipe()
    phones.splice(phones.indexOf(t.phone), 1)
    const names = (await indexedDB.databases()).map((d) => d.name)
    expect(names).not.toContain(t.db.name)
    const fresh = await openBlossomDB(t.db.name)
    expect(await Vault.exists(fresh)).toBe(false)
    expect(await everyStoredByte(fresh)).toHaveLength(0)
  })
})

describe('duress passphrase', () => {
  it('entered at unlock, silently wipes and opens an empty phone', async () => {
    const t = await withActions()
    await t.phone.setDuressPassphrase(PASSPHRASE, DURESS)
    await t.phone.lock()
    phones.splice(phones.indexOf(t.phone), 1)
    const opened = await Phone.unlock(t.db, DURESS, t.transport)
    phones.push(opened)
    expect(opened.list()).toEqual([])
    const stored = await everyStoredByte(opened.db)
    expect(stored.includes(Buffer.from('MARKER'))).toBe(false)
    // The old passphrase no longer opens anything: it is all gone.
    await opened.lock()
    phones.splice(phones.indexOf(opened), 1)
    await expect(Phone.unlock(opened.db, PASSPHRASE, t.transport)).rejects.toMatchObject({ code: 'wrong-passphrase' })
    const again = await Phone.unlock(opened.db, DURESS, t.transport)
    phones.push(again)
    expect(again.list()).toEqual([])
  })

  it('leaves no trace in storage that it exists: the header looks the same with and without', async () => {
    harness = await startSignaling()
    const [plain, armed] = [await newPhone(harness.url, phones), await newPhone(harness.url, phones)]
    await armed.phone.setDuressPassphrase(PASSPHRASE, DURESS)
    const [h1, h2] = [(await plain.db.get('vault', 'header'))!, (await armed.db.get('vault', 'header'))!]
    const shape = (h: typeof h1) => ({
      keys: Object.keys(h).sort(),
      version: h.version,
      saltLength: h.salt.length,
      opsLimit: h.opsLimit,
      memLimitBytes: h.memLimitBytes,
      slots: h.slots.map((s) => [s.length, s[0]]),
    })
    expect(shape(h2)).toEqual(shape(h1))
    // And nothing else in the database differs in kind: same stores, same record counts.
    for (const store of ['vault', 'secrets', 'docs'] as const) {
      expect((await armed.db.getAllKeys(store)).length).toBe((await plain.db.getAllKeys(store)).length)
    }
  })

  it('survives a change of the main passphrase; refuses to equal the main one', async () => {
    const t = await withActions()
    await expect(t.phone.setDuressPassphrase(PASSPHRASE, PASSPHRASE)).rejects.toBeInstanceOf(StoreError)
    await t.phone.setDuressPassphrase(PASSPHRASE, DURESS)
    await t.phone.changePassphrase(PASSPHRASE, 'a brand new phrase')
    await t.phone.lock()
    phones.splice(phones.indexOf(t.phone), 1)
    const main = await Phone.unlock(t.db, 'a brand new phrase', t.transport)
    expect(main.list()).toHaveLength(1)
    await main.lock()
    const wiped = await Phone.unlock(t.db, DURESS, t.transport)
    phones.push(wiped)
    expect(wiped.list()).toEqual([])
  })
})
