// A crowd in one room against the real signaling server (its own process, 127.0.0.1): N phones join
// at once, each announcing once, while idle phones ping; then steady broadcasts. Phones are plain
// WebSocket clients speaking the protocol the patched y-webrtc speaks: an announcement asks for a
// sample of the room (peer sampling); the baseline asks for none, as before, and reaches everyone.
import { spawn, type ChildProcess } from 'node:child_process'
import path from 'node:path'
import { WebSocket } from 'ws'
import type { Row } from './table'

const ROOM = 'crowd-room-'.padEnd(43, 'x')
const IDLE_ROOM = 'idle-room-'.padEnd(43, 'y')
const SAMPLE = 12 // what a phone asks for: twice y-webrtc's target degree (6)
const WAIT_MS = 120_000

async function startServer(): Promise<{ url: string; child: ChildProcess }> {
  const tsx = path.resolve('node_modules/tsx/dist/cli.mjs')
  const child = spawn(process.execPath, [tsx, path.resolve('bench/crowd-server.ts')], { stdio: ['ignore', 'pipe', 'inherit'] })
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

interface Phone {
  socket: WebSocket
  received: number
  latencies: number[]
  onPong: (() => void) | undefined
}

function open(url: string): Promise<Phone> {
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
function roundTrip(phone: Phone): Promise<number> {
  const started = performance.now()
  return new Promise((resolve) => {
    phone.onPong = () => {
      phone.onPong = undefined
      resolve(performance.now() - started)
    }
    phone.socket.send(JSON.stringify({ type: 'ping' }))
  })
}

const quantile = (values: number[], q: number): number => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN
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
    // Steady broadcasts: 10 phones send 10 messages each, 50 ms apart, to the whole room.
    for (const p of phones) p.received = 0
    const senders = phones.slice(0, 10)
    for (let round = 0; round < 10; round++) {
      for (const s of senders) s.socket.send(JSON.stringify({ type: 'publish', topic: ROOM, data: { at: performance.now() } }))
      await new Promise((r) => setTimeout(r, 50))
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

export async function crowdRows(quick: boolean): Promise<Row[]> {
  const n = quick ? 500 : 2000
  const sampled = await crowd(n, true)
  const before = await crowd(n, false)
  return [
    { figure: `join storm, ${n} phones in one room: deliveries (announcements reaching phones)`, value: sampled.deliveries, unit: '', baseline: before.deliveries, baselineName: 'announce to all' },
    { figure: 'join latency p99 (connect, subscribe, announce, server round trip)', value: sampled.joinP99, unit: 'ms', baseline: before.joinP99, baselineName: 'announce to all' },
    { figure: 'idle phones in another room: slowest ping during the storm', value: sampled.pingMax, unit: 'ms', baseline: before.pingMax, baselineName: 'announce to all' },
    { figure: `steady broadcasts after the storm: delivered (100 messages to ${n - 1} phones each)`, value: sampled.delivered * 100, unit: '%', baseline: before.delivered * 100, baselineName: 'announce to all' },
    { figure: 'steady broadcasts: latency p99', value: sampled.broadcastP99, unit: 'ms', baseline: before.broadcastP99, baselineName: 'announce to all' },
  ]
}
