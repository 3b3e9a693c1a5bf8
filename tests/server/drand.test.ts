// The drand proxy at /drand/ (src/server/drand.ts), mounted in the app server, in front of the test
// beacon (tests/support/test-beacon.ts) and of broken relays, all on 127.0.0.1: beacons pass through,
// bad paths never reach a relay, oversized, slow or dead relays give 502, one source is rate limited.
import { createHash } from 'node:crypto'
import { createServer, request, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, beforeAll, afterAll, describe, expect, it } from 'vitest'
import { SECURITY_HEADERS } from '../../src/release/headers'
import { createAppServer, type AppServer } from '../../src/server/app-server'
import { DEFAULT_DRAND_URLS, drandUrlsFromEnv, type DrandProxyOptions } from '../../src/server/drand'
import { startTestBeacon, type TestBeacon } from '../support/test-beacon'

let tb: TestBeacon
beforeAll(async () => {
  tb = await startTestBeacon({ futureStatus: 425 })
  tb.publish(100)
})
afterAll(() => tb.close())

const apps: AppServer[] = []
const others: Server[] = []
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()))
  await Promise.all(others.splice(0).map((s) => new Promise<void>((resolve) => (s.closeAllConnections(), s.close(() => resolve())))))
})

async function proxy(drand: Omit<DrandProxyOptions, 'headers'>): Promise<string> {
  const app = createAppServer({ host: '127.0.0.1', port: 0, distRoot: '/nonexistent-blossom-dist', drand })
  apps.push(app)
  return (await app.listen()).replace(/\/$/, '')
}

/** A relay that answers every request with `answer`. */
async function relay(answer: (res: import('node:http').ServerResponse) => void): Promise<{ url: string; hits: () => number }> {
  let hits = 0
  const server = createServer((_req, res) => {
    hits++
    answer(res)
  })
  others.push(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits: () => hits }
}

interface Got {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: string
}

function get(url: string, options: { method?: string; localAddress?: string } = {}): Promise<Got> {
  return new Promise((resolve, reject) => {
    // The path as written (new URL would resolve '..' before sending).
    const { hostname, port } = new URL(url)
    const path = url.replace(/^http:\/\/[^/]+/, '')
    const req = request({ hostname, port, path, method: options.method ?? 'GET', ...(options.localAddress ? { localAddress: options.localAddress } : {}) }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }))
    })
    req.on('error', reject)
    req.end()
  })
}

/** A beacon as drand's API writes it. */
const beaconJson = (round: number): { round: number; randomness: string; signature: string } => {
  const { signature } = tb.beacon(round)
  return { round, randomness: createHash('sha256').update(Buffer.from(signature, 'hex')).digest('hex'), signature }
}

describe('drand proxy', () => {
  it('passes latest, past rounds and info through, with the release headers; a future round is 404', async () => {
    const base = `${await proxy({ upstreams: [tb.url] })}/drand/${tb.chain.hash}`
    const latest = await get(`${base}/public/latest`)
    expect(latest.status).toBe(200)
    expect(latest.headers['content-type']).toBe('application/json')
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) expect(latest.headers[name.toLowerCase()], name).toBe(value)
    expect(JSON.parse(latest.body)).toMatchObject(beaconJson(100))
    const past = await get(`${base}/public/42`)
    expect(past.status).toBe(200)
    expect(JSON.parse(past.body)).toMatchObject(beaconJson(42))
    const info = await get(`${base}/info`)
    expect(JSON.parse(info.body)).toEqual(tb.info)
    const future = await get(`${base}/public/101`)
    expect(future.status).toBe(404)
    // Published meanwhile: the same round now passes (a miss is not cached).
    tb.publish(101)
    expect(JSON.parse((await get(`${base}/public/101`)).body)).toMatchObject(beaconJson(101))
  })

  it('keeps past rounds, and asks a relay once for a crowd asking the same round at once', async () => {
    const base = `${await proxy({ upstreams: [tb.url] })}/drand/${tb.chain.hash}`
    const before = tb.requests.length
    const answers = await Promise.all(Array.from({ length: 20 }, () => get(`${base}/public/7`)))
    expect(answers.every((a) => a.status === 200 && (JSON.parse(a.body) as { round: number }).round === 7)).toBe(true)
    await get(`${base}/public/7`)
    expect(tb.requests.length - before).toBe(1)
  })

  it('keeps a round five minutes, latest a quarter second: a relay’s lie does not stay in the cache', async () => {
    let t = 1_000_000
    const base = `${await proxy({ upstreams: [tb.url], now: () => t })}/drand/${tb.chain.hash}`
    const asked = (): number => tb.requests.length
    const start = asked()
    await get(`${base}/public/8`)
    await get(`${base}/public/latest`)
    t += 249
    await get(`${base}/public/8`)
    await get(`${base}/public/latest`)
    expect(asked() - start).toBe(2)
    t += 2
    await get(`${base}/public/latest`)
    expect(asked() - start).toBe(3)
    t += 300_000
    await get(`${base}/public/8`)
    expect(asked() - start).toBe(4)
  })

  it('refuses every other path or method with 400/405, and asks no relay', async () => {
    const origin = await proxy({ upstreams: [tb.url] })
    const h = tb.chain.hash
    const before = tb.requests.length
    const bad = [
      '/drand',
      '/drand/',
      `/drand/${h}`,
      `/drand/${h}/`,
      `/drand/${h.toUpperCase()}/info`,
      `/drand/${h.slice(1)}/info`,
      `/drand/${h}/public`,
      `/drand/${h}/public/0`,
      `/drand/${h}/public/-1`,
      `/drand/${h}/public/012`,
      `/drand/${h}/public/1.5`,
      `/drand/${h}/public/99999999999999999999`,
      `/drand/${h}/public/latest/x`,
      `/drand/${h}/chains`,
      '/drand/chains',
      '/drand/health',
      `/drand/${h}/../../etc/passwd`,
      `/drand/%2e%2e/${h}/info`,
      `/drand/${h}/public/%31`,
    ]
    for (const path of bad) {
      const got = await get(origin + path)
      expect(got.status, path).toBe(400)
      expect(got.headers['content-security-policy'], path).toBe(SECURITY_HEADERS['Content-Security-Policy'])
    }
    for (const method of ['POST', 'PUT', 'DELETE', 'HEAD']) expect((await get(`${origin}/drand/${h}/info`, { method })).status, method).toBe(405)
    expect(tb.requests.length).toBe(before)
  })

  it('refuses an oversized relay answer, and falls back to the next relay', async () => {
    const huge = await relay((res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' })
      res.end(JSON.stringify({ ...beaconJson(5), padding: 'x'.repeat(1 << 20) }))
    })
    const chunked = await relay((res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' }) // no content-length: the limit counts bytes as they come
      for (let i = 0; i < 64; i++) res.write(' '.repeat(1024))
      res.end(JSON.stringify(beaconJson(5)))
    })
    const alone = await proxy({ upstreams: [huge.url, chunked.url] })
    const got = await get(`${alone}/drand/${tb.chain.hash}/public/5`)
    expect(got.status).toBe(502)
    expect(got.body).not.toContain('xxxx')
    expect(huge.hits()).toBe(1)
    expect(chunked.hits()).toBe(1)
    const withFallback = await proxy({ upstreams: [huge.url, tb.url] })
    const ok = await get(`${withFallback}/drand/${tb.chain.hash}/public/5`)
    expect(ok.status).toBe(200)
    expect(JSON.parse(ok.body)).toMatchObject(beaconJson(5))
  })

  it('gives 502 when relays are down, slow, failing or lying, and tells 404 only when a relay says so', async () => {
    const closed = await relay(() => undefined)
    const downUrl = closed.url
    await new Promise<void>((resolve) => others.pop()!.close(() => resolve()))
    const slow = await relay(() => undefined) // never answers
    const failing = await relay((res) => res.writeHead(500).end('{}'))
    const lying = await relay((res) => res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(beaconJson(6))))
    const notJson = await relay((res) => res.writeHead(200).end('<html>'))
    const badRandomness = await relay((res) => res.writeHead(200).end(JSON.stringify({ ...beaconJson(5), randomness: '00'.repeat(32) })))
    const h = tb.chain.hash
    for (const upstreams of [[downUrl], [slow.url], [failing.url], [lying.url], [notJson.url], [badRandomness.url], [downUrl, slow.url, failing.url]]) {
      const origin = await proxy({ upstreams, timeoutMs: 300 })
      const started = Date.now()
      const got = await get(`${origin}/drand/${h}/public/5`)
      expect(got.status, upstreams.join()).toBe(502)
      expect(Date.now() - started).toBeLessThan(3_000)
    }
    // A dead relay, then one that says the round is not out: 404.
    const origin = await proxy({ upstreams: [downUrl, tb.url], timeoutMs: 300 })
    expect((await get(`${origin}/drand/${h}/public/100000`)).status).toBe(404)
  })

  it('rate limits one source and not the others', async () => {
    const origin = await proxy({ upstreams: [tb.url], burst: 5, perSecond: 0.01 })
    const url = `${origin}/drand/${tb.chain.hash}/public/latest`
    const statuses: number[] = []
    for (let i = 0; i < 8; i++) statuses.push((await get(url, { localAddress: '127.0.0.2' })).status)
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429, 429])
    const before = tb.requests.length
    // Refused before any work: a limited source makes no relay request, even for an uncached round.
    expect((await get(`${origin}/drand/${tb.chain.hash}/public/77`, { localAddress: '127.0.0.2' })).status).toBe(429)
    expect(tb.requests.length).toBe(before)
    expect((await get(url, { localAddress: '127.0.0.3' })).status).toBe(200)
  })

  it('reads BLOSSOM_DRAND_URLS', () => {
    expect(drandUrlsFromEnv(undefined)).toEqual(DEFAULT_DRAND_URLS)
    expect(drandUrlsFromEnv(' ')).toEqual(DEFAULT_DRAND_URLS)
    expect(drandUrlsFromEnv('http://127.0.0.1:9000, https://relay.example/')).toEqual(['http://127.0.0.1:9000', 'https://relay.example/'])
    expect(() => drandUrlsFromEnv('ftp://x')).toThrow(RangeError)
    expect(() => drandUrlsFromEnv('not a url')).toThrow(RangeError)
  })
})
