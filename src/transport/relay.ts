// Frames relayed through the signaling server beside the WebRTC mesh: a frame this
// phone writes reaches every phone subscribed to the room in one server hop, even
// where WebRTC cannot connect. The server sees only sealed pieces of equal shape.
//
// One relay message = base64url(seal(relay key, id (16) | index (u16) | count (u16) | piece)),
// published on the room's relay topic; the relay topic is the associated data.
import { concat, fromBase64Url, open, randomBytes, seal, toBase64Url, utf8, CryptoError } from '../crypto'
import { MAX_FRAME_BYTES, type SecureDoc, type SignedFrame } from '../doc'
import type { RoomKeys } from './rooms'
import type { SignalingSocket } from './signaling'

/** A piece stays well under the server's 256 KiB message limit once sealed and base64-encoded. */
export const RELAY_PIECE_BYTES = 96 * 1024
const HEADER_BYTES = 20
const MAX_PARTIAL_FRAMES = 16

export interface RelayStats {
  sent: number
  received: number
  refused: number
}

interface Partial {
  readonly count: number
  readonly pieces: (Uint8Array | undefined)[]
  received: number
}

export function relayMessages(frame: Uint8Array, keys: RoomKeys): string[] {
  const id = randomBytes(16)
  const count = Math.max(1, Math.ceil(frame.length / RELAY_PIECE_BYTES))
  const out: string[] = []
  for (let i = 0; i < count; i++) {
    const header = new Uint8Array(HEADER_BYTES)
    header.set(id)
    new DataView(header.buffer).setUint16(16, i)
    new DataView(header.buffer).setUint16(18, count)
    const piece = frame.subarray(i * RELAY_PIECE_BYTES, (i + 1) * RELAY_PIECE_BYTES)
    out.push(toBase64Url(seal(keys.relayKey, concat(header, piece), utf8(keys.relayTopic))))
  }
  return out
}

export class FrameRelay {
  readonly stats: RelayStats = { sent: 0, received: 0, refused: 0 }
  private readonly partial = new Map<string, Partial>()
  private readonly sockets = new Set<SignalingSocket>()
  private readonly onFrame = (frame: SignedFrame, local: boolean): void => {
    if (local) this.publish(frame.bytes)
  }

  constructor(
    private readonly doc: SecureDoc,
    private readonly keys: RoomKeys,
  ) {
    doc.on('frame', this.onFrame)
  }

  /** Starts listening on a signaling socket (y-webrtc's, so each phone keeps one socket per server). */
  attach(socket: SignalingSocket): void {
    if (this.sockets.has(socket)) return
    this.sockets.add(socket)
    socket.on('connect', this.subscribe)
    socket.on('message', this.onMessage)
    if (socket.connected) this.subscribe()
  }

  stop(): void {
    this.doc.off('frame', this.onFrame)
    for (const socket of this.sockets) {
      socket.off('connect', this.subscribe)
      socket.off('message', this.onMessage)
      if (socket.connected) socket.send({ type: 'unsubscribe', topics: [this.keys.relayTopic] })
    }
    this.sockets.clear()
    this.partial.clear()
  }

  private readonly subscribe = (): void => {
    for (const socket of this.sockets) if (socket.connected) socket.send({ type: 'subscribe', topics: [this.keys.relayTopic] })
  }

  private publish(frame: Uint8Array): void {
    const messages = relayMessages(frame, this.keys)
    for (const socket of this.sockets) {
      if (!socket.connected) continue
      for (const data of messages) socket.send({ type: 'publish', topic: this.keys.relayTopic, data })
      this.stats.sent++
    }
  }

  private readonly onMessage = (message: unknown): void => {
    const m = message as { type?: unknown; topic?: unknown; data?: unknown } | null
    if (m?.type !== 'publish' || m.topic !== this.keys.relayTopic || typeof m.data !== 'string') return
    let plain: Uint8Array
    try {
      plain = open(this.keys.relayKey, fromBase64Url(m.data), utf8(this.keys.relayTopic))
    } catch (e) {
      if (!(e instanceof CryptoError)) throw e
      this.stats.refused++
      return
    }
    const frame = this.collect(plain)
    if (frame) {
      this.stats.received++
      this.doc.receive(frame)
    }
  }

  private collect(plain: Uint8Array): Uint8Array | undefined {
    if (plain.length < HEADER_BYTES) return this.refuse()
    const view = new DataView(plain.buffer, plain.byteOffset, plain.length)
    const index = view.getUint16(16)
    const count = view.getUint16(18)
    const piece = plain.subarray(HEADER_BYTES)
    if (count === 0 || index >= count || count * RELAY_PIECE_BYTES > MAX_FRAME_BYTES + RELAY_PIECE_BYTES || piece.length > RELAY_PIECE_BYTES) {
      return this.refuse()
    }
    if (count === 1) return piece
    const id = toBase64Url(plain.subarray(0, 16))
    let entry = this.partial.get(id)
    if (!entry) {
      if (this.partial.size >= MAX_PARTIAL_FRAMES) this.partial.delete(this.partial.keys().next().value!)
      entry = { count, pieces: new Array<Uint8Array | undefined>(count), received: 0 }
      this.partial.set(id, entry)
    }
    if (entry.count !== count || entry.pieces[index]) return this.refuse()
    entry.pieces[index] = piece.slice()
    if (++entry.received < count) return undefined
    this.partial.delete(id)
    return concat(...(entry.pieces as Uint8Array[]))
  }

  private refuse(): undefined {
    this.stats.refused++
    return undefined
  }
}
