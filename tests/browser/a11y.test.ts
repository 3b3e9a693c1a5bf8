// Accessibility: axe-core (WCAG 2.0–2.2 A and AA rules) on every screen, at phone size
// (360×640), in light and in dark mode. Every screen is reached through the UI.
// Run with `npm run test:browser` (private network namespace).
import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AppServer } from '../../src/server/app-server'
import type { Locale } from '../../src/ui/i18n'
import { wordsOf } from './words'
import { launch, PhonePage, serve } from './harness'

let browser: Browser
let server: AppServer
let url: string
let axeSource: string

beforeAll(async () => {
  axeSource = await readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8')
  browser = await launch()
  ;({ server, url } = await serve())
})
afterAll(async () => {
  await browser?.close()
  await server?.close()
})

interface Finding {
  screen: string
  id: string
  impact: string
  nodes: string[]
}

async function audit(page: Page, screen: string, findings: Finding[]): Promise<void> {
  // Evaluated through the browser's debugging protocol: not subject to the page's CSP.
  await page.evaluate(axeSource)
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (ctx: Document, o: object) => Promise<{ violations: { id: string; impact: string; nodes: { target: string[] }[] }[] }> } }).axe
    const result = await axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] } })
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(' ')) }))
  })
  for (const v of violations) findings.push({ screen, ...v })
  const wide = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)
  if (wide > 0) findings.push({ screen, id: 'scrolls-sideways', impact: 'serious', nodes: [`${wide}px wider than the screen`] })
}

async function phone(scheme: 'light' | 'dark'): Promise<PhonePage> {
  const p = await PhonePage.open(browser, url, { viewport: { width: 360, height: 640 }, colorScheme: scheme })
  await p.goto()
  return p
}

describe('the audit itself', () => {
  it('finds a violation planted in the page (so a clean result means something)', async () => {
    const p = await phone('light')
    await p.page.evaluate(() => {
      const img = document.createElement('img')
      img.src = '/icons/icon-192.png'
      document.body.append(img)
      const input = document.createElement('input')
      document.body.append(input)
    })
    const findings: Finding[] = []
    await audit(p.page, 'planted', findings)
    expect(findings.map((f) => f.id)).toEqual(expect.arrayContaining(['image-alt', 'label']))
    await p.close()
  })
})

// Every screen in every language (and English in dark mode too): no axe violation, and nothing
// wider than the 360 px screen (a right-to-left layout that scrolls sideways fails here).
const RUNS: [Locale, 'light' | 'dark'][] = [['en', 'light'], ['en', 'dark'], ['es', 'light'], ['zh-Hant', 'light'], ['ar', 'light'], ['fa', 'light']]

describe.each(RUNS)('axe on every screen (%s, %s)', (language, scheme) => {
  it('reports no violations and no sideways scrolling', async () => {
    const findings: Finding[] = []
    const w = wordsOf(language)
    const open = (): Promise<PhonePage> => PhonePage.open(browser, url, { viewport: { width: 360, height: 640 }, colorScheme: scheme, language })
    const a = await open()
    await a.goto()
    expect(await a.page.evaluate(() => [document.documentElement.lang, document.documentElement.dir])).toEqual([language, language === 'ar' || language === 'fa' ? 'rtl' : 'ltr'])
    await audit(a.page, 'first run', findings)
    await a.page.getByRole('button', { name: w('setUp') }).click()
    await audit(a.page, 'first run with an error', findings)
    await a.setUp()
    await audit(a.page, 'actions (none yet)', findings)
    await a.page.getByRole('button', { name: w('settings') }).click()
    await audit(a.page, 'settings', findings)
    await a.page.getByRole('button', { name: w('back') }).click()
    await a.createAction('Spring mob')
    await a.page.getByLabel(w('location')).fill('the old tram depot')
    await a.page.getByRole('button', { name: w('saveLocation') }).click()
    const link = await a.invite('participant', 'Ana')
    await audit(a.page, 'core plan (invite link shown)', findings)
    await a.page.getByRole('button', { name: w('callOff'), exact: true }).click()
    await audit(a.page, 'core plan (asked to confirm call off)', findings)
    await a.page.getByRole('button', { name: w('cancel'), exact: true }).click()

    const p = await open()
    await p.page.goto(link.replace(/#.*$/, '') + '#/join/not-a-link')
    await p.page.locator('[data-crypto="ready"]').waitFor()
    await p.page.getByRole('alert').filter({ hasText: w('error.invite.incomplete') }).or(p.page.getByRole('alert').filter({ hasText: w('error.invite.malformed') })).first().waitFor()
    await audit(p.page, 'bad invite link, before the passphrase', findings)
    await p.setUp()
    await audit(p.page, 'bad invite link message', findings)
    await p.page.close()

    const part = await open()
    await part.page.goto(link)
    await part.page.locator('[data-crypto="ready"]').waitFor()
    await part.page.locator('[data-invitation="participant"]').waitFor()
    await audit(part.page, 'invite link, before the passphrase', findings)
    await part.setUp()
    await part.page.getByRole('heading', { name: w('briefTitle') }).waitFor()
    await audit(part.page, 'brief (before go)', findings)
    await part.page.getByRole('button', { name: w('checkIn') }).click()
    await part.page.getByText(w('checkinConfirmed')).waitFor()
    await audit(part.page, 'brief (checked in)', findings)
    await part.page.getByRole('button', { name: w('scanRelease') }).click()
    await audit(part.page, 'brief (scanning)', findings)
    await part.page.getByRole('button', { name: w('stopScanning') }).click()

    await a.page.getByRole('button', { name: w('back') }).click()
    await audit(a.page, 'actions', findings)
    await a.page.getByRole('button', { name: w('lock') }).click()
    await a.page.getByRole('button', { name: w('unlock') }).waitFor()
    await audit(a.page, 'unlock', findings)
    await a.unlock()
    await a.page.getByRole('button', { name: /Spring mob/ }).click()
    await a.page.getByRole('button', { name: w('goNow'), exact: true }).click()
    await audit(a.page, 'core plan (asked to confirm go now)', findings)
    await a.page.getByRole('button', { name: w('goNowYes') }).click()
    await part.page.locator('[data-reveal]').waitFor()
    await audit(part.page, 'reveal', findings)
    // The reveal names the stage in this phone's language, and shows the sealed text itself.
    await expect(part.page.locator('.reveal-label').textContent()).resolves.toBe(w('stage.location'))
    await expect(part.page.locator('[data-reveal]').textContent()).resolves.toBe('the old tram depot')
    await a.page.getByRole('button', { name: w('showReleaseQr') }).click()
    await a.page.locator('[data-release-code]').waitFor()
    await audit(a.page, 'core plan (released, release QR shown)', findings)

    if (findings.length > 0) console.error(JSON.stringify(findings, null, 2))
    expect(findings.map((f) => `${f.screen}: ${f.id} (${f.impact}) at ${f.nodes.join(', ')}`)).toEqual([])
  })
})
