// Hostile input: each case closes only the offender, with its code, and a well-behaved pair
// on the same server still gets its messages afterwards.
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { CloseCode } from '../../src/server/codes'
import { Client, HealthyPair, startSignaling, waitFor, type Harness } from './helpers'

let h: Harness
let pair: HealthyPair

async function start(options: Parameters<typeof startSignaling>[0] = {}): Promise<void> {
  h = await startSignaling(options)
  pair = await HealthyPair.open(h.url)
}

afterEach(async () => {
  pair.close()
  await h.stop()
})

/** Send `bad` from a fresh client, expect it closed with `code`, then check the others. */
async function expectRefused(send: (c: Client) => void, code: number): Promise<Client> {
  const bad = await Client.open(h.url)
  send(bad)
  expect((await bad.closedWithin()).code).toBe(code)
  await pair.check()
  expect(h.signaling.stats().closes[code]).toBeGreaterThanOrEqual(1)
  return bad
}

describe('malformed messages', () => {
  beforeEach(() => start())

  it.each([
    ['not JSON', '{"type":"subscribe",'],
    ['empty text', ''],
    ['a JSON number', '42'],
    ['a JSON array', '[{"type":"ping"}]'],
    ['JSON null', 'null'],
    ['a JSON string', '"ping"'],
    ['no type', '{"topics":["t"]}'],
    ['type not a string', '{"type":7}'],
    ['topics not an array', '{"type":"subscribe","topics":"t"}'],
    ['topics missing', '{"type":"subscribe"}'],
    ['topic not a string', '{"type":"subscribe","topics":[1]}'],
    ['peers not an object', '{"type":"subscribe","topics":["t"],"peers":["p"]}'],
    ['peer id not a string', '{"type":"subscribe","topics":["t"],"peers":{"t":5}}'],
    ['unsubscribe topics ill-typed', '{"type":"unsubscribe","topics":[null]}'],
    ['publish without topic', '{"type":"publish","data":"x"}'],
    ['publish without data', '{"type":"publish","topic":"t"}'],
    ['publish to not a string', '{"type":"publish","topic":"t","data":"x","to":3}'],
  ])('closes with 1007 on %s', async (_name, text) => {
    await expectRefused((c) => c.sendRaw(text), CloseCode.invalidPayload)
  })

  it('closes with 1007 on data nested too deeply to re-serialize', async () => {
    const depth = 100_000 // 200 KB, under the size limit
    const text = `{"type":"publish","topic":"${pair.topic}","data":${'['.repeat(depth)}${']'.repeat(depth)}}`
    await expectRefused((c) => {
      c.send({ type: 'subscribe', topics: [pair.topic] })
      c.sendRaw(text)
    }, CloseCode.invalidPayload)
  })

  it('closes with 4000 on an unknown type', async () => {
    await expectRefused((c) => c.send({ type: 'join', topics: ['t'] }), CloseCode.unknownType)
  })

  it('closes with 1003 on binary garbage', async () => {
    const garbage = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 131 + 7) % 256))
    await expectRefused((c) => c.sendRaw(garbage, true), CloseCode.unsupportedData)
  })

  it('closes with 1003 on binary frames that hold valid JSON', async () => {
    await expectRefused((c) => c.sendRaw(Buffer.from('{"type":"ping"}'), true), CloseCode.unsupportedData)
  })

  it('closes with 4001 on a too-long topic, peer id or `to`', async () => {
    const long = 'x'.repeat(h.signaling.limits.maxTopicLength + 1)
    const longId = 'p'.repeat(h.signaling.limits.maxPeerIdLength + 1)
    await expectRefused((c) => c.send({ type: 'subscribe', topics: [long] }), CloseCode.fieldLength)
    await expectRefused((c) => c.send({ type: 'publish', topic: long, data: 1 }), CloseCode.fieldLength)
    await expectRefused((c) => c.send({ type: 'subscribe', topics: ['t'], peers: { t: longId } }), CloseCode.fieldLength)
    await expectRefused((c) => c.send({ type: 'publish', topic: 't', data: 1, to: longId }), CloseCode.fieldLength)
    await expectRefused((c) => c.send({ type: 'subscribe', topics: [''] }), CloseCode.fieldLength)
    expect(h.signaling.stats().topics).toBe(1) // only the healthy pair's
  })

  it('treats prototype-like topic names as plain strings', async () => {
    const a = await Client.open(h.url)
    const b = await Client.open(h.url)
    await a.subscribe(['__proto__', 'constructor'], { constructor: 'id-a' })
    await b.subscribe(['__proto__', 'constructor'])
    b.send({ type: 'publish', topic: 'constructor', to: 'id-a', data: 'ok' })
    expect(await a.next()).toMatchObject({ topic: 'constructor', data: 'ok' })
    a.close()
    b.close()
  })
})

describe('size and volume', () => {
  it('closes with 1009 on a 10 MB message', async () => {
    await start()
    const tenMB = JSON.stringify({ type: 'publish', topic: pair.topic, data: 'A'.repeat(10 * 1024 * 1024) })
    await expectRefused((c) => c.sendRaw(tenMB), CloseCode.messageTooBig)
  })

  it('refuses 100k subscriptions in one message (1009 at the default size limit)', async () => {
    await start()
    const topics = Array.from({ length: 100_000 }, (_, i) => `topic-${i}`)
    await expectRefused((c) => c.send({ type: 'subscribe', topics }), CloseCode.messageTooBig)
    expect(h.signaling.stats()).toMatchObject({ topics: 1, subscriptions: 2 })
  })

  it('refuses 100k subscriptions in one message that fits a raised size limit (4002, nothing kept)', async () => {
    await start({ maxPayloadBytes: 4 * 1024 * 1024, byteBurst: 8 * 1024 * 1024 })
    const topics = Array.from({ length: 100_000 }, (_, i) => `topic-${i}`)
    await expectRefused((c) => c.send({ type: 'subscribe', topics }), CloseCode.tooManyTopics)
    expect(h.signaling.stats()).toMatchObject({ topics: 1, subscriptions: 2 })
  })

  it('refuses 100k subscriptions across messages at the per-connection topic cap (4002)', async () => {
    await start()
    const bad = await Client.open(h.url)
    const perMessage = 500
    for (let m = 0; m < 100_000 / perMessage && bad.isOpen; m++) {
      bad.send({ type: 'subscribe', topics: Array.from({ length: perMessage }, (_, i) => `t-${m}-${i}`) })
    }
    expect((await bad.closedWithin()).code).toBe(CloseCode.tooManyTopics)
    await pair.check()
    expect(h.signaling.stats()).toMatchObject({ topics: 1, subscriptions: 2 })
  })

  it('closes a flood of 5,000 publishes with 4004 and bounds what its topic-mates receive', async () => {
    await start()
    const flooder = await Client.open(h.url)
    const victim = await Client.open(h.url)
    await flooder.subscribe(['flooded'])
    await victim.subscribe(['flooded'])
    for (let i = 0; i < 5_000 && flooder.isOpen; i++) {
      flooder.send({ type: 'publish', topic: 'flooded', data: `m${i}` })
    }
    expect((await flooder.closedWithin()).code).toBe(CloseCode.rateLimited)
    await pair.check()
    await victim.sync()
    // burst plus whatever refilled during the loop, far below 5,000
    expect(victim.pending.length).toBeLessThan(h.signaling.limits.messageBurst + 200)
    expect(victim.pending.length).toBeGreaterThan(0)
    victim.close()
  })

  it('closes a byte flood with 4004 even when the message count is small', async () => {
    await start()
    const big = JSON.stringify({ type: 'publish', topic: 'bytes', data: 'B'.repeat(200 * 1024) })
    await expectRefused((c) => {
      for (let i = 0; i < 40; i++) c.sendRaw(big) // 8 MB in 40 messages, byte burst is 2 MiB
    }, CloseCode.rateLimited)
  })

  it('counts WebSocket-level pings against the rate limit (4004)', async () => {
    await start()
    const bad = await Client.open(h.url)
    let pongs = 0
    bad.socket.on('pong', () => pongs++)
    // Batches small enough for ws's own auto-pong guard, so only our rate limit can trip.
    for (let batch = 0; batch < 30 && bad.isOpen; batch++) {
      for (let i = 0; i < 40; i++) bad.socket.ping()
      const want = (batch + 1) * 40
      await waitFor(() => pongs >= want || !bad.isOpen, 'pongs or close')
    }
    expect((await bad.closedWithin()).code).toBe(CloseCode.rateLimited)
    await pair.check()
  })

  it('survives a raw burst of 5,000 pings (rate limit or ws auto-pong guard ends it)', async () => {
    await start()
    const bad = await Client.open(h.url)
    for (let i = 0; i < 5_000; i++) bad.socket.ping()
    // 1006: ws terminates a peer with too many unanswered auto-pongs before our bucket sees them all.
    expect([CloseCode.rateLimited, CloseCode.abnormal]).toContain((await bad.closedWithin()).code)
    await pair.check()
  })

  it('keeps serving after many offenders at once', async () => {
    await start()
    const offenders = await Promise.all(Array.from({ length: 50 }, () => Client.open(h.url)))
    offenders.forEach((c, i) => c.sendRaw(i % 2 === 0 ? 'not json' : Buffer.from([0xff, 0x00]), i % 2 === 1))
    const codes = await Promise.all(offenders.map(async (c) => (await c.closedWithin()).code))
    expect(new Set(codes)).toEqual(new Set([CloseCode.invalidPayload, CloseCode.unsupportedData]))
    await pair.check()
    await waitFor(() => h.signaling.stats().connections === 2, 'offenders to be gone')
  })
})
