// Discretion: no plan text in the tab title or a notification, ever; a neutral name and
// icon when the phone is set to discreet mode, also while locked.
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

describe('discretion', () => {
  it('keeps plan text out of the title and notifications; discreet mode holds while locked', async () => {
    const p = await PhonePage.open(browser, url)
    await p.context.addInitScript(() => {
      const shown: string[] = []
      ;(window as unknown as { __notifications: string[] }).__notifications = shown
      const Real = window.Notification
      if (Real) {
        window.Notification = class extends Real {
          constructor(title: string, options?: NotificationOptions) {
            shown.push(title)
            super(title, options)
          }
        } as typeof Notification
      }
    })
    await p.goto()
    const titles = new Set<string>()
    const look = async (): Promise<void> => void titles.add(await p.page.title())
    await p.setUp()
    await look()
    await p.createAction('MARKER-TITLE')
    await p.typeNotes('MARKER-NOTES')
    await p.page.getByLabel(t('location')).fill('MARKER-LOCATION')
    await p.page.getByRole('button', { name: t('saveLocation') }).click()
    await look()
    await p.goNow()
    await look()
    for (const t of titles) expect(t).not.toMatch(/MARKER/)
    expect(await p.page.evaluate(() => (window as unknown as { __notifications: string[] }).__notifications)).toEqual([])

    await p.page.getByRole('button', { name: t('back') }).click()
    await p.page.getByRole('button', { name: t('settings') }).click()
    await p.page.getByLabel(t('discreet')).check()
    await expect.poll(() => p.page.title()).toBe(t('discreetName'))
    await p.page.getByRole('heading', { level: 1, name: t('discreetName') }).waitFor()
    expect(await p.page.locator('link[rel="icon"]').getAttribute('href')).toBe('/icons/neutral.svg')
    // Locked (reloaded): still neutral before anyone types the passphrase.
    await p.page.reload()
    await p.page.getByRole('button', { name: t('unlock') }).waitFor()
    expect(await p.page.title()).toBe(t('discreetName'))
    await p.page.getByRole('heading', { level: 1, name: t('discreetName') }).waitFor()
    await p.unlock()
    await p.page.getByRole('button', { name: t('settings') }).click()
    await p.page.getByLabel(t('discreet')).uncheck()
    await expect.poll(() => p.page.title()).toBe(t('appName'))
  })
})
