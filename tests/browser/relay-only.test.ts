// Relay-only mode with a real TURN server (Debian's coturn) on 127.0.0.1 inside the
// test's own network namespace: two phones set the TURN server and relay-only mode in
// Settings, sync their plan, and every selected candidate pair is relay on both sides,
// so neither phone learned the other's address.
import { spawn, type ChildProcess } from 'node:child_process'
import { createConnection } from 'node:net'
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AppServer } from '../../src/server/app-server'
import { t } from './words'
import { launch, PhonePage, serve, WAIT_MS } from './harness'

const TURN_PORT = 3478
const TURN_USER = 'blossom'
const TURN_PASSWORD = 'turn-test-secret'

let browser: Browser
let server: AppServer
let url: string
let turn: ChildProcess

async function turnListening(): Promise<void> {
  const deadline = Date.now() + 10_000
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = createConnection({ host: '127.0.0.1', port: TURN_PORT }, () => {
        socket.end()
        resolve(true)
      })
      socket.on('error', () => resolve(false))
    })
    if (ok) return
    if (Date.now() > deadline) throw new Error('turnserver did not start')
    await new Promise((r) => setTimeout(r, 100))
  }
}

beforeAll(async () => {
  turn = spawn(
    'turnserver',
    [
      '-n', // no config file
      '--listening-ip=127.0.0.1',
      '--relay-ip=127.0.0.1',
      `--listening-port=${TURN_PORT}`,
      '--allow-loopback-peers',
      '--no-cli',
      '--no-tls',
      '--no-dtls',
      '--lt-cred-mech',
      `--user=${TURN_USER}:${TURN_PASSWORD}`,
      '--realm=blossom.test',
      '--no-stdout-log',
      '--log-file=stdout',
      '--simple-log',
    ],
    { stdio: 'ignore' },
  )
  await turnListening()
  browser = await launch()
  ;({ server, url } = await serve())
})

afterAll(async () => {
  await browser?.close()
  await server?.close()
  turn?.kill('SIGTERM')
})

async function relayOnly(p: PhonePage, onThisPhone = true): Promise<void> {
  await p.page.getByRole('button', { name: t('settings') }).click()
  await p.page.getByLabel(t('turnUrl')).fill(`turn:127.0.0.1:${TURN_PORT}?transport=udp`)
  await p.page.getByLabel(t('turnUser')).fill(TURN_USER)
  await p.page.getByLabel(t('turnPassword')).fill(TURN_PASSWORD)
  await p.page.getByRole('button', { name: t('saveTurn') }).click()
  await p.page.getByText(t('turnSaved')).waitFor()
  if (onThisPhone) await p.page.getByLabel(t('relayOnly')).check()
  await p.page.getByLabel(t('serverRelay')).uncheck()
  await p.page.getByRole('button', { name: t('back') }).click()
}

describe('relay-only mode', () => {
  it('connects through the TURN server only: every selected candidate pair is relay', async () => {
    const a = await PhonePage.open(browser, url)
    await a.goto()
    await a.setUp()
    await relayOnly(a)
    await a.createAction('Relay only')
    const link = await a.invite('core', 'B')
    const b = await PhonePage.open(browser, url)
    await b.page.goto(link)
    await b.page.locator('[data-crypto="ready"]').waitFor()
    await b.setUp()
    await b.notes().waitFor()
    await b.page.getByRole('button', { name: t('back') }).click()
    await relayOnly(b)
    await b.page.getByRole('button', { name: /Relay only/ }).click()
    await a.waitPeers(1)
    await b.waitPeers(1)
    await a.typeNotes('over TURN')
    await b.waitNotes((n) => n.includes('over TURN'), 'edit over the relayed connection')
    for (const phone of [a, b]) {
      const pairs = await phone.selectedPairs()
      expect(pairs.length).toBeGreaterThan(0)
      for (const pair of pairs) expect(pair).toEqual({ local: 'relay', remote: 'relay' })
    }
  }, 2 * WAIT_MS)

  it('the core can require it for the whole action: phones that did not choose it use relays too', async () => {
    const a = await PhonePage.open(browser, url)
    await a.goto()
    await a.setUp()
    await relayOnly(a, false)
    await a.createAction('Relay for all')
    await a.page.getByLabel(t('actionRelayOnly')).check()
    const link = await a.invite('core', 'B')
    // B sets up and enters the TURN server first (as the core would tell it to), without
    // choosing relay-only itself, then opens the invite link.
    const b = await PhonePage.open(browser, url)
    await b.goto()
    await b.setUp()
    await relayOnly(b, false)
    await b.page.goto(link)
    await expect.poll(() => b.title().inputValue(), { timeout: WAIT_MS }).toBe('Relay for all')
    await a.waitPeers(1)
    await b.waitPeers(1)
    // B connected before it held the brief (so before it knew the core requires relays): that
    // first connection is replaced once the brief arrives. What must hold once it has: every
    // connection either phone keeps runs through the relay.
    for (const phone of [a, b]) {
      await expect
        .poll(async () => {
          const pairs = await phone.selectedPairs()
          return pairs.length > 0 && pairs.every((pair) => pair.local === 'relay' && pair.remote === 'relay') ? 'all relayed' : JSON.stringify(pairs)
        }, { timeout: WAIT_MS })
        .toBe('all relayed')
    }
  }, 3 * WAIT_MS)
})
