// A crowd in one room against the real signaling server (its own process, 127.0.0.1): N phones join
// at once, each announcing once, while idle phones ping; then steady broadcasts. Phones are plain
// WebSocket clients speaking the protocol the patched y-webrtc speaks: an announcement asks for a
// sample of the room (peer sampling); the baseline asks for none, as before, and reaches everyone.
import { spawn, type ChildProcess } from 'node:child_process'
import path from 'node:path'
import { WebSocket } from 'ws'
import { quantile, type Row } from './table'

const ROOM = 'crowd-room-'.padEnd(43, 'x')
const IDLE_ROOM = 'idle-room-'.padEnd(43, 'y')
const SAMPLE = 12 // what a phone asks for: twice y-webrtc's target degree (6)
/** How long the steady phase waits for deliveries (shed broadcasts never come: these raw clients do not send again). */
const WAIT_MS = 20_000

/** The signaling server in a process of its own (with BLOSSOM_REDIS_URL in `env`, one instance of a cluster). */
export async function startServer(env: Record<string, string> = {}): Promise<{ url: string; child: ChildProcess }> {
  // Node itself with tsx's loader (not tsx's CLI, whose own child would outlive a kill).
  const child = spawn(process.execPath, ['--import', 'tsx', path.resolve('bench/crowd-server.ts')], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env } })
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('server did not start')), 20_000)
    child.stdout!.on('data', (chunk: Buffer) => {
      const m = /port (\d+)/.exec(chunk.toString())
      if (m) {
        clearTimeout(timer)
        resolve(Number(m[1]))
      }
    })
  })
  return { url: `ws://127.0.0.1:${port}/signal`, child }
}

export interface Phone {
  socket: WebSocket
  received: number
  latencies: number[]
  onPong: (() => void) | undefined
}

export function open(url: string): Promise<Phone> {
  return new Promise((resolve, reject) => {
    const phone: Phone = { socket: new WebSocket(url), received: 0, latencies: [], onPong: undefined }
    phone.socket.on('message', (data) => {
      const m = JSON.parse(data.toString()) as { type: string; data?: { at?: number } }
      if (m.type === 'pong') phone.onPong?.()
      else if (m.type === 'publish') {
        phone.received++
        if (typeof m.data?.at === 'number') phone.latencies.push(performance.now() - m.data.at)
      }
    })
    phone.socket.once('open', () => resolve(phone))
    phone.socket.once('error', reject)
  })
}

/** Sends a ping and resolves when its pong arrives: everything sent before has been handled. */
export function roundTrip(phone: Phone): Promise<number> {
  const started = performance.now()
  return new Promise((resolve) => {
    phone.onPong = () => {
      phone.onPong = undefined
      resolve(performance.now() - started)
    }
    phone.socket.send(JSON.stringify({ type: 'ping' }))
  })
}


async function crowd(n: number, sampled: boolean): Promise<{ joinP99: number; pingMax: number; deliveries: number; delivered: number; broadcastP99: number }> {
  const { url, child } = await startServer()
  try {
    // Idle phones in a room of their own, pinging every 100 ms through the storm.
    const idle = await Promise.all(Array.from({ length: 10 }, () => open(url)))
    for (const p of idle) p.socket.send(JSON.stringify({ type: 'subscribe', topics: [IDLE_ROOM] }))
    const pings: number[] = []
    let storming = true
    const pinging = Promise.all(
      idle.map(async (p) => {
        while (storming) {
          pings.push(await roundTrip(p))
          await new Promise((r) => setTimeout(r, 100))
        }
      }),
    )
    // The join storm: every phone connects, subscribes and announces once, all at once.
    const joins: number[] = []
    const phones = await Promise.all(
      Array.from({ length: n }, async () => {
        const started = performance.now()
        const phone = await open(url)
        phone.socket.send(JSON.stringify({ type: 'subscribe', topics: [ROOM] }))
        phone.socket.send(JSON.stringify({ type: 'publish', topic: ROOM, data: 'announce', ...(sampled ? { sample: SAMPLE } : {}) }))
        await roundTrip(phone)
        joins.push(performance.now() - started)
        return phone
      }),
    )
    await Promise.all(phones.slice(0, 50).map(roundTrip)) // let the last deliveries land
    storming = false
    await pinging
    const deliveries = phones.reduce((sum, p) => sum + p.received, 0)
    // Steady broadcasts: 10 phones send one message each every second, for 10 s, to the whole room
    // (10 messages a second reaching n - 1 phones each: 20,000 deliveries a second at 2,000 phones).
    for (const p of phones) p.received = 0
    const senders = phones.slice(0, 10)
    for (let round = 0; round < 10; round++) {
      for (const s of senders) {
        s.socket.send(JSON.stringify({ type: 'publish', topic: ROOM, data: { at: performance.now() } }))
        await new Promise((r) => setTimeout(r, 100))
      }
    }
    const expected = 100 * (n - 1)
    const deadline = Date.now() + WAIT_MS
    while (phones.reduce((sum, p) => sum + p.received, 0) < expected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
    const received = phones.reduce((sum, p) => sum + p.received, 0)
    const latencies = phones.flatMap((p) => p.latencies)
    for (const p of [...phones, ...idle]) p.socket.terminate()
    return { joinP99: quantile(joins, 0.99), pingMax: Math.max(...pings), deliveries, delivered: received / expected, broadcastP99: quantile(latencies, 0.99) }
  } finally {
    child.kill('SIGKILL')
  }
}

/**
 * Overload: n phones in rooms of 20, each broadcasting 5 messages a second for a few seconds (far
 * past what one server thread delivers). What must hold: pings and new connections are still
 * answered quickly, and the server sheds broadcasts (telling their senders) instead of queueing them.
 */
async function overload(n: number, seconds: number): Promise<{ pingP99: number; connectP99: number; shed: number; sent: number; delivered: number }> {
  const { url, child } = await startServer()
  try {
    const phones = await Promise.all(Array.from({ length: n }, () => open(url)))
    let shed = 0
    phones.forEach((p, i) => {
      p.socket.send(JSON.stringify({ type: 'subscribe', topics: [`room-${Math.floor(i / 20)}`.padEnd(43, 'z')] }))
      p.socket.on('message', (data) => void (data.toString().startsWith('{"type":"shed"') && shed++))
    })
    await Promise.all(phones.slice(0, 20).map(roundTrip))
    const idle = await Promise.all(Array.from({ length: 10 }, () => open(url)))
    const pings: number[] = []
    const connects: number[] = []
    let sent = 0
    const end = performance.now() + seconds * 1000
    const sending = (async () => {
      while (performance.now() < end) {
        // 5 a second from every phone, spread over each 200 ms.
        for (let i = 0; i < n; i++) {
          const p = phones[i]!
          if (p.socket.bufferedAmount < 64 * 1024) {
            p.socket.send(JSON.stringify({ type: 'publish', topic: `room-${Math.floor(i / 20)}`.padEnd(43, 'z'), data: 'x'.repeat(200) }))
            sent++
          }
        }
        await new Promise((r) => setTimeout(r, 200))
      }
    })()
    const probing = (async () => {
      while (performance.now() < end) {
        pings.push(...(await Promise.all(idle.map(roundTrip))))
        const started = performance.now()
        const fresh = await open(url)
        connects.push(performance.now() - started)
        fresh.socket.terminate()
        await new Promise((r) => setTimeout(r, 100))
      }
    })()
    await Promise.all([sending, probing])
    const delivered = phones.reduce((sum, p) => sum + p.received, 0)
    for (const p of [...phones, ...idle]) p.socket.terminate()
    return { pingP99: quantile(pings, 0.99), connectP99: quantile(connects, 0.99), shed, sent, delivered }
  } finally {
    child.kill('SIGKILL')
  }
}

export async function crowdRows(quick: boolean): Promise<Row[]> {
  const n = quick ? 500 : 2000
  const sampled = await crowd(n, true)
  console.error('(crowd: sampled run done)')
  const before = await crowd(n, false)
  console.error('(crowd: baseline run done)')
  const seconds = quick ? 3 : 5
  const over = { n, seconds, ...(await overload(n, seconds)) }
  return [
    { figure: `join storm, ${n} phones in one room: deliveries (announcements reaching phones)`, value: sampled.deliveries, unit: '', baseline: before.deliveries, baselineName: 'announce to all' },
    { figure: 'join latency p99 (connect, subscribe, announce, server round trip)', value: sampled.joinP99, unit: 'ms', baseline: before.joinP99, baselineName: 'announce to all' },
    { figure: 'idle phones in another room: slowest ping during the storm', value: sampled.pingMax, unit: 'ms', baseline: before.pingMax, baselineName: 'announce to all' },
    { figure: `steady broadcasts after the storm, 10 a second: delivered (100 messages to ${n - 1} phones each)`, value: sampled.delivered * 100, unit: '%', baseline: before.delivered * 100, baselineName: 'announce to all' },
    { figure: 'steady broadcasts: latency p99', value: sampled.broadcastP99, unit: 'ms', baseline: before.broadcastP99, baselineName: 'announce to all' },
    { figure: `overload, ${over.n} phones in rooms of 20 each broadcasting 5 a second (${Math.round(over.sent / over.seconds)} a second sent): ping p99`, value: over.pingP99, unit: 'ms' },
    { figure: 'overload: a new connection, p99', value: over.connectP99, unit: 'ms' },
    { figure: 'overload: broadcasts shed (their senders told)', value: (over.shed / Math.max(1, over.sent)) * 100, unit: '%' },
    { figure: 'overload: deliveries reaching phones', value: over.delivered, unit: '' },
  ]
}
