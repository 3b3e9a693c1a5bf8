// Two core phones (two browser contexts) sync an encrypted plan peer to peer through
// the real signaling server and real WebRTC, also across going offline, a server
// restart and an offline reload. Run with `npm run test:browser` (private network namespace).
import type { Browser } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { AppServer } from '../../src/server/app-server'
import { strings } from '../../src/ui/strings'
import { launch, PhonePage, serve } from './harness'

let browser: Browser
const phones: PhonePage[] = []
const servers: AppServer[] = []

beforeAll(async () => {
  browser = await launch()
})
afterEach(async () => {
  await Promise.all(phones.splice(0).map((p) => p.close()))
  await Promise.all(servers.splice(0).map((s) => s.close().catch(() => undefined)))
})
afterAll(async () => {
  await browser?.close()
})

async function phone(origin: string): Promise<PhonePage> {
  const p = await PhonePage.open(browser, origin)
  phones.push(p)
  await p.goto()
  return p
}

/** Phone A creates an action and invites phone B, which opens the link on its first visit. */
async function twoCorePhones(origin: string, options: { serverRelay: boolean }) {
  const a = await phone(origin)
  await a.setUp()
  if (!options.serverRelay) await a.setServerRelay(false)
  await a.createAction('Spring mob')
  const link = await a.invite()
  const b = await PhonePage.open(browser, origin)
  phones.push(b)
  await b.page.goto(link)
  await b.page.locator('[data-crypto="ready"]').waitFor()
  // The invite code was taken out of the address bar before anything else.
  expect(b.page.url()).not.toContain('#/join/')
  await b.setUp()
  await b.notes().waitFor()
  await b.page.getByRole('button', { name: strings.back }).click()
  if (!options.serverRelay) await b.setServerRelay(false)
  await b.page.getByRole('button', { name: /Spring mob/ }).click()
  return { a, b, link }
}

describe('two core phones', () => {
  it('edit one plan at the same time and converge over WebRTC (server relay off)', async () => {
    const { server, url } = await serve()
    servers.push(server)
    const { a, b } = await twoCorePhones(url, { serverRelay: false })
    await a.waitPeers(1)
    await b.waitPeers(1)
    expect(await b.title().inputValue()).toBe('Spring mob')

    await Promise.all([a.typeNotes('north gate at six. '), b.typeNotes('bring water.')])
    const final = await a.waitNotes((n) => n.includes('north gate at six.') && n.includes('bring water.'), 'both edits on A')
    await b.waitNotes((n) => n === final, 'B equal to A')

    // With the relay off, the edits can only have come over WebRTC data channels
    // (separate browser contexts share no BroadcastChannel).
    const [la, lb] = [await a.channels(), await b.channels()]
    expect(la.received).toBeGreaterThan(0)
    expect(lb.received).toBeGreaterThan(0)
    expect(server.signaling.stats().topics).toBeGreaterThan(0)
  })
})
