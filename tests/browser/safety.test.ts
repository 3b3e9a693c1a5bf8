// Device safety in real Chromium: panic wipe, duress passphrase, idle lock, lock when
// out of sight. Afterwards nothing of the action is on screen or in storage.
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AppServer } from '../../src/server/app-server'
import { t } from './words'
import { launch, PhonePage, serve } from './harness'

let browser: Browser
let server: AppServer
let url: string
beforeAll(async () => {
  browser = await launch()
  ;({ server, url } = await serve())
})
afterAll(async () => {
  await browser?.close()
  await server?.close()
})

async function phoneWithAction(): Promise<PhonePage> {
  const p = await PhonePage.withAction(browser, url, 'MARKER-TITLE')
  await p.page.getByLabel(t('location')).fill('MARKER-LOCATION')
  await p.page.getByRole('button', { name: t('saveLocation') }).click()
  await p.page.waitForTimeout(500) // let the batched frames reach IndexedDB
  expect(await p.storedBytes()).not.toBe('')
  return p
}

/** Names of every cache, and whether any cached body holds the marker. */
/** Caches may hold the app (precache) and its release records (the pinned public key, checked versions): nothing else. */
async function cacheReport(p: PhonePage): Promise<{ names: string[]; marker: boolean; appOnly: boolean }> {
  return p.page.evaluate(async () => {
    const names = await caches.keys()
    let marker = false
    let appOnly = true
    for (const name of names) {
      const cache = await caches.open(name)
      for (const req of await cache.keys()) {
        const body = await (await cache.match(req))!.text()
        if (body.includes('MARKER')) marker = true
        const path = new URL(req.url).pathname
        if (name === 'blossom-release' && path !== '/pinned-release-key' && !path.startsWith('/installed-release/')) appOnly = false
      }
      if (!name.startsWith('workbox-precache') && name !== 'blossom-release') appOnly = false
    }
    return { names, marker, appOnly }
  })
}

/** From a plan screen to Settings, with the duress form filled in ('the other phrase'), not yet sent. */
async function openDuressForm(p: PhonePage): Promise<void> {
  await p.page.getByRole('button', { name: t('back') }).click()
  await p.page.getByRole('button', { name: t('settings') }).click()
  await p.page.getByLabel(t('currentPassphrase')).nth(1).fill('correct horse battery')
  await p.page.getByLabel(t('duressPassphrase'), { exact: true }).fill('the other phrase')
  await p.page.getByLabel(t('duressAgain')).fill('the other phrase')
}

describe('device safety', () => {
  it('panic wipe removes every key and stored byte; the app looks freshly installed', async () => {
    const p = await phoneWithAction()
    await p.page.getByRole('button', { name: t('back') }).click()
    await p.page.getByRole('button', { name: t('settings') }).click()
    await p.page.getByRole('button', { name: t('wipe') }).click()
    const started = Date.now()
    await p.page.getByRole('button', { name: t('wipeConfirm') }).click()
    await p.page.getByRole('button', { name: t('setUp') }).waitFor()
    console.info(`figure (not asserted): panic wipe, confirm to a freshly installed app: ${Date.now() - started} ms`)
    expect(await p.storedBytes()).not.toContain('MARKER')
    expect(await p.storedBytes()).toBe('')
    const caches = await cacheReport(p)
    expect(caches.marker).toBe(false)
    expect(caches.appOnly, caches.names.join(', ')).toBe(true)
    expect(await p.page.content()).not.toContain('MARKER')
    await p.close()
  })

  it('panic wipe with a second tab open: every tab lets go at once and the wipe completes', async () => {
    const p = await phoneWithAction()
    const other = await p.context.newPage()
    await other.goto(url)
    await other.getByLabel(t('passphrase'), { exact: true }).fill('correct horse battery')
    await other.getByRole('button', { name: t('unlock') }).click()
    await other.getByRole('button', { name: t('settings') }).waitFor()
    // The second tab is unlocked and holds the database open.
    await p.page.getByRole('button', { name: t('back') }).click()
    await p.page.getByRole('button', { name: t('settings') }).click()
    await p.page.getByRole('button', { name: t('wipe') }).click()
    await p.page.getByRole('button', { name: t('wipeConfirm') }).click()
    await p.page.getByRole('button', { name: t('setUp') }).waitFor()
    await other.getByRole('button', { name: t('setUp') }).waitFor()
    expect(await p.storedBytes()).toBe('')
    expect(await other.content()).not.toContain('MARKER')
    await p.close()
  })

  it('the duress passphrase wipes silently and opens an empty app', async () => {
    const p = await phoneWithAction()
    await openDuressForm(p)
    await p.page.getByRole('button', { name: t('setDuress') }).click()
    await p.page.getByText(t('duressSet')).waitFor()
    await p.page.getByRole('button', { name: t('back') }).click()
    await p.page.getByRole('button', { name: t('lock') }).click()
    await p.unlock('the other phrase')
    await p.page.getByText(t('noActions')).waitFor()
    expect(await p.storedBytes()).not.toContain('MARKER')
    await p.close()
  })

  it('the duress passphrase opens the decoy the person prepared, as an ordinary action', async () => {
    const p = await phoneWithAction()
    await openDuressForm(p)
    await p.page.getByLabel(t('decoyTitle')).fill('Picnic rehearsal')
    await p.page.getByLabel(t('decoyStagingPoint')).fill('Park gate')
    await p.page.getByLabel(t('decoyNotes')).fill('Bring a blanket; we practise the song.')
    await p.page.getByRole('button', { name: t('setDuress') }).click()
    await p.page.getByText(t('duressSet')).waitFor()
    expect(await p.page.getByLabel(t('decoyTitle')).inputValue()).toBe('') // not left on screen
    expect(await p.storedBytes()).not.toContain('Picnic')
    await p.page.getByRole('button', { name: t('back') }).click()
    await p.page.getByRole('button', { name: t('lock') }).click()
    await p.unlock('the other phrase')
    await p.page.getByRole('button', { name: /Picnic rehearsal/ }).click()
    await p.notes().waitFor()
    expect(await p.notes().inputValue()).toBe('Bring a blanket; we practise the song.')
    expect(await p.storedBytes()).not.toContain('MARKER')
    expect(await p.page.content()).not.toContain('MARKER')
    await p.close()
  })

  it('locks after the idle time, and when out of sight for over a minute; nothing of the plan stays on screen', async () => {
    const p = await PhonePage.open(browser, url)
    await p.page.clock.install()
    await p.goto()
    await p.setUp()
    await p.createAction('MARKER-TITLE')
    await p.page.clock.fastForward('05:30')
    await p.page.getByRole('button', { name: t('unlock') }).waitFor()
    expect(await p.page.content()).not.toContain('MARKER')

    await p.unlock()
    await p.page.getByRole('button', { name: /MARKER-TITLE/ }).click()
    await p.page.evaluate(() => {
      Object.defineProperty(document, 'visibilityState', { value: 'hidden', configurable: true })
      document.dispatchEvent(new Event('visibilitychange'))
    })
    await p.page.clock.fastForward('01:05')
    await p.page.evaluate(() => {
      Object.defineProperty(document, 'visibilityState', { value: 'visible', configurable: true })
      document.dispatchEvent(new Event('visibilitychange'))
    })
    await p.page.getByText(t('lockedHidden')).waitFor()
    expect(await p.page.content()).not.toContain('MARKER')
    await p.close()
  })

  it('after the end plus the delay, a participant phone wipes the action by itself', async () => {
    const core = await phoneWithAction()
    const link = await core.invite('participant', 'Eve')
    const part = await PhonePage.open(browser, url)
    await part.page.clock.install()
    await part.page.goto(link)
    await part.page.locator('[data-crypto="ready"]').waitFor()
    await part.setUp()
    await part.page.getByRole('heading', { name: t('briefTitle') }).waitFor()
    // The brief shows as soon as it is read; its ciphertext is written to storage just after.
    await expect.poll(() => part.page.evaluate(countDocs), { timeout: 10_000 }).toBeGreaterThan(0)
    // The core says the action ended two hours ago; phones wipe one hour after the end.
    await core.page.getByLabel(t('endsAt')).fill('2020-01-01T10:00')
    await core.page.getByLabel(t('wipeAfter')).selectOption('1')
    await core.page.getByRole('button', { name: t('setTimes') }).click()
    await part.page.getByText(/wiped from this phone on Jan 1, 2020/).waitFor()
    await part.page.clock.fastForward('01:05')
    await part.page.getByText(t('noActions')).waitFor()
    expect(await part.page.evaluate(countDocs)).toBe(0)
    const caches = await cacheReport(part)
    expect(caches.appOnly, caches.names.join(', ')).toBe(true)
  })
})

/** How many document records the phone's IndexedDB holds. */
async function countDocs(): Promise<number> {
  const db = await new Promise<IDBDatabase>((resolve, reject) => {
    const req = indexedDB.open('blossom')
    req.onsuccess = () => resolve(req.result)
    req.onerror = () => reject(req.error)
  })
  const n = await new Promise<number>((resolve) => {
    const req = db.transaction('docs').objectStore('docs').count()
    req.onsuccess = () => resolve(req.result)
  })
  db.close()
  return n
}

describe('removal', () => {
  it('after removal the removed phone cannot read a plan edit made later; the other core phone can', async () => {
    const a = await PhonePage.withAction(browser, url, 'Removal')
    await a.typeNotes('before. ')
    const join = async (label: string): Promise<PhonePage> => {
      const link = await a.invite('core', label)
      const p = await PhonePage.open(browser, url)
      await p.page.goto(link)
      await p.page.locator('[data-crypto="ready"]').waitFor()
      await p.setUp()
      await p.waitNotes((n) => n.includes('before.'), `${label} synced`)
      return p
    }
    const mal = await join('Mal')
    const bo = await join('Bo')
    await a.page.getByRole('button', { name: t('remove', { name: 'Mal' }) }).click()
    await a.page.getByRole('button', { name: t('removeConfirm', { name: 'Mal' }) }).click()
    await a.page.locator('li[data-state="removed"]').waitFor()
    // Any one core member can remove, the first member too: Bo sees it in the list.
    await bo.page.getByRole('button', { name: t('remove', { name: t('founder') }) }).waitFor()
    await mal.page.getByText(t('youWereRemoved')).waitFor()
    await a.waitPeers(1)
    await a.typeNotes('MARKER-AFTER-REMOVAL')
    await bo.waitNotes((n) => n.includes('MARKER-AFTER-REMOVAL'), 'Bo reads the edit made after the removal')
    await mal.page.waitForTimeout(2000)
    expect(await mal.notes().inputValue()).not.toContain('MARKER-AFTER-REMOVAL')
    expect(await mal.page.content()).not.toContain('MARKER-AFTER-REMOVAL')
  })
})
