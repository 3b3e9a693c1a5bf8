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

describe('expiry', () => {
  it('every phone wipes an action by itself once its end plus the delay has passed, also offline', async () => {
    harness = await startSignaling()
    const core = await newPhone(harness.url, phones)
    const id = await core.phone.createAction('MARKER-ACTION')
    const s = core.phone.get(id)
    s.setStage({ text: 'MARKER-LOCATION' })
    s.setTimes({ goAt: Date.now() - 3 * 3600_000, endsAt: Date.now() - 2 * 3600_000, wipeAfterMs: 3600_000 })
    const keep = await core.phone.createAction('still running')
    core.phone.get(keep).setTimes({ goAt: Date.now() + 3600_000 })
    await Promise.all([s.planDoc!.whenSaved(), s.briefDoc.whenSaved(), s.remoteDoc!.whenSaved()])
    await core.phone.get(keep).briefDoc.whenSaved()
    // The phone is offline from here on.
    await harness.stop()
    harness = undefined
    const tags = async (): Promise<Set<string>> => new Set((await core.db.getAllKeys('docs')).map((k) => k[0]))
    const secrets = (await core.db.getAllKeys('secrets')).length
    const before = await tags()
    expect(await core.phone.wipeExpired()).toEqual([id])
    expect(core.phone.list().map((a) => a.id)).toEqual([keep])
    // The expired action's three documents (plan, brief, remote brief) are gone from disk, the other action's stay; its record too.
    const after = await tags()
    expect(before.size - after.size).toBe(3)
    for (const t of after) expect(before.has(t)).toBe(true)
    expect((await core.db.getAllKeys('secrets')).length).toBe(secrets - 1)
    // Also after a restart: the record is gone, not just closed.
    await core.phone.lock()
    phones.splice(phones.indexOf(core.phone), 1)
    const again = await Phone.unlock(core.db, PASSPHRASE, core.transport)
    phones.push(again)
    expect(again.list().map((a) => a.id)).toEqual([keep])
  })

  it('with no end set, an action lasts six hours after go, then the delay (default 24 hours)', async () => {
    harness = await startSignaling()
    const core = await newPhone(harness.url, phones)
    const id = await core.phone.createAction('x')
    const goAt = Date.now()
    core.phone.get(id).setTimes({ goAt })
    expect(core.phone.get(id).wipeAt()).toBe(goAt + 30 * 3600_000)
    expect(await core.phone.wipeExpired(goAt + 30 * 3600_000 - 1)).toEqual([])
    expect(await core.phone.wipeExpired(goAt + 30 * 3600_000)).toEqual([id])
  })

  it('opens a decoy the person prepared, as an ordinary action, and storage never told it was there', async () => {
    harness = await startSignaling()
    const [plain, armed] = [await newPhone(harness.url, phones), await newPhone(harness.url, phones)]
    for (const t of [plain, armed]) {
      const id = await t.phone.createAction('MARKER-ACTION')
      t.phone.get(id).setStage({ text: 'MARKER-LOCATION' })
      await t.phone.get(id).planDoc!.whenSaved()
    }
    const decoy = { title: 'Picnic rehearsal', notes: 'Bring a blanket and snacks; we practise the song.', stagingPoint: 'Park gate' }
    await armed.phone.setDuressPassphrase(PASSPHRASE, DURESS, decoy)
    await plain.phone.setDuressPassphrase(PASSPHRASE, DURESS) // a duress passphrase with no decoy
    // Same stores, same record counts, same record sizes: the decoy hides in the spare record every vault has.
    const sizes = async (t: TestPhone) => (await t.db.getAll('secrets')).map((b) => b.length).sort((a, b) => a - b)
    expect(await sizes(armed)).toEqual(await sizes(plain))
    const stored = await everyStoredByte(armed.db)
    expect(stored.includes(Buffer.from('Picnic'))).toBe(false)

    await armed.phone.lock()
    phones.splice(phones.indexOf(armed.phone), 1)
    const opened = await Phone.unlock(armed.db, DURESS, armed.transport)
    phones.push(opened)
    const list = opened.list()
    expect(list).toHaveLength(1)
    const session = opened.get(list[0]!.id)
    expect(session.role).toBe('core')
    expect(session.plan!.read()).toMatchObject({ title: 'Picnic rehearsal', notes: decoy.notes })
    expect(session.brief.read().stagingPoint).toBe('Park gate')
    await session.planDoc!.whenSaved()
    const after = await everyStoredByte(opened.db)
    expect(after.includes(Buffer.from('MARKER'))).toBe(false)
    // The phone now is an ordinary phone with one action: its own spare record, no decoy left to find.
    await opened.lock()
    phones.splice(phones.indexOf(opened), 1)
    const again = await Phone.unlock(opened.db, DURESS, armed.transport)
    phones.push(again)
    expect(again.list().map((a) => a.title)).toEqual(['Picnic rehearsal'])
  })

  it('refuses a decoy too long for its record, and changes nothing', async () => {
    harness = await startSignaling()
    const t = await newPhone(harness.url, phones)
    await expect(t.phone.setDuressPassphrase(PASSPHRASE, DURESS, { title: 'x', notes: 'n'.repeat(5000), stagingPoint: '' })).rejects.toMatchObject({ code: 'too-large' })
    await t.phone.lock()
    phones.splice(phones.indexOf(t.phone), 1)
    await expect(Phone.unlock(t.db, DURESS, t.transport)).rejects.toMatchObject({ code: 'wrong-passphrase' })
  })
})

