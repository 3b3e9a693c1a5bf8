// Protocol behaviour with well-behaved clients: y-webrtc's stock messages and Blossom's extensions.
import { randomUUID } from 'node:crypto'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { WebsocketClient } from 'lib0/websocket'
import { WebSocket } from 'ws'
import { Client, startSignaling, waitFor, type Harness, type Json } from './helpers'

let h: Harness
const clients: Client[] = []
const open = async (): Promise<Client> => {
  const c = await Client.open(h.url)
  clients.push(c)
  return c
}

beforeEach(async () => {
  h = await startSignaling()
})
afterEach(async () => {
  for (const c of clients.splice(0)) c.close()
  await h.stop()
})

describe('y-webrtc stock protocol', () => {
  it('relays subscribe / publish / ping exactly as the stock client sends them', async () => {
    const a = await open()
    const b = await open()
    const room = 'stock-room'
    const peerA = randomUUID()
    // SignalingConn on connect: subscribe to all rooms, then announce in each.
    a.send({ type: 'subscribe', topics: [room] })
    b.send({ type: 'subscribe', topics: [room] })
    await a.sync()
    await b.sync()
    a.send({ type: 'publish', topic: room, data: { type: 'announce', from: peerA } })
    expect(await b.next()).toEqual({ type: 'publish', topic: room, data: { type: 'announce', from: peerA } })
    // With a y-webrtc password, data is a base64 string of ciphertext; it must pass untouched.
    const sealed = Buffer.from('ciphertext bytes').toString('base64')
    b.send({ type: 'publish', topic: room, data: sealed })
    expect(await a.next()).toEqual({ type: 'publish', topic: room, data: sealed })
    // A stock addressed signal (to inside data) is a broadcast to the server.
    const signal = { to: peerA, from: randomUUID(), type: 'signal', token: 0.5, signal: { type: 'offer', sdp: 'v=0' } }
    b.send({ type: 'publish', topic: room, data: signal })
    expect((await a.next())['data']).toEqual(signal)
    a.send({ type: 'ping' })
    expect(await a.next()).toEqual({ type: 'pong', now: expect.any(Number) })
  })

  it('works with lib0 WebsocketClient, the transport y-webrtc itself uses', async () => {
    const g = globalThis as { WebSocket?: unknown }
    const saved = g.WebSocket
    g.WebSocket = WebSocket // Node 20 has no global WebSocket; lib0 uses the global
    const received: Json[] = []
    const x = new WebsocketClient(h.url)
    const y = new WebsocketClient(h.url)
    try {
      y.on('message', (m: Json) => received.push(m))
      await waitFor(() => x.connected && y.connected, 'lib0 clients to connect')
      x.send({ type: 'subscribe', topics: ['lib0-room'] })
      y.send({ type: 'subscribe', topics: ['lib0-room'] })
      y.send({ type: 'ping' })
      await waitFor(() => received.some((m) => m['type'] === 'pong'), 'pong to lib0 client')
      await waitFor(() => h.signaling.stats().subscriptions === 2, 'both subscriptions')
      x.send({ type: 'publish', topic: 'lib0-room', data: { type: 'announce', from: 'x' } })
      await waitFor(() => received.some((m) => m['type'] === 'publish'), 'publish to lib0 client')
      expect(received.find((m) => m['type'] === 'publish')).toEqual({
        type: 'publish',
        topic: 'lib0-room',
        data: { type: 'announce', from: 'x' },

      })
    } finally {
      x.destroy()
      y.destroy()
      g.WebSocket = saved
    }
  })

  it('does not echo a publish to its sender', async () => {
    const a = await open()
    const b = await open()
    await a.subscribe(['t'])
    await b.subscribe(['t'])
    a.send({ type: 'publish', topic: 't', data: 'from-a' })
    expect((await b.next())['data']).toBe('from-a')
    // b's marker is processed after a's publish; had a's publish come back, it would be first.
    b.send({ type: 'publish', topic: 't', data: 'marker' })
    expect((await a.next())['data']).toBe('marker')
    expect(a.pending).toEqual([])
  })

  it('stops delivering after unsubscribe', async () => {
    const a = await open()
    const b = await open()
    const c = await open()
    for (const x of [a, b, c]) await x.subscribe(['t'])
    await b.subscribe(['other'])
    b.send({ type: 'unsubscribe', topics: ['t'] })
    await b.sync()
    a.send({ type: 'publish', topic: 't', data: 'after-unsubscribe' })
    expect(await c.next()).toMatchObject({ data: 'after-unsubscribe' })
    a.send({ type: 'publish', topic: 'other', data: 'x' }) // a is not in 'other': dropped
    c.send({ type: 'subscribe', topics: ['other'] })
    await c.sync()
    c.send({ type: 'publish', topic: 'other', data: 'marker' })
    expect((await b.next())['data']).toBe('marker')
    expect(b.pending).toEqual([])
    expect(h.signaling.stats().dropped.notSubscribed).toBe(1)
  })

  it('relays a payload just under the size limit', async () => {
    const a = await open()
    const b = await open()
    await a.subscribe(['big'])
    await b.subscribe(['big'])
    const data = 'A'.repeat(h.signaling.limits.maxPayloadBytes - 100)
    a.send({ type: 'publish', topic: 'big', data })
    expect((await b.next())['data']).toBe(data)
  })
})

describe('Blossom extensions', () => {
  it('delivers a publish with `to` only to the connection that claimed that peer id', async () => {
    const [a, b, c] = [await open(), await open(), await open()]
    const [idA, idB, idC] = [randomUUID(), randomUUID(), randomUUID()]
    await a.subscribe(['room'], { room: idA })
    await b.subscribe(['room'], { room: idB })
    await c.subscribe(['room'], { room: idC })
    a.send({ type: 'publish', topic: 'room', to: idB, data: 'for-b-only' })
    expect(await b.next()).toEqual({ type: 'publish', topic: 'room', data: 'for-b-only' })
    a.send({ type: 'publish', topic: 'room', data: 'broadcast-marker' })
    expect((await c.next())['data']).toBe('broadcast-marker')
    expect((await b.next())['data']).toBe('broadcast-marker')
    expect(c.pending).toEqual([])
    expect(b.pending).toEqual([])
  })

  it('drops a unicast to an unknown peer id silently and keeps the sender connected', async () => {
    const a = await open()
    const b = await open()
    await a.subscribe(['room'], { room: 'id-a' })
    await b.subscribe(['room'], { room: 'id-b' })
    a.send({ type: 'publish', topic: 'room', to: 'nobody', data: 'lost' })
    a.send({ type: 'publish', topic: 'room', to: 'id-a', data: 'to-self' })
    await a.sync()
    expect(h.signaling.stats().dropped.noRecipient).toBe(2)
    a.send({ type: 'publish', topic: 'room', data: 'marker' })
    expect((await b.next())['data']).toBe('marker')
    expect(a.pending).toEqual([])
  })

  it('refuses a second claim of a taken peer id and keeps the first', async () => {
    const first = await open()
    const thief = await open()
    const sender = await open()
    await first.subscribe(['room'], { room: 'shared-id' })
    await thief.subscribe(['room'], { room: 'shared-id' })
    await sender.subscribe(['room'])
    expect(h.signaling.stats().claimsRefused).toBe(1)
    sender.send({ type: 'publish', topic: 'room', to: 'shared-id', data: 'for-first' })
    expect((await first.next())['data']).toBe('for-first')
    sender.send({ type: 'publish', topic: 'room', data: 'marker' })
    expect((await thief.next())['data']).toBe('marker')
    expect(thief.pending).toEqual([])
    // The thief is still subscribed (the claim, not the subscription, was refused).
    expect(h.signaling.stats().subscriptions).toBe(3)
    // Once the first holder leaves, the id is free again.
    first.close()
    await first.closed
    await waitFor(() => h.signaling.stats().subscriptions === 2, 'first holder released')
    await thief.subscribe(['room'], { room: 'shared-id' })
    sender.send({ type: 'publish', topic: 'room', to: 'shared-id', data: 'for-new-holder' })
    expect((await thief.next())['data']).toBe('for-new-holder')
  })

  it('scopes peer ids to their topic', async () => {
    const a = await open()
    const b = await open()
    const s = await open()
    await a.subscribe(['one'], { one: 'same-id' })
    await b.subscribe(['two'], { two: 'same-id' })
    await s.subscribe(['one', 'two'])
    expect(h.signaling.stats().claimsRefused).toBe(0)
    s.send({ type: 'publish', topic: 'two', to: 'same-id', data: 'in-two' })
    expect((await b.next())['data']).toBe('in-two')
    s.send({ type: 'publish', topic: 'one', to: 'same-id', data: 'in-one' })
    expect((await a.next())['data']).toBe('in-one')
  })
})

describe('lifecycle', () => {
  it('empties the topics map when everyone leaves, by unsubscribe or by disconnect', async () => {
    const a = await open()
    const b = await open()
    await a.subscribe(['x', 'y', 'z'], { x: 'pa' })
    await b.subscribe(['y', 'w'], { y: 'pb' })
    expect(h.signaling.stats()).toMatchObject({ topics: 4, subscriptions: 5 })
    a.send({ type: 'unsubscribe', topics: ['x', 'y', 'z', 'never-subscribed'] })
    await a.sync()
    expect(h.signaling.stats()).toMatchObject({ topics: 2, subscriptions: 2 })
    b.close()
    await b.closed
    await waitFor(() => h.signaling.stats().topics === 0, 'topics to empty')
    expect(h.signaling.stats().subscriptions).toBe(0)
  })

  it('close() ends every connection with 1001 and refuses new upgrades', async () => {
    const a = await open()
    await a.subscribe(['t'])
    await h.signaling.close()
    expect((await a.closedWithin()).code).toBe(1001)
    expect(h.signaling.stats().connections).toBe(0)
  })
})
