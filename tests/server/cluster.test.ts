// Several signaling instances sharing topics through Debian's redis-server on 127.0.0.1
// (src/server/cluster.ts): phones on different instances meet, get each other's broadcasts once,
// unicasts to a peer id claimed elsewhere, and announcements sampled from the whole room; a room's
// size limit holds for the cluster; junk written to Redis crashes nothing; without Redis each
// instance goes on serving its own phones, and they meet again once Redis is back.
import { Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { CloseCode } from '../../src/server/codes'
import { splitSample } from '../../src/server/cluster'
import { startRedis, type TestRedis } from '../support/redis'
import { Client, startSignaling, type Harness, type Json } from './helpers'
import type { SignalingServerOptions } from '../../src/server/signaling'

let redis: TestRedis
beforeAll(async () => {
  redis = await startRedis()
})
afterAll(() => redis?.stop())

const running: Harness[] = []
const clients: Client[] = []
afterEach(async () => {
  for (const c of clients.splice(0)) c.socket.terminate()
  await Promise.all(running.splice(0).map((h) => h.stop()))
})

async function instance(options: Omit<SignalingServerOptions, 'server'> = {}): Promise<Harness> {
  const h = await startSignaling({ cluster: { url: redis.url, reportMs: 50, forgetMs: 2_000 }, ...options })
  running.push(h)
  return h
}

async function client(h: Harness, topics: string[], peers?: Record<string, string>): Promise<Client> {
  const c = await Client.open(h.url)
  clients.push(c)
  await c.subscribe(topics, peers)
  await c.sync()
  return c
}

/** Until every instance knows how many subscribers `topic` has on the others (counts travel every 50 ms; a loaded CI machine lags). */
async function settled(): Promise<void> {
  await new Promise((r) => setTimeout(r, 1_000))
}

const published = (m: Json): boolean => m['type'] === 'publish'
const say = (c: Client, topic: string, data: Json): void => c.send({ type: 'publish', topic, data })

describe('instances sharing topics through Redis', () => {
  it('a broadcast reaches every subscriber of the topic on every instance, once, and nobody else', async () => {
    const [a, b, c] = [await instance(), await instance(), await instance()]
    const sender = await client(a, ['room'])
    const onA = await client(a, ['room'])
    const onB = await client(b, ['room'])
    const onB2 = await client(b, ['room'])
    const elsewhere = await client(c, ['another room'])
    await settled()
    say(sender, 'room', { frame: 1 })
    for (const receiver of [onA, onB, onB2]) expect(await receiver.take(published)).toEqual({ type: 'publish', topic: 'room', data: { frame: 1 } })
    say(sender, 'room', { frame: 2 })
    for (const receiver of [onA, onB, onB2]) expect((await receiver.take(published))['data']).toEqual({ frame: 2 })
    await Promise.all([onA, onB, onB2, elsewhere, sender].map((x) => x.sync()))
    for (const x of [onA, onB, onB2, elsewhere, sender]) expect(x.pending.filter(published)).toEqual([])
  })

  it('a signal addressed to a peer id reaches the phone that claimed it on another instance, and only it', async () => {
    const [a, b] = [await instance(), await instance()]
    const alice = await client(a, ['room'], { room: 'peer-alice' })
    const bob = await client(b, ['room'], { room: 'peer-bob' })
    const carol = await client(b, ['room'], { room: 'peer-carol' })
    await settled()
    alice.send({ type: 'publish', topic: 'room', to: 'peer-bob', data: { offer: 'sdp' } })
    expect(await bob.take(published)).toEqual({ type: 'publish', topic: 'room', data: { offer: 'sdp' } })
    bob.send({ type: 'publish', topic: 'room', to: 'peer-alice', data: { answer: 'sdp' } })
    expect((await alice.take(published))['data']).toEqual({ answer: 'sdp' })
    await carol.sync()
    expect(carol.pending.filter(published)).toEqual([])
  })

  it('an announcement is sampled from the whole room: k deliveries in all, from both instances', async () => {
    const [a, b] = [await instance(), await instance()]
    const sender = await client(a, ['crowd'])
    const here = await Promise.all(Array.from({ length: 6 }, () => client(a, ['crowd'])))
    const there = await Promise.all(Array.from({ length: 6 }, () => client(b, ['crowd'])))
    await settled()
    const rounds = 30
    for (let i = 0; i < rounds; i++) sender.send({ type: 'publish', topic: 'crowd', data: { hello: i }, sample: 4 })
    await sender.sync()
    await settled()
    await Promise.all([...here, ...there].map((x) => x.sync()))
    const got = (xs: Client[]): number => xs.reduce((n, x) => n + x.pending.filter(published).length, 0)
    // Each announcement reached exactly 4 of the 12 others, wherever they were connected.
    expect(got(here) + got(there)).toBe(4 * rounds)
    expect(got(there)).toBeGreaterThan(0)
    expect(got(here)).toBeGreaterThan(0)
    for (const x of [...here, ...there]) for (const m of x.pending.filter(published)) expect(m['sampled']).toBe(4)
  })

  it('a room’s size limit holds for the cluster, not per instance', async () => {
    const [a, b] = [await instance({ maxPeersPerTopic: 4 }), await instance({ maxPeersPerTopic: 4 })]
    await client(a, ['small'])
    await client(a, ['small'])
    await client(b, ['small'])
    await client(b, ['small'])
    await settled()
    const fifth = await Client.open(a.url)
    clients.push(fifth)
    fifth.send({ type: 'subscribe', topics: ['small'] })
    expect((await fifth.closedWithin()).code).toBe(CloseCode.topicFull)
    const sixth = await Client.open(b.url)
    clients.push(sixth)
    sixth.send({ type: 'subscribe', topics: ['small'] })
    expect((await sixth.closedWithin()).code).toBe(CloseCode.topicFull)
  })

  it('an instance that stops takes its counts with it: its room places are free again', async () => {
    const [a, b] = [await instance({ maxPeersPerTopic: 2 }), await instance({ maxPeersPerTopic: 2 })]
    await client(a, ['pair'])
    await client(b, ['pair'])
    await settled()
    await b.stop()
    running.splice(running.indexOf(b), 1)
    await settled()
    const next = await client(a, ['pair'])
    expect(next.isOpen).toBe(true)
  })

  it('junk written straight to Redis crashes nothing, and the next real message still arrives', async () => {
    const [a, b] = [await instance(), await instance()]
    const sender = await client(a, ['room'])
    const receiver = await client(b, ['room'])
    await settled()
    const writer = new Redis(redis.url)
    try {
      for (const junk of ['', 'not json', '[]', '{"from":1}', '{"from":"x","payload":7}', '{"from":"x","payload":"{}","sample":{"a":-1}}', 'x'.repeat(2_000_000)]) {
        await writer.publish('blossom:t:room', junk)
      }
      for (const junk of ['{', '{"from":"x","topics":{"room":-5},"sources":{"s":"no"}}', '{"from":"x","full":true,"topics":{"room":1e300}}', '7']) {
        await writer.publish('blossom:counts', junk)
      }
    } finally {
      writer.disconnect()
    }
    await settled()
    say(sender, 'room', { after: 'junk' })
    expect((await receiver.take(published))['data']).toEqual({ after: 'junk' })
  })

  it('a phone naming topics it never held (unsubscribe floods) costs Redis nothing, and the bus keeps working', async () => {
    const [a, b] = [await instance(), await instance()]
    const sender = await client(a, ['room'])
    const receiver = await client(b, ['room'])
    await settled()
    const stats = new Redis(redis.url)
    const commands = async (): Promise<number> => Number(/total_commands_processed:(\d+)/.exec(await stats.info('stats'))?.[1])
    try {
      const before = await commands()
      const flooder = await Client.open(a.url)
      clients.push(flooder)
      for (let i = 0; i < 4; i++) flooder.send({ type: 'unsubscribe', topics: Array.from({ length: 2_000 }, (_, j) => `never-held-${i}-${j}`) })
      await flooder.sync()
      await settled()
      // A few count reports a second, nothing per name.
      expect((await commands()) - before).toBeLessThan(100)
    } finally {
      stats.disconnect()
    }
    say(sender, 'room', { after: 'flood' })
    expect((await receiver.take(published))['data']).toEqual({ after: 'flood' })
  })

  it('without Redis each instance serves its own phones; once Redis is back, phones on both meet again', async () => {
    const [a, b] = [await instance(), await instance()]
    const sender = await client(a, ['room'])
    const localPeer = await client(a, ['room'])
    const remotePeer = await client(b, ['room'])
    await settled()
    const port = redis.port
    await redis.stop()
    say(sender, 'room', { while: 'down' })
    expect((await localPeer.take(published))['data']).toEqual({ while: 'down' })
    redis = await startRedis(port)
    // ioredis reconnects and listens again by itself; a phone's messages cross once it has.
    const deadline = Date.now() + 15_000
    while (!remotePeer.pending.some((m) => published(m) && (m['data'] as Json)['again'] === true)) {
      if (Date.now() > deadline) throw new Error('no broadcast crossed instances after Redis came back')
      say(sender, 'room', { again: true })
      await new Promise((r) => setTimeout(r, 200))
    }
    // What was sent while Redis was down did not cross (phones catch up through the relay's hello).
    expect(remotePeer.pending.some((m) => published(m) && (m['data'] as Json)['while'] === 'down')).toBe(false)
  })
})

describe('splitting a sample over instances', () => {
  it('draws k in all, never more than a group holds, each member equally likely', () => {
    expect(splitSample(4, [0, 0])).toEqual([0, 0])
    expect(splitSample(10, [2, 3])).toEqual([2, 3])
    const totals = [0, 0, 0]
    for (let i = 0; i < 3_000; i++) {
      const split = splitSample(3, [10, 20, 30])
      expect(split.reduce((x, y) => x + y, 0)).toBe(3)
      split.forEach((n, g) => (totals[g]! += n))
    }
    // Expected 1,500, 3,000 and 4,500 of 9,000 draws; far outside chance if groups were weighted equally.
    expect(totals[0]).toBeGreaterThan(1_200)
    expect(totals[0]).toBeLessThan(1_800)
    expect(totals[2]).toBeGreaterThan(4_100)
  })
})
