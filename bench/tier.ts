// The signaling tier under a steady load, one instance against three sharing topics through Redis
// (src/server/cluster.ts): 2,000 connected phones in rooms of 5, sending 10,000 broadcasts a second
// in all for 60 s. Each phone connects to instance (its number mod the instance count), so every
// room spans every instance and most deliveries cross Redis. The phones are plain WebSocket clients
// in this process; each server instance runs in a process of its own, Redis (Debian's redis-server)
// in another. Figures: what share of the deliveries arrived, their latency, and memory at the peak.
import { readFileSync } from 'node:fs'
import type { ChildProcess } from 'node:child_process'
import { Redis } from 'ioredis'
import { startRedis } from '../tests/support/redis'
import { open, startServer, type Phone } from './crowd'
import { quantile, type Row } from './table'

const ROOM_SIZE = 5
const PER_PHONE_PER_SECOND = 5
/** Deliveries still arriving this long after the last send are counted. */
const DRAIN_MS = 5_000

const room = (i: number): string => `tier-room-${Math.floor(i / ROOM_SIZE)}`.padEnd(43, 't')

/** A process's peak resident memory (VmHWM), in MiB. */
function peakMiB(pid: number | undefined): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kib = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? Number.NaN)
  return kib / 1024
}

interface TierRun {
  sentPerSecond: number
  /** Share of the broadcasts the server shed under overload (their senders told). */
  shed: number
  delivered: number
  p50: number
  p99: number
  serverMiB: number
  redisMiB: number
}

async function run(instances: number, phones: number, seconds: number): Promise<TierRun> {
  const redis = instances > 1 ? await startRedis() : undefined
  const servers: { url: string; child: ChildProcess }[] = []
  const clients: Phone[] = []
  try {
    for (let i = 0; i < instances; i++) servers.push(await startServer(redis ? { BLOSSOM_REDIS_URL: redis.url } : {}))
    for (let i = 0; i < phones; i += 100) {
      clients.push(...(await Promise.all(Array.from({ length: Math.min(100, phones - i) }, (_, j) => open(servers[(i + j) % instances]!.url)))))
    }
    let shed = 0
    clients.forEach((p, i) => {
      p.socket.send(JSON.stringify({ type: 'subscribe', topics: [room(i)] }))
      // The server sheds broadcasts when its event loop lags, and tells the sender (phones send again; these do not).
      p.socket.on('message', (data) => void (data.toString().startsWith('{"type":"shed"') && shed++))
    })
    // Counts cross the cluster twice a second: let every instance learn every room first.
    await new Promise((r) => setTimeout(r, 1_500))
    let sent = 0
    const ticksPerSecond = 10
    const perTick = (phones * PER_PHONE_PER_SECOND) / ticksPerSecond
    const started = performance.now()
    const payload = 'x'.repeat(160) // about a sealed signaling message
    for (let tick = 0; performance.now() - started < seconds * 1000; tick++) {
      for (let k = 0; k < perTick; k++) {
        const i = (tick * perTick + k) % phones
        const p = clients[i]!
        if (p.socket.bufferedAmount > 256 * 1024) continue // this process cannot keep up: do not count it as sent
        p.socket.send(JSON.stringify({ type: 'publish', topic: room(i), data: { at: performance.now(), payload } }))
        sent++
      }
      const next = started + ((tick + 1) * 1000) / ticksPerSecond
      await new Promise((r) => setTimeout(r, Math.max(0, next - performance.now())))
    }
    const elapsed = (performance.now() - started) / 1000
    const expected = sent * (ROOM_SIZE - 1)
    const deadline = Date.now() + DRAIN_MS
    const received = (): number => clients.reduce((n, p) => n + p.received, 0)
    while (received() < expected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100))
    const latencies = clients.flatMap((p) => p.latencies)
    const serverMiB = servers.reduce((n, s) => n + peakMiB(s.child.pid), 0)
    let redisMiB = 0
    if (redis) {
      const info = new Redis(redis.url)
      redisMiB = Number(/used_memory_peak:(\d+)/.exec(await info.info('memory'))?.[1] ?? 0) / 2 ** 20
      info.disconnect()
    }
    return { sentPerSecond: sent / elapsed, shed: shed / Math.max(1, sent), delivered: received() / expected, p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99), serverMiB, redisMiB }
  } finally {
    for (const p of clients) p.socket.terminate()
    for (const s of servers) s.child.kill('SIGKILL')
    await redis?.stop()
  }
}

export async function tierRows(quick: boolean): Promise<Row[]> {
  const phones = quick ? 500 : 2000
  const seconds = quick ? 10 : 60
  const one = await run(1, phones, seconds)
  console.error('(tier: one instance done)')
  const three = await run(3, phones, seconds)
  const label = `${phones} phones in rooms of ${ROOM_SIZE}, ${phones * PER_PHONE_PER_SECOND} broadcasts a second for ${seconds} s`
  const base = { baselineName: 'one instance' }
  return [
    { figure: `${label}: sent (three instances)`, value: three.sentPerSecond, unit: '/s', baseline: one.sentPerSecond, ...base },
    { figure: 'deliveries arrived (each broadcast to the 4 others of its room)', value: three.delivered * 100, unit: '%', baseline: one.delivered * 100, ...base },
    { figure: 'broadcasts shed by a lagging instance (senders told; phones send again, these clients do not)', value: three.shed * 100, unit: '%', baseline: one.shed * 100, ...base },
    { figure: 'delivery latency, median', value: three.p50, unit: 'ms', baseline: one.p50, ...base },
    { figure: 'delivery latency, p99', value: three.p99, unit: 'ms', baseline: one.p99, ...base },
    { figure: 'server memory at its peak, all instances (VmHWM)', value: three.serverMiB, unit: 'MiB', baseline: one.serverMiB, ...base },
    { figure: 'Redis memory at its peak (used_memory_peak)', value: three.redisMiB, unit: 'MiB' },
  ]
}
