// A sealed channel on a signaling topic: messages are padded to a size bucket, sealed
// under a key only the members hold, cut into pieces that fit the server's message
// limit, and put back together on arrival. The server sees opaque pieces whose sizes
// say little (a welcome and a refusal in a lobby look the same).
//
// One piece = base64url(seal(key, id (16) | index (u16) | count (u16) | bytes)), the topic as associated data.
// Padding (ISO/IEC 7816-4): message | 0x80 | 0x00... up to the next power of two, at least `minPadded`.
import { concat, CryptoError, fromBase64Url, open, randomBytes, seal, toBase64Url, utf8, type RoomName, type SecretKey } from '../crypto'
import type { SignalingSocket } from './signaling'

/** A piece stays well under the server's 256 KiB message limit once sealed and base64-encoded. */
export const PIECE_BYTES = 96 * 1024
const HEADER_BYTES = 20
const MAX_PARTIAL_MESSAGES = 16
/** Partial messages older than this are dropped: a sender that never finishes cannot pin memory. */
const PARTIAL_TTL_MS = 120_000
/**
 * The server lets a connection send a burst of 2 MiB, then 512 KiB/s (src/server/limits.ts),
 * and closes one that sends faster. The pieces of a big message (a catch-up of a long plan)
 * go in a burst of this many (about 1 MiB on the wire), then one every PIECE_PACE_MS (about
 * 430 KiB/s): the largest message takes under two minutes, inside PARTIAL_TTL_MS.
 */
const BURST_PIECES = 8
const PIECE_PACE_MS = 300
/** Broadcasts of one piece kept to send again when the server sheds them under load (see onShed). */
const KEPT_FOR_RETRY = 16
const KEPT_BYTES = 256 * 1024
/** Only broadcasts this recent are sent again; each at most once. */
const KEPT_FOR_MS = 10_000
/** After the server said it shed a message, send the kept ones again after this (plus up to as much at random). */
const SHED_RETRY_MS = 1500

/** Pieces waiting for their turn on one socket. */
interface Outbox {
  readonly queue: string[]
  tokens: number
  at: number
  timer: ReturnType<typeof setTimeout> | undefined
}

export interface TopicStats {
  sent: number
  received: number
  refused: number
}

interface Partial {
  readonly count: number
  readonly pieces: (Uint8Array | undefined)[]
  readonly since: number
  received: number
  bytes: number
}

export function pad(message: Uint8Array, minPadded: number): Uint8Array {
  let size = Math.max(minPadded, 64)
  while (size < message.length + 1) size *= 2
  const out = new Uint8Array(size)
  out.set(message)
  out[message.length] = 0x80
  return out
}

export function unpad(padded: Uint8Array): Uint8Array | undefined {
  let end = padded.length - 1
  while (end >= 0 && padded[end] === 0) end--
  return end >= 0 && padded[end] === 0x80 ? padded.subarray(0, end) : undefined
}

export function sealPieces(message: Uint8Array, key: SecretKey, topic: RoomName, minPadded = 256): string[] {
  message = pad(message, minPadded)
  const id = randomBytes(16)
  const count = Math.max(1, Math.ceil(message.length / PIECE_BYTES))
  const out: string[] = []
  for (let i = 0; i < count; i++) {
    const header = new Uint8Array(HEADER_BYTES)
    header.set(id)
    const view = new DataView(header.buffer)
    view.setUint16(16, i)
    view.setUint16(18, count)
    out.push(toBase64Url(seal(key, concat(header, message.subarray(i * PIECE_BYTES, (i + 1) * PIECE_BYTES)), utf8(topic))))
  }
  return out
}

export class SealedTopic {
  readonly stats: TopicStats = { sent: 0, received: 0, refused: 0 }
  private readonly partial = new Map<string, Partial>()
  private partialBytes = 0
  private readonly sockets = new Set<SignalingSocket>()
  private readonly outboxes = new Map<SignalingSocket, Outbox>()
  private closed = false
  /** The last messages of one piece sent, with their sample, to send again if the server shed them. */
  private kept: { message: Uint8Array; at: number }[] = []
  private retryTimer: ReturnType<typeof setTimeout> | undefined

  constructor(
    readonly topic: RoomName,
    private readonly key: SecretKey,
    private readonly maxMessageBytes: number,
    /** `sampled`: the message came in a sample of that many phones the server drew (see send). */
    private readonly onMessage: (message: Uint8Array, sampled?: number) => void,
    /** Called each time a socket (re)subscribes: the moment to catch up on what was missed. */
    private readonly onSubscribed: () => void = () => {},
    /** Messages are padded to at least this many bytes (lobbies use a large floor). */
    private readonly minPadded = 256,
  ) {}

  /** Listens and sends on a signaling socket; re-subscribes whenever it reconnects. */
  attach(socket: SignalingSocket): void {
    if (this.closed || this.sockets.has(socket)) return
    this.sockets.add(socket)
    socket.on('connect', this.subscribe)
    socket.on('message', this.onPublish)
    if (socket.connected) this.subscribe()
  }

  attachedSockets(): SignalingSocket[] {
    return [...this.sockets]
  }

  get online(): boolean {
    return [...this.sockets].some((s) => s.connected)
  }

  /**
   * Sends to every phone subscribed now, or with `sample` to that many of them drawn by the
   * server (a message of one piece only). Returns false if no socket is connected. A message
   * of one piece (a frame, a hello, a lobby message) goes at once, so a release never waits
   * behind a catch-up; the pieces of a bigger one are paced (see BURST_PIECES).
   */
  send(message: Uint8Array, sample?: number, keep = true): boolean {
    const pieces = sealPieces(message, this.key, this.topic, this.minPadded)
    // Only a broadcast can be shed (a sample never is); `keep` false: not worth sending again (a clock time).
    if (keep && sample === undefined && pieces.length === 1) {
      this.kept.push({ message, at: Date.now() })
      let bytes = this.kept.reduce((n, k) => n + k.message.length, 0)
      while (this.kept.length > KEPT_FOR_RETRY || bytes > KEPT_BYTES) bytes -= this.kept.shift()!.message.length
    }
    let sent = false
    // Only a message of one piece may go to a sample: pieces of one message must meet the same phones.
    const to = sample !== undefined && pieces.length === 1 ? { sample } : {}
    for (const socket of this.sockets) {
      if (!socket.connected) continue
      if (pieces.length === 1) socket.send({ type: 'publish', topic: this.topic, data: pieces[0], ...to })
      else this.pace(socket, pieces)
      sent = true
    }
    if (sent) this.stats.sent++
    return sent
  }

  private pace(socket: SignalingSocket, pieces: readonly string[]): void {
    let box = this.outboxes.get(socket)
    if (!box) this.outboxes.set(socket, (box = { queue: [], tokens: BURST_PIECES, at: Date.now(), timer: undefined }))
    box.queue.push(...pieces)
    this.pump(socket, box)
  }

  private pump(socket: SignalingSocket, box: Outbox): void {
    clearTimeout(box.timer)
    box.timer = undefined
    const now = Date.now()
    box.tokens = Math.min(BURST_PIECES, box.tokens + (now - box.at) / PIECE_PACE_MS)
    box.at = now
    // A message cut short by a lost connection is useless; its pieces expire at the receivers.
    if (!socket.connected) box.queue.length = 0
    for (; box.queue.length > 0 && box.tokens >= 1; box.tokens--) socket.send({ type: 'publish', topic: this.topic, data: box.queue.shift() })
    if (box.queue.length > 0) box.timer = setTimeout(() => this.pump(socket, box), PIECE_PACE_MS)
  }

  close(): void {
    this.closed = true
    clearTimeout(this.retryTimer)
    this.kept = []
    for (const box of this.outboxes.values()) clearTimeout(box.timer)
    this.outboxes.clear()
    for (const socket of this.sockets) {
      socket.off('connect', this.subscribe)
      socket.off('message', this.onPublish)
      if (socket.connected) socket.send({ type: 'unsubscribe', topics: [this.topic] })
    }
    this.sockets.clear()
    this.partial.clear()
  }

  private readonly subscribe = (): void => {
    let subscribed = false
    for (const socket of this.sockets) {
      if (!socket.connected) continue
      socket.send({ type: 'subscribe', topics: [this.topic] })
      subscribed = true
    }
    if (subscribed) this.onSubscribed()
  }

  /**
   * The server was overloaded and dropped a broadcast of ours: send the broadcasts of the last few
   * seconds again a little later, once (receivers ignore what they already have). A catch-up of many
   * pieces is not kept: the phones that missed it ask again (the relay's hellos repeat). A server that
   * keeps saying so gets each message at most twice.
   */
  private onShed(): void {
    if (this.retryTimer !== undefined || this.closed) return
    // What was recent when the server said so; each is sent again once, not kept again.
    const since = Date.now() - KEPT_FOR_MS
    const again = this.kept.filter((k) => k.at >= since)
    this.kept = []
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined
      for (const { message } of again) this.send(message, undefined, false)
    }, SHED_RETRY_MS * (1 + Math.random()))
  }

  private readonly onPublish = (raw: unknown): void => {
    const m = raw as { type?: unknown; topic?: unknown; data?: unknown; sampled?: unknown } | null
    if (m?.type === 'shed' && m.topic === this.topic) return this.onShed()
    if (m?.type !== 'publish' || m.topic !== this.topic || typeof m.data !== 'string') return
    const sampled = typeof m.sampled === 'number' ? m.sampled : undefined
    let plain: Uint8Array
    try {
      plain = open(this.key, fromBase64Url(m.data), utf8(this.topic))
    } catch (e) {
      if (!(e instanceof CryptoError)) throw e
      this.stats.refused++
      return
    }
    const padded = this.collect(plain)
    const message = padded && unpad(padded)
    if (padded && !message) this.stats.refused++
    if (message) {
      this.stats.received++
      this.onMessage(message, sampled)
    }
  }

  private collect(plain: Uint8Array): Uint8Array | undefined {
    if (plain.length < HEADER_BYTES) return this.refuse()
    const view = new DataView(plain.buffer, plain.byteOffset, plain.length)
    const index = view.getUint16(16)
    const count = view.getUint16(18)
    const piece = plain.subarray(HEADER_BYTES)
    if (count === 0 || index >= count || (count - 1) * PIECE_BYTES >= this.maxMessageBytes || piece.length > PIECE_BYTES) {
      return this.refuse()
    }
    if (count === 1) return piece
    const now = Date.now()
    for (const [key, p] of this.partial) if (now - p.since > PARTIAL_TTL_MS) this.dropPartial(key)
    const id = toBase64Url(plain.subarray(0, 16))
    let entry = this.partial.get(id)
    if (!entry) {
      entry = { count, pieces: new Array<Uint8Array | undefined>(count), since: now, received: 0, bytes: 0 }
      this.partial.set(id, entry)
    }
    if (entry.count !== count || entry.pieces[index]) return this.refuse()
    // Everything being put back together stays within twice the largest message.
    while (this.partialBytes + piece.length > 2 * this.maxMessageBytes || this.partial.size > MAX_PARTIAL_MESSAGES) {
      const oldest = this.partial.keys().next().value!
      this.dropPartial(oldest)
      if (oldest === id) return this.refuse()
    }
    entry.pieces[index] = piece.slice()
    entry.bytes += piece.length
    this.partialBytes += piece.length
    if (++entry.received < count) return undefined
    this.dropPartial(id)
    return concat(...(entry.pieces as Uint8Array[]))
  }

  private dropPartial(id: string): void {
    const p = this.partial.get(id)
    if (!p) return
    this.partialBytes -= p.bytes
    this.partial.delete(id)
  }

  private refuse(): undefined {
    this.stats.refused++
    return undefined
  }
}
