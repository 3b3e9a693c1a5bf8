// Two core phones (two browser contexts) sync an encrypted plan peer to peer through
// the real signaling server and real WebRTC, also across going offline, a server
// restart and an offline reload. Run with `npm run test:browser` (private network namespace).
import type { Browser } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { AppServer } from '../../src/server/app-server'
import { t } from './words'
import { Wiretap } from '../transport/wiretap'
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
  await b.page.getByRole('button', { name: t('back') }).click()
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

describe('typing while the other phone types', () => {
  it("an edit from the other phone lands without moving this phone's cursor", async () => {
    const { server, url } = await serve()
    servers.push(server)
    const { a, b } = await twoCorePhones(url, { serverRelay: false })
    await a.waitPeers(1)
    await a.typeNotes('north gate at ')
    await b.waitNotes((n) => n === 'north gate at ', 'A\'s words on B')
    // B adds at the end, exactly where A's cursor is; A keeps typing without touching the cursor.
    await b.typeNotes('bring water.')
    await a.waitNotes((n) => n.includes('bring water.'), 'B\'s words on A')
    await a.page.keyboard.type('six. ')
    await a.waitNotes((n) => n === 'north gate at six. bring water.', 'A typed on where its cursor was')
  })
})

describe('large plans', () => {
  it('an edit far over 64 KB arrives whole over WebRTC (server relay off)', async () => {
    const { server, url } = await serve()
    servers.push(server)
    const { a, b } = await twoCorePhones(url, { serverRelay: false })
    await a.waitPeers(1)
    // ~400 KB in one edit: one frame, over what any browser's data channel carries in one message.
    const big = Array.from({ length: 8000 }, (_, i) => `line ${i}: bring water, a scarf and a charged phone.`).join('\n')
    await a.notes().evaluate((el: HTMLTextAreaElement, value: string) => {
      el.value = value
      el.dispatchEvent(new Event('input', { bubbles: true }))
    }, big)
    const got = await b.waitNotes((n) => n.length === big.length, 'the whole large edit on B')
    expect(got).toBe(big)
    expect((await b.channels()).received).toBeGreaterThan(12) // it came in pieces
  })
})

describe('going offline and coming back', () => {
  it('a phone that goes offline keeps editing; both converge when it is back', async () => {
    const { server, url } = await serve()
    servers.push(server)
    const { a, b } = await twoCorePhones(url, { serverRelay: true })
    await a.typeNotes('plan v1. ')
    await b.waitNotes((n) => n.includes('plan v1.'), 'first edit on B')

    // B loses its network: its WebRTC link and its signaling socket go down.
    await b.context.setOffline(true)
    await b.page.evaluate(() => window.dispatchEvent(new Event('offline')))
    await b.page.reload()
    await b.unlock()
    await b.page.getByRole('button', { name: /Spring mob/ }).click()
    await b.status().filter({ hasText: t('offline') }).waitFor()
    await a.waitNoPeers()
    await b.typeNotes('B offline edit. ')
    await a.typeNotes('A edit meanwhile. ')
    expect(await a.notes().inputValue()).not.toContain('B offline edit.')

    await b.context.setOffline(false)
    const final = await a.waitNotes((n) => n.includes('B offline edit.') && n.includes('A edit meanwhile.'), 'B offline edit reaches A')
    await b.waitNotes((n) => n === final, 'B converges')
  })

  it('peers reconnect and keep syncing after the signaling server restarts', async () => {
    const first = await serve()
    servers.push(first.server)
    const { a, b } = await twoCorePhones(first.url, { serverRelay: false })
    await a.waitPeers(1)
    await first.server.close()
    servers.splice(servers.indexOf(first.server), 1)
    await a.status().filter({ hasText: t('offline') }).waitFor()
    const again = await serve(first.port)
    servers.push(again.server)
    await a.status().filter({ hasText: /Online/ }).waitFor()
    await b.status().filter({ hasText: /Online/ }).waitFor()
    await a.typeNotes('after restart. ')
    await b.waitNotes((n) => n.includes('after restart.'), 'edit after restart')
    // A new connection can form through the restarted server: B reloads and finds A again.
    await b.page.reload()
    await b.unlock()
    await b.page.getByRole('button', { name: /Spring mob/ }).click()
    await b.waitPeers(1)
    await b.typeNotes('B after reload. ')
    await a.waitNotes((n) => n.includes('B after reload.'), 'edit over the new connection')
  })

  it('with the server gone, the app and the stored plan load from the service worker and IndexedDB', async () => {
    const { server, url } = await serve()
    servers.push(server)
    const a = await phone(url)
    await a.setUp()
    await a.createAction('Offline test')
    await a.typeNotes('kept on this phone')
    await a.page.waitForFunction(() => navigator.serviceWorker.controller !== null)
    // Let the batched edit reach IndexedDB.
    await a.page.waitForTimeout(1000)
    await server.close()
    servers.splice(0)
    await a.page.reload()
    await a.unlock()
    await a.page.getByRole('button', { name: /Offline test/ }).click()
    expect(await a.notes().inputValue()).toBe('kept on this phone')
    await a.status().filter({ hasText: t('offline') }).waitFor()
  })
})

describe('what others see', () => {
  it('the signaling server and every WebRTC message carry no plan text and no invite secret', async () => {
    const { server, url } = await serve()
    servers.push(server)
    const tap = new Wiretap(server.http)
    const { a, b, link } = await twoCorePhones(url, { serverRelay: true })
    await a.title().fill('MARKER-TITLE')
    await a.typeNotes('MARKER-NOTES the old bridge ')
    await b.waitNotes((n) => n.includes('MARKER-NOTES'), 'edit arrived')
    await b.typeNotes('MARKER-REPLY ')
    await a.waitNotes((n) => n.includes('MARKER-REPLY'), 'reply arrived')
    await a.waitPeers(1)

    // Addressed WebRTC signals name their recipient outside the encryption (unicast routing)...
    expect(tap.text()).toMatch(/"to":"[0-9a-f-]{36}"/)
    const code = link.split('#/join/')[1]!
    const secret = Buffer.from(code, 'base64url').subarray(6, 38)
    const wire = tap.all()
    const channels = Buffer.from((await a.channels()).bytes + (await b.channels()).bytes, 'latin1')
    expect(wire.length).toBeGreaterThan(1000)
    expect(channels.length).toBeGreaterThan(1000)
    for (const [where, bytes] of [['server', wire], ['webrtc', channels]] as const) {
      for (const needle of ['MARKER', 'old bridge', 'Spring mob', code]) {
        expect(bytes.includes(Buffer.from(needle)), `${needle} in ${where}`).toBe(false)
      }
      expect(bytes.includes(secret), `invite secret in ${where}`).toBe(false)
    }
  })
})
