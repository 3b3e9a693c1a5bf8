// Removal, as people see it, in real Chromium over real WebRTC: the core removes a core
// member in the UI; the removed phone opens its invite again and is refused with a
// message; the core moves the location; at go every participant reveals the new one,
// and neither the removed phone nor any participant ever shows the old one or, on the
// removed phone, the new one.
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AppServer } from '../../src/server/app-server'
import { t } from './words'
import { launch, PhonePage, serve } from './harness'

const OLD = 'MARKER-OLD: the bank on the corner'
const NEW = 'MARKER-NEW: the river bridge, east side'

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

async function openLink(link: string): Promise<PhonePage> {
  const p = await PhonePage.open(browser, url)
  await p.page.goto(link)
  await p.page.locator('[data-crypto="ready"]').waitFor()
  await p.setUp()
  return p
}

async function sealLocation(p: PhonePage, text: string): Promise<void> {
  await p.page.getByLabel(t('location')).fill(text)
  await p.page.getByRole('button', { name: t('saveLocation') }).click()
  await p.page.getByText(t('locationSealed')).waitFor()
}

describe('removing a core member, end to end', () => {
  it('the removed phone is refused at its own link; the moved location reveals to every participant and never the old one', async () => {
    const a = await PhonePage.withAction(browser, url, 'Removal story')
    await sealLocation(a, OLD)
    await a.page.getByLabel(t('stagingPoint'), { exact: true }).fill('Fountain')
    await a.page.getByLabel(t('stagingPoint'), { exact: true }).press('Tab')

    const malLink = await a.invite('core', 'Mal')
    const mal = await openLink(malLink)
    await mal.page.getByLabel(t('location')).waitFor()
    const participants: PhonePage[] = []
    for (const name of ['Ana', 'Ben']) participants.push(await openLink(await a.invite('participant', name)))
    for (const p of participants) await p.page.getByText(t('sealedLocation')).waitFor()

    await a.page.getByRole('button', { name: t('remove', { name: 'Mal' }) }).click()
    await a.page.getByRole('button', { name: t('removeConfirm', { name: 'Mal' }) }).click()
    await mal.page.getByText(t('youWereRemoved')).waitFor()

    // The removed phone opens its own invite link again (the app is open: the link arrives as a
    // hash change): refused, and told why.
    await mal.page.goto(malLink)
    await mal.page.getByText(/removed from this action/).waitFor()

    // The core moves the location, then goes.
    await sealLocation(a, NEW)
    await a.goNow()
    for (const p of participants) await p.page.locator('[data-reveal]', { hasText: NEW }).waitFor()
    await mal.page.waitForTimeout(2_000)
    for (const p of [...participants, mal]) expect(await p.page.content()).not.toContain('MARKER-OLD')
    expect(await mal.page.content()).not.toContain('MARKER-NEW')
    // Reloaded, a participant still shows only the version in force.
    const ana = participants[0]!
    await ana.page.reload()
    await ana.unlock()
    // One join, one action: the core answered every repeated request, and only the first welcome counts.
    await ana.page.getByRole('button', { name: new RegExp('Fountain') }).first().waitFor()
    expect(await ana.page.getByRole('button', { name: new RegExp('Fountain') }).count()).toBe(1)
    await ana.page.getByRole('button', { name: new RegExp('Fountain') }).click()
    await ana.page.locator('[data-reveal]', { hasText: NEW }).waitFor()
    expect(await ana.page.content()).not.toContain('MARKER-OLD')
  })
})
