// The server's time, as a marshal's phone last heard it (each pong carries it), carried forward on the
// page's monotonic clock: a jump of the phone's own clock (a fake cell tower sets it through NITZ)
// moves nothing here. One sample per server; the slowest fresh one counts, so an honest server holds
// back one that runs fast. A sample older than FRESH_MS, or one more than a day off, does not count.
import type { SignalingSocket } from '../transport'

const FRESH_MS = 3 * 60_000
const PROBE_MS = 60_000
const ABSURD_MS = 24 * 3600_000

export interface ServerMark {
  readonly at: number
  readonly servers: ReadonlyMap<string, number>
}

export class ServerTime {
  /** By socket URL: what the server said, and the monotonic time it arrived. */
  private readonly heard = new Map<string, { server: number; at: number }>()
  private readonly sockets: SignalingSocket[] = []
  private timer: ReturnType<typeof setInterval> | undefined

  constructor(private readonly changed: () => void = () => {}) {}

  start(sockets: readonly SignalingSocket[]): void {
    this.stop()
    for (const socket of sockets) {
      const onPong = (message: unknown): void => {
        const m = message as { type?: unknown; now?: unknown } | null
        if (m?.type !== 'pong' || typeof m.now !== 'number' || !Number.isFinite(m.now) || Math.abs(m.now - Date.now()) > ABSURD_MS) return
        this.heard.set(socket.url, { server: m.now, at: performance.now() })
        this.changed()
      }
      socket.on('message', onPong)
      socket.on('connect', this.ask)
      this.stops.push(() => {
        socket.off('message', onPong)
        socket.off('connect', this.ask)
      })
      this.sockets.push(socket)
    }
    this.ask()
    this.timer = setInterval(this.ask, PROBE_MS)
  }

  private stops: (() => void)[] = []

  stop(): void {
    clearInterval(this.timer)
    for (const stop of this.stops.splice(0)) stop()
    this.sockets.length = 0
  }

  /** What the slowest server heard recently says the time is now; undefined if none was heard lately. */
  now(): number | undefined {
    const t = performance.now()
    let slowest: number | undefined
    for (const h of this.heard.values()) {
      if (t - h.at > FRESH_MS || t < h.at) continue
      const now = h.server + (t - h.at)
      if (slowest === undefined || now < slowest) slowest = now
    }
    return slowest
  }

  /** Each server's time now, as last heard and carried forward (however old; 0 if never heard): to tell later pongs by. */
  mark(): ServerMark {
    const at = performance.now()
    const servers = new Map<string, number>()
    for (const s of this.sockets) {
      const h = this.heard.get(s.url)
      servers.set(s.url, h ? h.server + (at - h.at) : 0)
    }
    return { at, servers }
  }

  /**
   * Whether a server answered after the mark (a pong that arrived since, stamped at or past its time
   * then): whatever it relayed on that socket before, this phone has received (one connection keeps
   * its order). Its clock is compared only with itself.
   */
  answeredSince(mark: ServerMark): boolean {
    for (const [url, server] of mark.servers) {
      const h = this.heard.get(url)
      if (h && h.at > mark.at && h.server >= server) return true
    }
    return false
  }

  /** Asks every connected server for its time now (a pong answers). */
  readonly ask = (): void => {
    for (const socket of this.sockets) if (socket.connected) socket.send({ type: 'ping' })
  }
}
