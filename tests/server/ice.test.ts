// The ICE servers the app server hands phones at /network (src/server/ice.ts), checked against
// Debian's coturn on 127.0.0.1: a credential the server made allocates a relay; an expired one,
// one made with another secret, or one whose expiry a phone pushed later, is refused by coturn.
// And the phone's side (src/transport/network.ts) reads only a well-formed answer and asks again
// before the credential expires.
import { request } from 'node:http'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { SECURITY_HEADERS } from '../../src/release/headers'
import { createAppServer, type AppServer } from '../../src/server/app-server'
import { iceFromEnv, networkAnswer, turnCredential, type IceOptions } from '../../src/server/ice'
import { readNetworkOffer, ServerIce } from '../../src/transport/network'
import { allocate, startTurnserver, type Turnserver } from '../support/turn'

const SECRET = 'a-shared-secret-for-tests-only'
const TURN_PORT = 3479
let turn: Turnserver
beforeAll(async () => {
  turn = await startTurnserver({ ip: '127.0.0.1', port: TURN_PORT, secret: SECRET })
})
afterAll(() => turn?.stop())

const apps: AppServer[] = []
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()))
})

async function serverWith(ice: IceOptions, limits: { burst?: number; perSecond?: number } = {}): Promise<string> {
  const app = createAppServer({ host: '127.0.0.1', port: 0, distRoot: '/nonexistent-blossom-dist', network: { ice, ...limits } })
  apps.push(app)
  return (await app.listen()).replace(/\/$/, '')
}

function get(url: string, method = 'GET'): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => (body += c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
    })
    req.on('error', reject)
    req.end()
  })
}

const ICE: IceOptions = { stun: ['stun:127.0.0.1:3479'], turn: ['turn:127.0.0.1:3479?transport=udp'], turnSecret: SECRET, ttlSeconds: 600 }

describe('/network', () => {
  it('hands a phone STUN and TURN servers with a credential coturn accepts, never cached, with the release headers', async () => {
    const base = await serverWith(ICE)
    const got = await get(`${base}/network`)
    expect(got.status).toBe(200)
    expect(got.headers['cache-control']).toBe('no-store')
    expect(got.headers['content-security-policy']).toBe(SECURITY_HEADERS['Content-Security-Policy'])
    const offer = readNetworkOffer(JSON.parse(got.body))
    expect(offer).toBeDefined()
    const [stun, turnServer] = offer!.iceServers
    expect(stun).toEqual({ urls: ['stun:127.0.0.1:3479'] })
    expect(turnServer!.urls).toEqual(['turn:127.0.0.1:3479?transport=udp'])
    const [expiry, name] = turnServer!.username!.split(':')
    expect(Number(expiry) * 1000).toBe(offer!.expiresAt)
    expect(offer!.expiresAt).toBeGreaterThan(Date.now() + 590_000)
    expect(name).toMatch(/^[A-Za-z0-9_-]{12}$/)
    expect(await allocate('127.0.0.1', TURN_PORT, turnServer!.username!, turnServer!.credential as string)).toEqual({ ok: true })
    // A new name every time: the TURN server cannot tie two allocations together by it.
    const again = readNetworkOffer(JSON.parse((await get(`${base}/network`)).body))!
    expect(again.iceServers[1]!.username).not.toBe(turnServer!.username)
  })

  it('coturn refuses an expired credential, one made with another secret, and one whose expiry was pushed later', async () => {
    const now = Math.floor(Date.now() / 1000)
    const expired = turnCredential(SECRET, now - 5, 'late')
    expect(await allocate('127.0.0.1', TURN_PORT, expired.username, expired.credential)).toEqual({ ok: false, code: 401 })
    const forged = turnCredential('another-secret-of-an-attacker', now + 600, 'forged')
    expect(await allocate('127.0.0.1', TURN_PORT, forged.username, forged.credential)).toEqual({ ok: false, code: 401 })
    // A phone keeps a credential past its day by writing a later expiry: the HMAC no longer matches.
    const real = turnCredential(SECRET, now + 600, 'phone')
    const pushed = `${now + 30 * 24 * 3600}:phone`
    expect(await allocate('127.0.0.1', TURN_PORT, pushed, real.credential)).toEqual({ ok: false, code: 401 })
    expect(await allocate('127.0.0.1', TURN_PORT, real.username, real.credential)).toEqual({ ok: true })
  })

  it('with nothing configured it offers no servers; it answers GET only and limits each source', async () => {
    const bare = await serverWith({ stun: [], turn: [] })
    expect(readNetworkOffer(JSON.parse((await get(`${bare}/network`)).body))!.iceServers).toEqual([])
    const post = await get(`${bare}/network`, 'POST')
    expect(post.status).toBe(405)
    const limited = await serverWith(ICE, { burst: 3, perSecond: 0.001 })
    const statuses = []
    for (let i = 0; i < 5; i++) statuses.push((await get(`${limited}/network`)).status)
    expect(statuses).toEqual([200, 200, 200, 429, 429])
  })

  it('a configuration that cannot work stops the server at start with a message saying what to fix', () => {
    expect(() => iceFromEnv({ BLOSSOM_TURN_URLS: 'http://example.test' })).toThrow(/BLOSSOM_TURN_URLS: not a turn: URL/)
    expect(() => iceFromEnv({ BLOSSOM_STUN_URLS: 'turn:x:3478' })).toThrow(/BLOSSOM_STUN_URLS: not a stun: URL/)
    expect(() => networkAnswer(iceFromEnv({ BLOSSOM_TURN_URLS: 'turn:x:3478' }))).toThrow(/need BLOSSOM_TURN_SECRET/)
    expect(() => networkAnswer(iceFromEnv({ BLOSSOM_TURN_URLS: 'turn:x:3478', BLOSSOM_TURN_SECRET: 'short' }))).toThrow(/too short/)
    expect(() => networkAnswer(iceFromEnv({ BLOSSOM_TURN_URLS: 'turn:x:3478', BLOSSOM_TURN_SECRET: SECRET, BLOSSOM_TURN_TTL: '12h' }))).toThrow(/whole number of seconds/)
    expect(() => createAppServer({ host: '127.0.0.1', port: 0, distRoot: '/nonexistent', network: { ice: { stun: [], turn: ['turn:x'] } } })).toThrow(/BLOSSOM_TURN_SECRET/)
    const ok = iceFromEnv({ BLOSSOM_STUN_URLS: ' stun:a:3478 , stun:b:3478', BLOSSOM_TURN_URLS: 'turns:a:5349?transport=tcp', BLOSSOM_TURN_SECRET: SECRET, BLOSSOM_TURN_TTL: '3600' })
    expect(ok).toEqual({ stun: ['stun:a:3478', 'stun:b:3478'], turn: ['turns:a:5349?transport=tcp'], turnSecret: SECRET, ttlSeconds: 3600 })
  })
})

describe('the phone reading /network', () => {
  it('refuses anything but a well-formed answer', () => {
    const good = { iceServers: [{ urls: ['stun:s:3478'] }, { urls: 'turn:t:3478', username: '1:x', credential: 'c' }], expiresAt: 1_000 }
    expect(readNetworkOffer(good)).toEqual({ iceServers: [{ urls: ['stun:s:3478'] }, { urls: ['turn:t:3478'], username: '1:x', credential: 'c' }], expiresAt: 1_000 })
    for (const junk of [
      null,
      'x',
      [],
      { iceServers: 'stun:s' , expiresAt: 1 },
      { iceServers: [], expiresAt: '1' },
      { iceServers: [{ urls: ['https://evil.test/'] }], expiresAt: 1 },
      { iceServers: [{ urls: ['javascript:alert(1)'] }], expiresAt: 1 },
      { iceServers: [{ urls: [] }], expiresAt: 1 },
      { iceServers: [{ urls: ['turn:t'], username: 7 }], expiresAt: 1 },
      { iceServers: [{ urls: ['turn:t'], credential: 'x'.repeat(513) }], expiresAt: 1 },
      { iceServers: Array.from({ length: 9 }, () => ({ urls: ['stun:s'] })), expiresAt: 1 },
      { iceServers: [{ urls: Array.from({ length: 9 }, () => 'stun:s') }], expiresAt: 1 },
    ]) {
      expect(readNetworkOffer(junk), JSON.stringify(junk)).toBeUndefined()
    }
  })

  it('asks again at half the credential’s life, forgets an expired one, and retries after a failure', async () => {
    vi.useFakeTimers({ now: 0 })
    try {
      let answers = 0
      let fail = false
      const fetchFn = (async () => {
        answers++
        if (fail) throw new TypeError('offline')
        return new Response(JSON.stringify(networkAnswer(ICE, Date.now())))
      }) as typeof fetch
      const ice = new ServerIce('http://127.0.0.1/network', fetchFn)
      expect(ice.servers).toEqual([])
      await ice.ask()
      expect(ice.servers).toHaveLength(2)
      const first = ice.servers[1]!.username
      await vi.advanceTimersByTimeAsync(300_000) // half of ttlSeconds 600
      expect(answers).toBe(2)
      expect(ice.servers[1]!.username).not.toBe(first)
      fail = true
      await vi.advanceTimersByTimeAsync(300_000) // the refresh fails
      expect(answers).toBe(3)
      await vi.advanceTimersByTimeAsync(5_000) // retried soon
      expect(answers).toBe(4)
      await vi.advanceTimersByTimeAsync(300_001) // the last good credential expired meanwhile
      expect(ice.servers).toEqual([])
      ice.stop()
      const after = answers
      await vi.advanceTimersByTimeAsync(3_600_000)
      expect(answers).toBe(after)
    } finally {
      vi.useRealTimers()
    }
  })
})
