// Limits that need configuration: timeouts, caps, backpressure, upgrade refusal.
import { connect, type Socket } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { CloseCode } from '../../src/server/codes'
import { Client, HealthyPair, startSignaling, waitFor, type Harness } from './helpers'

let h: Harness | undefined
const clients: Client[] = []
async function start(options: Parameters<typeof startSignaling>[0] = {}): Promise<Harness> {
  h = await startSignaling(options)
  return h
}
async function open(url: string): Promise<Client> {
  const c = await Client.open(url)
  clients.push(c)
  return c
}
afterEach(async () => {
  for (const c of clients.splice(0)) c.close()
  await h?.stop()
  h = undefined
})

describe('timeouts', () => {
  it('closes a connection that never subscribes (4005), not one that did', async () => {
    const s = await start({ subscribeTimeoutMs: 200 })
    const subscribed = await open(s.url)
    await subscribed.subscribe(['t'])
    const idle = await open(s.url)
    const started = Date.now()
    expect((await idle.closedWithin(3_000)).code).toBe(CloseCode.idle)
    expect(Date.now() - started).toBeGreaterThanOrEqual(150)
    expect(subscribed.isOpen).toBe(true)
    await subscribed.sync()
  })

  it('closes a connection that unsubscribed from everything (4005)', async () => {
    const s = await start({ subscribeTimeoutMs: 200 })
    const c = await open(s.url)
    await c.subscribe(['a', 'b'])
    c.send({ type: 'unsubscribe', topics: ['a', 'b'] })
    expect((await c.closedWithin(3_000)).code).toBe(CloseCode.idle)
    expect(s.signaling.stats().closes[CloseCode.idle]).toBe(1)
  })

  it('terminates a peer that stops answering WebSocket pings, keeps one that answers', async () => {
    const s = await start({ pingIntervalMs: 250 }) // long enough that a busy test process still answers in time
    const other = await open(s.url)
    const live = await open(s.url)
    const silent = new Client(s.url, { autoPong: false }) // never answers the server's pings
    clients.push(silent)
    await silent.opened
    await silent.subscribe(['t'])
    await other.subscribe(['t'])
    await live.subscribe(['t'])
    expect((await silent.closedWithin(3_000)).code).toBe(1006)
    expect(s.signaling.stats().closes[CloseCode.abnormal]).toBe(1)
    expect(live.isOpen && other.isOpen).toBe(true)
    live.send({ type: 'publish', topic: 't', data: 'after' })
    expect((await other.next())['data']).toBe('after')
    await waitFor(() => s.signaling.stats().subscriptions === 2, 'dead peer released')
  })
})

describe('caps', () => {
  it('closes the subscriber beyond maxPeersPerTopic with 4003', async () => {
    const s = await start({ maxPeersPerTopic: 3 })
    const pair = await HealthyPair.open(s.url, 'full')
    const third = await open(s.url)
    await third.subscribe(['full'])
    const fourth = await open(s.url)
    fourth.send({ type: 'subscribe', topics: ['elsewhere', 'full'] })
    expect((await fourth.closedWithin()).code).toBe(CloseCode.topicFull)
    expect(s.signaling.stats()).toMatchObject({ topics: 1, subscriptions: 3 }) // 'elsewhere' not kept
    await pair.check()
    pair.close()
  })

  it('closes with 1013 when the server-wide topic cap is reached', async () => {
    const s = await start({ maxTopics: 10 })
    const pair = await HealthyPair.open(s.url)
    const filler = await open(s.url)
    await filler.subscribe(Array.from({ length: 9 }, (_, i) => `f${i}`))
    const late = await open(s.url)
    late.send({ type: 'subscribe', topics: ['one-too-many'] })
    expect((await late.closedWithin()).code).toBe(CloseCode.tryAgainLater)
    // joining an existing topic is still fine
    const joiner = await open(s.url)
    await joiner.subscribe(['f0'])
    await pair.check()
    pair.close()
  })

  it('closes with 1013 when the server-wide subscription cap is reached', async () => {
    const s = await start({ maxSubscriptions: 4 })
    const pair = await HealthyPair.open(s.url)
    const filler = await open(s.url)
    await filler.subscribe([pair.topic, 'x'])
    const late = await open(s.url)
    late.send({ type: 'subscribe', topics: [pair.topic] })
    expect((await late.closedWithin()).code).toBe(CloseCode.tryAgainLater)
    await pair.check()
    pair.close()
  })

  it('answers upgrades beyond maxConnections with HTTP 503', async () => {
    const s = await start({ maxConnections: 3 })
    const pair = await HealthyPair.open(s.url)
    await open(s.url)
    await expect(Client.open(s.url)).rejects.toThrow('HTTP 503')
    expect(s.signaling.stats().upgradesRefused).toBe(1)
    pair.a.send({ type: 'publish', topic: pair.topic, data: 'still' })
    expect((await pair.b.next())['data']).toBe('still')
    pair.close()
  })

  it('refuses upgrades on any path but /signal with 404', async () => {
    const s = await start()
    const base = s.url.replace(/\/signal$/, '')
    for (const p of ['/', '/signal/', '/signalx', '/other', '/SIGNAL']) {
      await expect(Client.open(base + p)).rejects.toThrow('HTTP 404')
    }
    const ok = await open(`${s.url}?room=ignored`)
    await ok.sync()
  })
})

describe('backpressure', () => {
  /** A raw WebSocket client that completes the handshake and then never reads. */
  async function stalledReceiver(url: string, topic: string): Promise<Socket> {
    const { hostname, port } = new URL(url)
    const socket = connect(Number(port), hostname)
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()))
    socket.write(
      'GET /signal HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    )
    await new Promise<void>((resolve) => socket.once('data', () => resolve()))
    // one masked text frame: {"type":"subscribe","topics":[topic]}
    const payload = Buffer.from(JSON.stringify({ type: 'subscribe', topics: [topic] }))
    const mask = Buffer.from([1, 2, 3, 4])
    const masked = Buffer.from(payload.map((b, i) => b ^ (mask[i % 4] ?? 0)))
    socket.write(Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, masked]))
    socket.pause() // stop reading: the kernel buffers fill, then the server's send buffer
    return socket
  }

  it('drops messages to a receiver that does not read, keeps serving the others', async () => {
    const s = await start({
      maxBufferedBytes: 256 * 1024,
      byteBurst: 512 * 1024 * 1024,
      bytesPerSecond: 512 * 1024 * 1024,
    })
    const stalled = await stalledReceiver(s.url, 'wide')
    const sender = await open(s.url)
    const reader = await open(s.url)
    await sender.subscribe(['wide'])
    await reader.subscribe(['wide'])
    await waitFor(() => s.signaling.stats().subscriptions === 3, 'stalled receiver subscribed')
    const data = 'D'.repeat(200 * 1024)
    let sent = 0
    const deadline = Date.now() + 10_000
    // bounded: at most 400 x 200 KB, until the server reports drops to the stalled socket
    while (s.signaling.stats().dropped.slowReceiver === 0 && sent < 400 && Date.now() < deadline) {
      sender.send({ type: 'publish', topic: 'wide', data })
      sent++
      await reader.next() // the reader gets every message, in step with the sender
    }
    expect(s.signaling.stats().dropped.slowReceiver).toBeGreaterThan(0)
    expect(s.signaling.stats().messagesDropped).toBeGreaterThan(0)
    sender.send({ type: 'publish', topic: 'wide', data: 'small-after' })
    expect((await reader.next())['data']).toBe('small-after')
    stalled.destroy()
  })
})
