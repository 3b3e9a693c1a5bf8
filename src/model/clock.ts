// Go time by a clock the core can trust. A phone's own clock can be pushed forward (a fake cell
// tower sets it through NITZ, on every phone in range at once); a core phone that released on it
// would reveal the location early to everyone. So each core phone compares its clock with
// references: the signaling server (its pong carries the server's time) and the other core phones
// (they send their time on a sealed topic only core phones hold, and over the plan room's WebRTC mesh,
// which only core phones can join, so references remain when the server is down). It releases no earlier than the
// slowest fresh reference says (beyond CLOCK_TOLERANCE_MS) and no earlier than its own clock: one
// honest reference is enough to hold back a phone pushed forward, however many others were pushed
// with it. With no fresh reference at all it does not release by itself, and says so (a person can
// still Go now). A reference more than a day off is not a clock, and is ignored.
import { deriveKey, fromUtf8, randomBytes, toBase64Url, utf8, type SecretKey } from '../crypto'
import { roomKeys, SealedTopic, type PeerAwareness, type SignalingSocket } from '../transport'

export const CLOCK_TOLERANCE_MS = 30_000
/** A reference older than this (by this phone's clock, so a jump of the clock makes it stale) no longer counts. */
const FRESH_MS = 3 * 60_000
/** How often a core phone asks the server for its time and tells the other core phones its own. */
const PROBE_MS = 60_000
/** How often a core phone refreshes its time in the mesh's awareness (a peer's sample is at most this stale). */
const MESH_SHARE_MS = 10_000
const MAX_SOURCES = 32
/** A reference further off than this is broken or lying, not a clock: ignored. */
const ABSURD_MS = 24 * 3600_000

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
  private meshTimer: ReturnType<typeof setInterval> | undefined
  private awareness: PeerAwareness | undefined
  /** Who this phone is in the action (its tabs share it, so another tab is never taken for another phone). */
  private me = toBase64Url(randomBytes(12))

  constructor(private readonly changed: () => void = () => {}) {}

  /**
   * Starts probing on these sockets, and sharing this phone's time with the other core phones under
   * the plan key, and in the plan room's mesh (`awareness`) when there is one.
   */
  start(planKey: SecretKey, sockets: readonly SignalingSocket[], awareness?: PeerAwareness, me?: string): void {
    this.stop()
    if (me !== undefined) this.me = me
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
    if (awareness !== undefined) {
      this.awareness = awareness
      awareness.on('change', this.onMesh)
      // Peers already in the mesh (their last time may be up to awareness's 30 s timeout old: within tolerance).
      this.onMesh({ added: [...awareness.getStates().keys()], updated: [] })
      this.shareInMesh()
      this.meshTimer = setInterval(this.shareInMesh, MESH_SHARE_MS)
    }
  }

  private readonly shareInMesh = (): void => {
    this.awareness?.setLocalStateField('clockOf', this.me)
    this.awareness?.setLocalStateField('clock', this.local())
  }

  private readonly onMesh = (changes: { added: number[]; updated: number[] }): void => {
    const awareness = this.awareness
    if (awareness === undefined) return
    for (const id of [...changes.added, ...changes.updated]) {
      const state = awareness.getStates().get(id)
      const at = state?.['clock']
      // Another tab of this phone (y-webrtc joins same-origin tabs too) shares this phone's clock: not a reference.
      if (id === awareness.clientID || state?.['clockOf'] === this.me) continue
      if (typeof at === 'number' && Number.isFinite(at)) this.record(`mesh:${id}`, at)
    }
  }

  stop(): void {
    clearInterval(this.timer)
    clearInterval(this.meshTimer)
    this.awareness?.off('change', this.onMesh)
    this.awareness = undefined
    this.topic?.close()
    this.topic = undefined
    for (const socket of this.sockets.splice(0)) {
      socket.off('message', this.onServer)
      socket.off('connect', this.probe)
    }
  }

  private readonly probe = (): void => {
    for (const socket of this.sockets) if (socket.connected) socket.send({ type: 'ping' })
    // Not kept for a resend after a shed: a resent time would be stale, and the next probe comes anyway.
    this.topic?.send(utf8(JSON.stringify({ t: 'clock', from: this.me, at: this.local() })), undefined, false)
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
    const at = this.local()
    if (!this.samples.has(source) && this.samples.size >= MAX_SOURCES) {
      // Full: stale references go first; the server always keeps a place.
      for (const [key, s] of this.samples) if (!this.isFresh(s, at)) this.samples.delete(key)
      if (this.samples.size >= MAX_SOURCES && source === 'server') this.samples.delete(this.samples.keys().next().value!)
      if (this.samples.size >= MAX_SOURCES) return
    }
    this.samples.set(source, { offset: referenceNow - at, at })
    if (this.verdict().kind !== before) this.changed()
  }

  private isFresh(s: Sample, now: number): boolean {
    return s.at <= now && now - s.at <= FRESH_MS && Math.abs(s.offset) <= ABSURD_MS
  }

  /** Fresh references' offsets (reference minus this phone), or undefined when there is none. */
  private offsets(): number[] | undefined {
    const now = this.local()
    const fresh = [...this.samples.values()].filter((s) => this.isFresh(s, now)).map((s) => s.offset)
    return fresh.length === 0 ? undefined : fresh
  }

  verdict(): ClockVerdict {
    const offsets = this.offsets()
    if (offsets === undefined) return { kind: 'unconfirmed' }
    const ahead = -Math.min(...offsets)
    const behind = Math.max(...offsets)
    if (ahead > CLOCK_TOLERANCE_MS) return { kind: 'off', byMs: ahead }
    if (behind > CLOCK_TOLERANCE_MS) return { kind: 'off', byMs: -behind }
    return { kind: 'agrees' }
  }

  /** The time to release by: what the slowest fresh reference says, never later than this phone's clock; undefined when unconfirmed. */
  releaseNow(): number | undefined {
    const offsets = this.offsets()
    if (offsets === undefined) return undefined
    const local = this.local()
    const slowest = Math.min(...offsets)
    return slowest < -CLOCK_TOLERANCE_MS ? local + slowest : local
  }
}
