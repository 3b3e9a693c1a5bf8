// Go time by a clock the core can trust. A phone's own clock can be pushed forward (a fake cell
// tower sets it through NITZ); a core phone that released on it would reveal the location early to
// everyone. So each core phone compares its clock with references: the signaling server (its pong
// carries the server's time) and the other core phones (they send their time on a sealed topic only
// core phones hold). It releases on schedule only when its clock agrees with them within
// CLOCK_TOLERANCE_MS; when it does not, it goes by theirs and never earlier than its own; with no
// fresh reference at all it does not release by itself, and says so (a person can still Go now).
import { deriveKey, fromUtf8, randomBytes, toBase64Url, utf8, type SecretKey } from '../crypto'
import { roomKeys, SealedTopic, type SignalingSocket } from '../transport'

export const CLOCK_TOLERANCE_MS = 30_000
/** A reference older than this (by this phone's clock, so a jump of the clock makes it stale) no longer counts. */
const FRESH_MS = 3 * 60_000
/** How often a core phone asks the server for its time and tells the other core phones its own. */
const PROBE_MS = 60_000
const MAX_SOURCES = 32

/** agrees: within tolerance of its references. off: this phone's clock minus theirs. unconfirmed: no fresh reference. */
export type ClockVerdict = { readonly kind: 'agrees' } | { readonly kind: 'off'; readonly byMs: number } | { readonly kind: 'unconfirmed' }

interface Sample {
  /** Reference time minus this phone's time, when the sample arrived. */
  readonly offset: number
  /** This phone's time when it arrived. */
  readonly at: number
}

export class GoClock {
  /** This phone's own clock (tests replace it with one that is off). */
  local: () => number = Date.now
  private readonly samples = new Map<string, Sample>()
  private readonly sockets: SignalingSocket[] = []
  private topic: SealedTopic | undefined
  private timer: ReturnType<typeof setInterval> | undefined
  private readonly me = toBase64Url(randomBytes(12))

  constructor(private readonly changed: () => void = () => {}) {}

  /** Starts probing on these sockets, and sharing this phone's time with the other core phones under the plan key. */
  start(planKey: SecretKey, sockets: readonly SignalingSocket[]): void {
    this.stop()
    const keys = roomKeys(deriveKey(planKey, 'clock-key'))
    this.topic = new SealedTopic(keys.relayTopic, keys.relayKey, 1024, (bytes) => this.onPeer(bytes), () => {}, 256)
    for (const socket of sockets) {
      this.topic.attach(socket)
      socket.on('message', this.onServer)
      socket.on('connect', this.probe)
      this.sockets.push(socket)
    }
    this.probe()
    this.timer = setInterval(this.probe, PROBE_MS)
  }

  stop(): void {
    clearInterval(this.timer)
    this.topic?.close()
    this.topic = undefined
    for (const socket of this.sockets.splice(0)) {
      socket.off('message', this.onServer)
      socket.off('connect', this.probe)
    }
  }

  private readonly probe = (): void => {
    for (const socket of this.sockets) if (socket.connected) socket.send({ type: 'ping' })
    this.topic?.send(utf8(JSON.stringify({ t: 'clock', from: this.me, at: this.local() })))
  }

  private readonly onServer = (message: unknown): void => {
    const m = message as { type?: unknown; now?: unknown } | null
    if (m?.type === 'pong' && typeof m.now === 'number' && Number.isFinite(m.now)) this.record('server', m.now)
  }

  private onPeer(bytes: Uint8Array): void {
    try {
      const m = JSON.parse(fromUtf8(bytes)) as { t?: unknown; from?: unknown; at?: unknown }
      if (m.t === 'clock' && typeof m.from === 'string' && m.from !== this.me && typeof m.at === 'number' && Number.isFinite(m.at)) this.record(`core:${m.from}`, m.at)
    } catch {
      // not a clock message: ignored
    }
  }

  /** Records what a reference says the time is now. */
  record(source: string, referenceNow: number): void {
    const before = this.verdict().kind
    if (!this.samples.has(source) && this.samples.size >= MAX_SOURCES) return
    const at = this.local()
    this.samples.set(source, { offset: referenceNow - at, at })
    if (this.verdict().kind !== before) this.changed()
  }

  private offset(): number | undefined {
    const now = this.local()
    const fresh = [...this.samples.values()].filter((s) => s.at <= now && now - s.at <= FRESH_MS).map((s) => s.offset)
    if (fresh.length === 0) return undefined
    fresh.sort((a, b) => a - b)
    const mid = fresh.length >> 1
    return fresh.length % 2 === 1 ? fresh[mid]! : (fresh[mid - 1]! + fresh[mid]!) / 2
  }

  verdict(): ClockVerdict {
    const offset = this.offset()
    if (offset === undefined) return { kind: 'unconfirmed' }
    return Math.abs(offset) <= CLOCK_TOLERANCE_MS ? { kind: 'agrees' } : { kind: 'off', byMs: -offset }
  }

  /** The time to release by: never later than the references say and never earlier than this phone's clock; undefined when unconfirmed. */
  releaseNow(): number | undefined {
    const offset = this.offset()
    if (offset === undefined) return undefined
    const local = this.local()
    return Math.abs(offset) <= CLOCK_TOLERANCE_MS ? local : Math.min(local, local + offset)
  }
}
