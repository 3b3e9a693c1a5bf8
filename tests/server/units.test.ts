// Socket-free units: token bucket, topic registry, message parsing, limit validation.
import { describe, expect, it } from 'vitest'
import { TokenBucket } from '../../src/server/bucket'
import { CloseCode } from '../../src/server/codes'
import { DEFAULT_LIMITS, resolveLimits } from '../../src/server/limits'
import { parseClientMessage } from '../../src/server/protocol'
import { TopicRegistry } from '../../src/server/topics'
import { addressSource } from '../../src/server/signaling'
import type { IncomingMessage } from 'node:http'

describe('TokenBucket', () => {
  it('allows the burst, refuses beyond it, refills with time', () => {
    let now = 0
    const bucket = new TokenBucket(3, 2, () => now)
    expect([bucket.take(1), bucket.take(1), bucket.take(1), bucket.take(1)]).toEqual([true, true, true, false])
    now = 500 // +1 token
    expect(bucket.take(1)).toBe(true)
    expect(bucket.take(1)).toBe(false)
    now = 100_000 // refill caps at capacity
    expect(bucket.take(3)).toBe(true)
    expect(bucket.take(1)).toBe(false)
  })

  it('refuses a take larger than what is left without spending it', () => {
    let now = 0
    const bucket = new TokenBucket(10, 1, () => now)
    expect(bucket.take(8)).toBe(true)
    expect(bucket.take(5)).toBe(false)
    expect(bucket.take(2)).toBe(true)
    now = -5_000 // a clock going backwards adds nothing
    expect(bucket.take(1)).toBe(false)
  })
})

describe('TopicRegistry', () => {
  it('keeps the first claim, replaces a connection’s own claim, frees claims on leave', () => {
    const r = new TopicRegistry<string>()
    expect(r.subscribe('a', 't', 'p1')).toBe(true)
    expect(r.subscribe('b', 't', 'p1')).toBe(false)
    expect(r.byPeerId('t', 'p1')).toBe('a')
    expect(r.isSubscribed('b', 't')).toBe(true)
    expect(r.subscribe('a', 't', null)).toBe(true) // re-subscribe without id keeps the claim
    expect(r.byPeerId('t', 'p1')).toBe('a')
    expect(r.subscribe('a', 't', 'p2')).toBe(true) // one id per connection and topic
    expect(r.byPeerId('t', 'p1')).toBeUndefined()
    expect(r.subscribe('b', 't', 'p1')).toBe(true)
    r.removeAll('a')
    expect(r.byPeerId('t', 'p2')).toBeUndefined()
    expect(r.subscriberCount('t')).toBe(1)
    expect(r.subscriptions).toBe(1)
  })

  it('deletes a topic with its last subscriber and counts subscriptions exactly', () => {
    const r = new TopicRegistry<number>()
    for (let c = 0; c < 10; c++) for (let t = 0; t < 10; t++) r.subscribe(c, `t${t}`, `p${c}`)
    r.subscribe(0, 't0', null) // idempotent
    expect([r.topicCount, r.subscriptions, r.topicsOf(3)]).toEqual([10, 100, 10])
    r.unsubscribe(0, 'nope')
    r.unsubscribe(99, 't0')
    for (let c = 0; c < 10; c++) r.removeAll(c)
    expect([r.topicCount, r.subscriptions, r.topicsOf(3)]).toEqual([0, 0, 0])
    expect([...r.subscribers('t0')]).toEqual([])
  })
})

describe('parseClientMessage', () => {
  const limits = { maxTopicLength: 8, maxPeerIdLength: 4 }
  const parse = (v: unknown) => parseClientMessage(JSON.stringify(v), limits)

  it('accepts the four message types in the shapes clients send', () => {
    expect(parse({ type: 'subscribe', topics: ['a', 'b'], peers: { a: 'p', z: 'q' } })).toEqual({
      ok: true,
      message: { type: 'subscribe', topics: ['a', 'b'], peers: new Map([['a', 'p']]) },
    })
    expect(parse({ type: 'subscribe', topics: [] })).toMatchObject({ ok: true })
    expect(parse({ type: 'unsubscribe', topics: ['a'] })).toMatchObject({ ok: true })
    expect(parse({ type: 'publish', topic: 'a', data: null, to: 'p' })).toEqual({
      ok: true,
      message: { type: 'publish', topic: 'a', data: null, to: 'p', sample: null },
    })
    expect(parse({ type: 'publish', topic: 'a', data: 'x', sample: 20 })).toEqual({
      ok: true,
      message: { type: 'publish', topic: 'a', data: 'x', to: null, sample: 20 },
    })
    for (const bad of [true, 0, -1, 1.5, '3', 2 ** 60]) {
      expect(parse({ type: 'publish', topic: 'a', data: 'x', sample: bad }), String(bad)).toMatchObject({ ok: false, code: 1007 })
    }
    expect(parse({ type: 'ping', extra: 1 })).toEqual({ ok: true, message: { type: 'ping' } })
  })

  it('ignores inherited keys when reading peers', () => {
    const r = parse({ type: 'subscribe', topics: ['toString', 'valueOf'], peers: {} })
    expect(r).toMatchObject({ ok: true })
    if (r.ok && r.message.type === 'subscribe') expect(r.message.peers.size).toBe(0)
  })

  it.each([
    ['{', CloseCode.invalidPayload],
    ['true', CloseCode.invalidPayload],
    ['{"type":"publish","topic":"a"}', CloseCode.invalidPayload],
    ['{"type":"publish","topic":"a","data":1,"to":null}', CloseCode.invalidPayload],
    ['{"type":"subscribe","topics":["123456789"]}', CloseCode.fieldLength],
    ['{"type":"subscribe","topics":["a"],"peers":{"b":"12345"}}', CloseCode.fieldLength],
    ['{"type":"publish","topic":"a","data":1,"to":""}', CloseCode.fieldLength],
    ['{"type":"hello"}', CloseCode.unknownType],
  ])('refuses %s with %i and a reason that does not echo input', (text, code) => {
    const r = parseClientMessage(text, limits)
    expect(r.ok).toBe(false)
    if (!r.ok) {
      expect(r.code).toBe(code)
      expect(Buffer.byteLength(r.reason)).toBeLessThanOrEqual(123) // close reason limit
      expect(r.reason).not.toMatch(/123456789|12345|hello/)
    }
  })
})

describe('resolveLimits', () => {
  it('fills defaults and applies overrides', () => {
    expect(resolveLimits()).toEqual(DEFAULT_LIMITS)
    expect(resolveLimits({ maxTopicsPerConnection: 3 }).maxTopicsPerConnection).toBe(3)
  })

  it('rejects values that cannot work', () => {
    expect(() => resolveLimits({ maxConnections: 0 })).toThrow(RangeError)
    expect(() => resolveLimits({ pingIntervalMs: Number.NaN })).toThrow(RangeError)
    expect(() => resolveLimits({ maxPayloadBytes: 4 * 1024 * 1024 })).toThrow(/byteBurst/)
  })
})

describe('addressSource', () => {
  const of = (remoteAddress: string): string => addressSource({ socket: { remoteAddress } } as IncomingMessage)
  it('is the IPv4 address, or the IPv6 /64 however the address is written', () => {
    expect(of('203.0.113.7')).toBe('203.0.113.7')
    expect(of('::ffff:203.0.113.7')).toBe('203.0.113.7')
    expect(of('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64')
    expect(of('2001:0db8:0001:0002:bbbb:0:0:9')).toBe('2001:db8:1:2::/64')
    // '::' standing for groups inside the /64: these two are different networks.
    expect(of('2001::4:0:0:0:1')).toBe('2001:0:0:4::/64')
    expect(of('2001::1')).toBe('2001:0:0:0::/64')
    expect(of('::1')).toBe('0:0:0:0::/64')
    expect(of('fe80::1%eth0')).toBe('fe80:0:0:0::/64')
  })
})
