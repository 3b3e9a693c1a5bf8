// Overload: one thread serves every socket. When it lags, the server sheds broadcasts to whole rooms
// (the costliest messages) and tells their senders, who send again later; pings, joins, addressed
// signals and sampled announcements go on. Shown with the server's own lag measure (the test blocks
// its event loop) and with an injected "overloaded" switch, and end to end with sealed topics.
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { WebsocketClient } from 'lib0/websocket'
import { randomBytes, utf8, type RoomName, type SecretKey, toBase64Url } from '../../src/crypto'
import { SealedTopic, type SignalingSocket } from '../../src/transport'
import { Client, startSignaling, waitFor, type Harness } from './helpers'

beforeAll(() => {
  ;(globalThis as { WebSocket?: unknown }).WebSocket ??= WebSocket
})

let harness: Harness | undefined
const clients: Client[] = []
const sockets: WebsocketClient[] = []
afterEach(async () => {
  for (const c of clients.splice(0)) c.socket.terminate()
  for (const s of sockets.splice(0)) s.destroy()
  await harness?.stop()
  harness = undefined
})

async function room(n: number): Promise<Client[]> {
  const phones = await Promise.all(Array.from({ length: n }, () => Client.open(harness!.url, {})))
  clients.push(...phones)
  await Promise.all(phones.map((p, i) => p.subscribe(['room'], { room: `p${i}` })))
  return phones
}

describe('overload', () => {
  it('sheds broadcasts and tells the sender; pings, addressed signals and sampled announcements go on', async () => {
    let busy = true
    harness = await startSignaling({ overloaded: () => busy })
    const [a, b, c] = (await room(3)) as [Client, Client, Client]
    a.send({ type: 'publish', topic: 'room', data: 'frame' })
    expect(await a.take((m) => m['type'] === 'shed')).toEqual({ type: 'shed', topic: 'room' })
    a.send({ type: 'publish', topic: 'room', data: 'signal', to: 'p1' })
    a.send({ type: 'publish', topic: 'room', data: 'announce', sample: 4 })
    await a.sync() // pings are answered
    await waitFor(() => b.pending.length === 2 && c.pending.length === 1, 'addressed and sampled deliveries')
    expect(b.pending.map((m) => m['data'])).toEqual(['signal', 'announce'])
    expect(c.pending.map((m) => m['data'])).toEqual(['announce'])
    expect(harness.signaling.stats().dropped.overload).toBe(1)
    busy = false
    a.send({ type: 'publish', topic: 'room', data: 'frame again' })
    await waitFor(() => c.pending.some((m) => m['data'] === 'frame again'), 'the broadcast once the load is gone')
  })

  it('measures its own lag: a broadcast handled while the event loop is far behind is shed', async () => {
    harness = await startSignaling({ overloadLagMs: 50 })
    const [a, b] = (await room(2)) as [Client, Client]
    a.send({ type: 'publish', topic: 'room', data: 'during' })
    const until = performance.now() + 300
    while (performance.now() < until) {
      // the server's thread (this one) is busy: the publish waits in the kernel meanwhile
    }
    expect(await a.take((m) => m['type'] === 'shed')).toEqual({ type: 'shed', topic: 'room' })
    await new Promise((r) => setTimeout(r, 100)) // the loop keeps up again
    a.send({ type: 'publish', topic: 'room', data: 'after' })
    await waitFor(() => b.pending.some((m) => m['data'] === 'after'), 'delivered once the loop keeps up')
    expect(b.pending.some((m) => m['data'] === 'during')).toBe(false)
  })

  it('a sealed message the server shed arrives anyway: its sender sends it again', async () => {
    let busy = true
    harness = await startSignaling({ overloaded: () => busy })
    const key = randomBytes(32) as SecretKey
    const topic = toBase64Url(randomBytes(32)) as RoomName
    const got: string[] = []
    const phones = [0, 1].map((i) => {
      const socket = new WebsocketClient(harness!.url)
      sockets.push(socket)
      const sealed = new SealedTopic(topic, key, 1 << 16, (m) => i === 1 && got.push(new TextDecoder().decode(m)))
      sealed.attach(socket as unknown as SignalingSocket)
      return { socket, sealed }
    })
    await waitFor(() => phones.every((p) => p.socket.connected), 'connected')
    await new Promise((r) => setTimeout(r, 200)) // subscribed
    phones[0]!.sealed.send(utf8('released: the fountain'))
    await new Promise((r) => setTimeout(r, 300))
    expect(got).toEqual([])
    expect(harness.signaling.stats().dropped.overload).toBeGreaterThan(0)
    busy = false
    await waitFor(() => got.includes('released: the fountain'), 'sent again after the shed', 10_000)
  })
})
