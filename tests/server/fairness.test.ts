// One source against everyone else, written as the attacker runs it: a client on one address opens
// every socket the server allows, or creates topics until the table is full. Phones on other addresses
// must still get in, and a crowd of honest phones behind one address (a carrier's NAT) must too.
// Addresses: the loopback network is 127.0.0.0/8, so clients bind 127.0.0.2, .3, … as their source.
import { createConnection } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { Client, startSignaling, waitFor, type Harness } from './helpers'

let harness: Harness | undefined
const clients: Client[] = []
afterEach(async () => {
  for (const c of clients.splice(0)) c.socket.terminate()
  await harness?.stop()
  harness = undefined
})

const from = (address: string) => ({ localAddress: address })
const topic = (n: number | string): string => `topic-${String(n).padStart(36, '0')}`

/** Opens a client from `address`; resolves to it, or to the HTTP error it got. */
async function connect(address: string): Promise<Client | string> {
  const c = new Client(harness!.url, from(address))
  clients.push(c)
  try {
    await c.opened
    return c
  } catch (error) {
    return (error as Error).message
  }
}

describe('fair share per source', () => {
  it('one address that fills every socket does not keep phones on other addresses out', async () => {
    harness = await startSignaling({ maxConnections: 40 })
    // The attacker takes every socket, each subscribed (as a real client would be).
    const attacker: Client[] = []
    for (let i = 0; i < 40; i++) {
      const c = await connect('127.0.0.2')
      if (typeof c === 'string') throw new Error(`attacker refused early: ${c}`)
      await c.subscribe([topic(`a${i}`)])
      attacker.push(c)
    }
    expect(await connect('127.0.0.2')).toBe('HTTP 503') // full, and it already holds more than its share
    // Phones on two other addresses still get in, up to their fair share, by pushing the attacker back.
    const honest: Client[] = []
    for (const address of ['127.0.0.3', '127.0.0.4']) {
      for (let i = 0; i < 10; i++) {
        const c = await connect(address)
        expect(c, `${address} #${i}`).toBeInstanceOf(Client)
        await (c as Client).subscribe([topic('crowd')])
        honest.push(c as Client)
      }
    }
    await waitFor(() => attacker.filter((c) => c.isOpen).length <= 20, 'the attacker pushed back to its share')
    expect(honest.every((c) => c.isOpen)).toBe(true)
    // The attacker cannot take the sockets back: it is at its share.
    expect(await connect('127.0.0.2')).toBe('HTTP 503')
    expect(harness.signaling.stats().connections).toBeLessThanOrEqual(40)
  })

  it('a malformed handshake from a new address costs nobody a socket', async () => {
    harness = await startSignaling({ maxConnections: 10 })
    const held: Client[] = []
    for (let i = 0; i < 10; i++) held.push((await connect('127.0.0.2')) as Client)
    const { port } = new URL(harness.url)
    for (let i = 0; i < 5; i++) {
      const reply = await new Promise<string>((resolve) => {
        const tcp = createConnection({ host: '127.0.0.1', port: Number(port), localAddress: `127.0.0.${10 + i}` }, () =>
          tcp.write(`GET /signal HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: bad\r\n\r\n`),
        )
        let text = ''
        tcp.on('data', (d) => void (text += d.toString()))
        tcp.on('close', () => resolve(text))
        tcp.on('error', () => resolve(text))
      })
      expect(reply).toMatch(/^HTTP\/1\.1 400/)
    }
    await new Promise((r) => setTimeout(r, 100))
    expect(held.every((c) => c.isOpen)).toBe(true)
  })

  it('a crowd of honest phones behind one address all get in while there is room', async () => {
    harness = await startSignaling({ maxConnections: 1100 })
    const crowd = await Promise.all(Array.from({ length: 1000 }, () => connect('127.0.0.5')))
    expect(crowd.filter((c) => typeof c === 'string')).toEqual([])
    await Promise.all((crowd as Client[]).map((c) => c.subscribe([topic('one-room')])))
    expect(harness.signaling.stats().subscriptions).toBe(1000)
  })

  it('one address cannot fill the topic table: past its share it is refused, others still create topics', async () => {
    harness = await startSignaling({ maxTopics: 256, maxTopicsPerConnection: 64 })
    let refused = 0
    for (let i = 0; i < 8 && refused === 0; i++) {
      const c = await connect('127.0.0.2')
      if (typeof c === 'string') throw new Error(c)
      c.send({ type: 'subscribe', topics: Array.from({ length: 64 }, (_, j) => topic(`${i}-${j}`)) })
      const outcome = await Promise.race([c.closed.then((x) => x.code), c.sync().then(() => 0)])
      if (outcome === 1013) refused++
    }
    expect(refused).toBe(1)
    expect(harness.signaling.stats().topics).toBeLessThanOrEqual(256 / 2)
    const other = await connect('127.0.0.3')
    await (other as Client).subscribe(Array.from({ length: 32 }, (_, j) => topic(`other-${j}`)))
    expect((other as Client).isOpen).toBe(true)
  })
})
