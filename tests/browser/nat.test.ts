// Phones behind NAT, as on carrier networks: two Chromium phones, each in its own network
// namespace on its own private network behind its own masquerading router (tests/support/netns.ts);
// the app server and Debian's coturn on a "public" address in the test's namespace. The server
// hands phones its ICE servers at /network (src/server/ice.ts), with TURN credentials in coturn's
// shared-secret scheme.
//
// - Through STUN: behind ordinary (port-keeping) NATs the phones meet over WebRTC on their
//   server-reflexive addresses.
// - Through TURN: behind symmetric NATs (a new random port per destination) STUN's answer is of no
//   use; the phones meet through a relay on coturn, with the credential the server made.
// - Without the server's ICE servers the same phones never connect over WebRTC (the plan still
//   arrives, through the server relay), which is what every phone did before /network.
import type { Browser } from 'playwright-core'
import { chromium } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { inject } from 'vitest'
import { createAppServer, type AppServer } from '../../src/server/app-server'
import type { IceOptions } from '../../src/server/ice'
import { makeHomes, PUBLIC_IP, type Homes } from '../support/netns'
import { startTurnserver, type Turnserver } from '../support/turn'
import { ARGS, IN_PROCESS_SIGNALING, PhonePage, WAIT_MS } from './harness'

const TURN_PORT = 3478
const SECRET = 'nat-test-shared-secret-0123456789'

let homes: Homes
let turn: Turnserver
const servers: AppServer[] = []
const browsers: Browser[] = []
/** Origins of the app: with STUN only, with STUN and TURN, with no ICE servers. */
const origin = { stun: '', full: '', none: '' }

async function serve(ice: IceOptions): Promise<string> {
  const server = createAppServer({ host: PUBLIC_IP, port: 0, distRoot: inject('shellBuilds').a.dist, signaling: IN_PROCESS_SIGNALING, network: { ice } })
  servers.push(server)
  return (await server.listen()).replace(/\/$/, '')
}

beforeAll(async () => {
  homes = await makeHomes(2)
  turn = await startTurnserver({ ip: PUBLIC_IP, port: TURN_PORT, secret: SECRET })
  const stun = [`stun:${PUBLIC_IP}:${TURN_PORT}`]
  origin.stun = await serve({ stun, turn: [] })
  origin.full = await serve({ stun, turn: [`turn:${PUBLIC_IP}:${TURN_PORT}?transport=udp`], turnSecret: SECRET, ttlSeconds: 3600 })
  origin.none = await serve({ stun: [], turn: [] })
  // Plain http on a non-loopback address is no secure context: Chromium is told to treat the
  // test's origins as one (a real deployment serves https, deploy/).
  const secure = `--unsafely-treat-insecure-origin-as-secure=${Object.values(origin).join(',')}`
  for (const home of homes.homes) {
    browsers.push(await chromium.launch({ executablePath: homes.chromiumIn(home), headless: true, args: [...ARGS, secure], timeout: WAIT_MS }))
  }
})

afterAll(async () => {
  await Promise.all(browsers.map((b) => b.close()))
  await Promise.all(servers.map((s) => s.close()))
  turn?.stop()
  homes?.close()
})

/** Every connection state each peer connection of the page went through, and the ICE servers it was given. */
interface PeerLog {
  states: string[][]
  turnUsers: string[]
}

async function phoneAt(i: 0 | 1, url: string): Promise<PhonePage> {
  const phone = await PhonePage.open(browsers[i]!, url)
  await phone.context.addInitScript(() => {
    const log: PeerLog = { states: [], turnUsers: [] }
    ;(window as unknown as { __peerLog: PeerLog }).__peerLog = log
    const Before = window.RTCPeerConnection
    window.RTCPeerConnection = class extends Before {
      constructor(config?: RTCConfiguration) {
        super(config)
        const states: string[] = []
        log.states.push(states)
        for (const server of config?.iceServers ?? []) if (server.username) log.turnUsers.push(server.username)
        this.addEventListener('connectionstatechange', () => states.push(this.connectionState))
      }
    } as typeof RTCPeerConnection
  })
  return phone
}

const peerLog = (p: PhonePage): Promise<PeerLog> => p.page.evaluate(() => (window as unknown as { __peerLog: PeerLog }).__peerLog)

/** A core phone in home 1 makes an action; a second core phone in home 2 joins it by invite. */
async function pair(url: string, title: string): Promise<[PhonePage, PhonePage]> {
  const a = await phoneAt(0, url)
  await a.goto()
  await a.setUp()
  await a.createAction(title)
  const link = await a.invite('core', 'B')
  const b = await phoneAt(1, url)
  await b.page.goto(link)
  await b.page.locator('[data-crypto="ready"]').waitFor()
  await b.setUp()
  await b.notes().waitFor()
  return [a, b]
}

describe('phones behind NAT', () => {
  it('meet over WebRTC through STUN: the selected pairs are server-reflexive, never a relay', async () => {
    for (const home of homes.homes) home.setNat('cone')
    const [a, b] = await pair(origin.stun, 'Behind NAT')
    await a.waitPeers(1)
    await b.waitPeers(1)
    await a.typeNotes('across two NATs')
    await b.waitNotes((n) => n.includes('across two NATs'), 'an edit over the WebRTC connection')
    for (const phone of [a, b]) {
      const pairs = await phone.selectedPairs()
      expect(pairs.length).toBeGreaterThan(0)
      // Each phone's own side was learned from STUN (srflx) or from the other's check (prflx).
      for (const p of pairs) {
        expect(['srflx', 'prflx']).toContain(p.local)
        expect(['srflx', 'prflx']).toContain(p.remote)
      }
    }
    await a.close()
    await b.close()
  }, 3 * WAIT_MS)

  it('meet through TURN behind symmetric NATs, with the short-lived credential the server made', async () => {
    for (const home of homes.homes) home.setNat('symmetric')
    try {
      const [a, b] = await pair(origin.full, 'Symmetric')
      await a.waitPeers(1)
      await b.waitPeers(1)
      await a.typeNotes('through the relay')
      await b.waitNotes((n) => n.includes('through the relay'), 'an edit over TURN')
      for (const phone of [a, b]) {
        const pairs = await phone.selectedPairs()
        expect(pairs.length).toBeGreaterThan(0)
        for (const p of pairs) {
          expect([p.local, p.remote]).toContain('relay')
          expect([p.local, p.remote]).not.toContain('host')
        }
        // The credential is coturn's expiring kind, not a password kept on the phone.
        const users = (await peerLog(phone)).turnUsers
        expect(users.length).toBeGreaterThan(0)
        for (const user of users) expect(user).toMatch(/^\d{10}:[A-Za-z0-9_-]{12}$/)
      }
      await a.close()
      await b.close()
    } finally {
      for (const home of homes.homes) home.setNat('cone')
    }
  }, 3 * WAIT_MS)

  it('without the server’s ICE servers the same phones never connect over WebRTC (the plan comes through the server relay)', async () => {
    const [a, b] = await pair(origin.none, 'No ICE')
    await a.typeNotes('relayed by the server')
    await b.waitNotes((n) => n.includes('relayed by the server'), 'an edit through the server relay')
    // Each phone tried: its peer connections fail once every candidate pair has.
    for (const phone of [a, b]) {
      await expect
        .poll(async () => (await peerLog(phone)).states.some((s) => s.includes('failed')), { timeout: 3 * WAIT_MS, interval: 1_000 })
        .toBe(true)
    }
    for (const phone of [a, b]) {
      const log = await peerLog(phone)
      expect(log.states.flat()).not.toContain('connected')
      expect(await phone.peers()).toBe(0)
    }
    await a.close()
    await b.close()
  }, 6 * WAIT_MS)
})
