// Each phone speaks its own language: the phone's by default, another when chosen in Settings
// (kept in the vault, so a locked app speaks the phone's again). What the core seals carries no
// words of its language: an English core's location opens in Chinese and Arabic phones' words.
// Run with `npm run test:browser` (private network namespace).
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AppServer } from '../../src/server/app-server'
import { launch, PhonePage, serve } from './harness'
import { t, wordsOf } from './words'

let browser: Browser
let server: AppServer
let url: string
const phones: PhonePage[] = []

beforeAll(async () => {
  browser = await launch()
  ;({ server, url } = await serve())
})
afterAll(async () => {
  for (const p of phones) await p.close()
  await browser?.close()
  await server?.close()
})

const SMALL = { width: 360, height: 640 }

const layout = (p: PhonePage) =>
  p.page.evaluate(() => ({
    lang: document.documentElement.lang,
    dir: document.documentElement.dir,
    sideways: document.documentElement.scrollWidth - document.documentElement.clientWidth,
  }))

describe('languages', () => {
  it('an English core’s reveal shows in Chinese and in Arabic (right to left) on the participants’ phones', async () => {
    const core = await PhonePage.withAction(browser, url, 'Lantern walk', { viewport: SMALL })
    phones.push(core)
    await core.page.getByLabel(t('location')).fill('旺角行人專用區 / ميدان التحرير')
    await core.page.getByRole('button', { name: t('saveLocation') }).click()

    const readers: PhonePage[] = []
    for (const language of ['zh-Hant', 'ar'] as const) {
      const link = await core.invite('participant', language)
      const p = await PhonePage.open(browser, url, { viewport: SMALL, language })
      phones.push(p)
      await p.page.goto(link)
      await p.page.locator('[data-crypto="ready"]').waitFor()
      await p.page.getByRole('heading', { name: p.t('invitedParticipantTitle') }).waitFor()
      await p.setUp()
      await p.page.getByRole('heading', { name: p.t('briefTitle') }).waitFor()
      expect(await p.page.getByText(p.t('sealedLocation')).count()).toBe(1)
      readers.push(p)
    }

    await core.goNow()
    for (const p of readers) {
      const w = wordsOf(p.language)
      await p.page.locator('[data-reveal]').waitFor()
      await expect(p.page.getByRole('heading', { name: w('revealTitle') }).count()).resolves.toBe(1)
      // The stage is named in this phone's words, never in the core's English.
      await expect(p.page.locator('.reveal-label').textContent()).resolves.toBe(w('stage.location'))
      expect(await p.page.getByText(t('stage.location'), { exact: true }).count()).toBe(0)
      await expect(p.page.locator('[data-reveal]').textContent()).resolves.toBe('旺角行人專用區 / ميدان التحرير')
      expect(await layout(p)).toEqual({ lang: p.language, dir: p.language === 'ar' ? 'rtl' : 'ltr', sideways: 0 })
      // Times and durations in the phone's own digits (Arabic-Indic in Arabic).
      if (p.language === 'ar') expect(await p.page.locator('.reveal').textContent()).toMatch(/[٠-٩]/)
    }
  })

  it('Persian chosen in Settings: the app turns right to left, the vault keeps the choice, a locked app speaks the phone’s language', async () => {
    const p = await PhonePage.open(browser, url, { viewport: SMALL })
    phones.push(p)
    await p.goto()
    await p.setUp()
    const fa = wordsOf('fa')
    await p.page.getByRole('button', { name: t('settings') }).click()
    await p.page.getByLabel(t('language')).selectOption('fa')
    await p.page.getByRole('heading', { name: fa('settingsTitle') }).waitFor()
    expect(await layout(p)).toEqual({ lang: 'fa', dir: 'rtl', sideways: 0 })
    // The choice is in the vault, encrypted: no storage outside it names it.
    expect(await p.page.evaluate(() => JSON.stringify(localStorage) + document.cookie)).not.toMatch(/\bfa\b|فارسی/)
    await p.page.getByRole('button', { name: fa('back') }).click()
    await p.page.getByRole('button', { name: fa('lock') }).click()
    await p.page.getByRole('button', { name: t('unlock') }).waitFor()
    expect((await layout(p)).dir).toBe('ltr')
    await p.unlock()
    await p.page.getByRole('heading', { name: fa('actionsTitle') }).waitFor()
    // And after a reload, once unlocked, still Persian.
    await p.page.reload()
    await p.page.locator('[data-crypto="ready"]').waitFor()
    await p.unlock()
    await p.page.getByRole('heading', { name: fa('actionsTitle') }).waitFor()
    expect(await layout(p)).toEqual({ lang: 'fa', dir: 'rtl', sideways: 0 })
    // Back to the phone's language.
    await p.page.getByRole('button', { name: fa('settings') }).click()
    // (the first select in Settings: “زبان” is also a word in the discreet mode's label)
    await p.page.getByRole('combobox').first().selectOption('')
    await p.page.getByRole('heading', { name: t('settingsTitle') }).waitFor()
  })
})
