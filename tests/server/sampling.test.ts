// Peer sampling: an announcement (a publish marked `sample`) meets a bounded random sample of the
// room, so a crowd's join storm costs O(k) per join, not O(n). Everything else still reaches everyone,
// and no relayed message says how many phones are in the room.
import { afterEach, describe, expect, it } from 'vitest'
import { TopicRegistry } from '../../src/server/topics'
import { Client, startSignaling, waitFor, type Harness } from './helpers'

let harness: Harness | undefined
const clients: Client[] = []
afterEach(async () => {
  for (const c of clients.splice(0)) c.socket.terminate()
  await harness?.stop()
  harness = undefined
})

describe('peer sampling', () => {
  it('an announcement with sample: 24 reaches 24 random phones of a room of 100; data still reaches all 99', async () => {
    harness = await startSignaling({ maxSample: 32 })
    const room = 'r'.repeat(43)
    const phones = await Promise.all(Array.from({ length: 100 }, () => Client.open(harness!.url)))
    clients.push(...phones)
    await Promise.all(phones.map((p) => p.subscribe([room])))
    const [newcomer, ...others] = phones as [Client, ...Client[]]

    const reached = async (): Promise<Client[]> => {
      await newcomer.sync()
      for (const p of others) await p.sync()
      return others.filter((p) => p.pending.some((m) => m['type'] === 'publish'))
    }
    newcomer.send({ type: 'publish', topic: room, data: 'announce', sample: 24 })
    const sampled = await reached()
    expect(sampled).toHaveLength(24)
    for (const p of sampled) {
      // Exactly what was sent, the size of the sample it came in, and no count of the room.
      expect(await p.take((m) => m['type'] === 'publish')).toEqual({ type: 'publish', topic: room, data: 'announce', sampled: 24 })
    }
    // A second announcement draws another sample (random, not the same 24 every time).
    newcomer.send({ type: 'publish', topic: room, data: 'announce again', sample: 24 })
    const second = await reached()
    expect(second).toHaveLength(24)
    for (const p of second) await p.take((m) => m['type'] === 'publish')
    expect(second.filter((p) => sampled.includes(p)).length).toBeLessThan(24)

    // The server caps what a sender may ask for.
    newcomer.send({ type: 'publish', topic: room, data: 'greedy', sample: 1000 })
    const capped = await reached()
    expect(capped).toHaveLength(32)
    for (const p of capped) await p.take((m) => m['type'] === 'publish')

    newcomer.send({ type: 'publish', topic: room, data: 'a frame for everyone' })
    await waitFor(() => others.every((p) => p.pending.some((m) => m['data'] === 'a frame for everyone')), 'everyone got the frame')
    expect(others[0]!.pending.find((m) => m['data'] === 'a frame for everyone')).toEqual({ type: 'publish', topic: room, data: 'a frame for everyone' })
  })

  it('samples stay correct as phones leave (the registry swaps the last one into the gap)', () => {
    const registry = new TopicRegistry<number>()
    for (let i = 0; i < 50; i++) registry.subscribe(i, 't', null)
    for (let i = 0; i < 50; i += 3) registry.unsubscribe(i, 't')
    const left = new Set(Array.from({ length: 50 }, (_, i) => i).filter((i) => i % 3 !== 0))
    for (let round = 0; round < 50; round++) {
      const sample = registry.sample('t', 10, 1)
      expect(new Set(sample).size).toBe(10)
      for (const c of sample) {
        expect(left.has(c)).toBe(true)
        expect(c).not.toBe(1)
      }
    }
    expect(registry.sample('t', 100, 1).sort((a, b) => a - b)).toEqual([...left].filter((c) => c !== 1).sort((a, b) => a - b))
    expect(registry.sample('nobody', 5, 1)).toEqual([])
  })
})
