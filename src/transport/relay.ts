// The relay through the signaling server, beside the WebRTC mesh. It carries
// (1) every frame this phone writes, so it reaches every subscribed phone in one
// server hop even where WebRTC cannot connect, and (2) catch-up for a phone that has
// no WebRTC peer: it says how many frames of each author it holds (SecureDoc.heldCounts);
// a few other phones (about four, whatever the crowd) answer with the frames it lacks.
// Frames, not the transport doc's history: once a writer has compacted, a late phone
// gets the snapshot and what came after, not a trace of every frame the snapshot removed.
// No answer cancels another: a peer that could silence answers (with an empty or crafted
// one) could starve a phone of the release. The answer carries the answerer's counts, so
// the asker can send back what that phone lacks.
// Everything is sealed under the room's relay key: the server sees no frame header.
//
// Message = kind (1) | body.  1 frame: frame bytes.
// 4 hello: id (8) | counts.   5 catch-up: id (8) | u32 n | n × (u32 length | frame) | counts of the sender, or nothing.
// counts = u32 n | n × (author (32) | u32 count).
// Phones of the release before answer 2 hello: id (8) | state vector, with 3 catch-up: id (8) | u32
// length | Yjs update | state vector; both are still understood, so a crowd mid-update still meets.
import * as Y from 'yjs'
import { concat, fromBase64Url, randomBytes, readU32, toBase64Url, u32 } from '../crypto'
import { MAX_FRAME_BYTES, type SecureDoc, type SignedFrame } from '../doc'
import type { RoomKeys } from './rooms'
import { SealedTopic, type TopicStats } from './sealed-topic'
import type { SignalingSocket } from './signaling'

const FRAME = 1
const OLD_HELLO = 2
const OLD_CATCH_UP = 3
const HELLO = 4
const CATCH_UP = 5
/** Authors a counts summary may name (a document has a few writers; a hostile one is cut off here). */
const MAX_AUTHORS = 1024
/** Answers to a hello wait a random time up to this, so they do not all arrive at once. */
const ANSWER_WINDOW_MS = 800
/** Each hello goes to this many phones the server draws at random (fewer in a smaller room); each answers. */
const ANSWERERS = 4
/** After (re)subscribing, wait this long for the mesh before asking the relay. */
const CATCH_UP_DELAY_MS = 2000
/** While it still needs catching up, a phone asks again (other phones drawn at random), backing off to this. */
const HELLO_AGAIN_MS = [15_000, 60_000, 300_000] as const
const MAX_RELAY_MESSAGE = 4 * MAX_FRAME_BYTES
/** A relayed frame is applied at once, and enters the transport doc only if the mesh has not brought it by then. */
const SHARE_AFTER_MS = 1500

export class FrameRelay {
  private readonly topic: SealedTopic
  /** Hellos we will answer, by id. */
  private readonly answering = new Map<string, ReturnType<typeof setTimeout>>()
  private helloTimer: ReturnType<typeof setTimeout> | undefined
  /** Our own recent hellos: only the phone that asked sends back what the answerer lacks. */
  private readonly asked = new Set<string>()
  private readonly origin = Symbol('relay')
  private readonly onFrame = (frame: SignedFrame, local: boolean): void => {
    if (local && this.live) this.topic.send(concat(Uint8Array.of(FRAME), frame.bytes))
  }

  constructor(
    private readonly doc: SecureDoc,
    keys: RoomKeys,
    /** True when this phone has no other way to catch up (no WebRTC peer). */
    private readonly needsCatchUp: () => boolean = () => true,
    /** Send each frame this phone writes as it is written; off: only answer catch-up. */
    private readonly live = true,
  ) {
    this.topic = new SealedTopic(keys.relayTopic, keys.relayKey, MAX_RELAY_MESSAGE, (m, sampled) => this.onMessage(m, sampled), () => this.scheduleHello())
    doc.on('frame', this.onFrame)
  }

  get stats(): TopicStats {
    return this.topic.stats
  }

  attach(socket: SignalingSocket): void {
    this.topic.attach(socket)
  }

  stop(): void {
    this.doc.off('frame', this.onFrame)
    clearTimeout(this.helloTimer)
    for (const timer of this.answering.values()) clearTimeout(timer)
    this.answering.clear()
    this.topic.close()
  }

  private scheduleHello(again = 0): void {
    clearTimeout(this.helloTimer)
    const delay = again === 0 ? CATCH_UP_DELAY_MS : HELLO_AGAIN_MS[Math.min(again, HELLO_AGAIN_MS.length) - 1]!
    this.helloTimer = setTimeout(() => {
      if (!this.needsCatchUp()) return
      this.hello()
      // The phones the server drew may have been behind too: ask again, later and later.
      this.scheduleHello(again + 1)
    }, delay)
  }

  private hello(): void {
    const id = randomBytes(8)
    this.asked.add(toBase64Url(id))
    if (this.asked.size > 8) this.asked.delete(this.asked.values().next().value!)
    // To a few phones the server draws at random: each answers, so a hello costs O(1) in a crowd.
    this.topic.send(concat(Uint8Array.of(HELLO), id, encodeCounts(this.doc.heldCounts())), ANSWERERS)
  }

  private onMessage(m: Uint8Array, sampled: number | undefined): void {
    const body = m.subarray(1)
    // A hello is answered only in a small sample the server drew: one sent to the whole room, or
    // to a large sample, gets no answer, so nobody can count the room or make it answer at once.
    const answerable = body.length >= 8 && sampled !== undefined && sampled <= ANSWERERS
    try {
      if (m[0] === FRAME) this.doc.receive(body, SHARE_AFTER_MS)
      else if (m[0] === HELLO && answerable) this.scheduleAnswer(body.subarray(0, 8), decodeCounts(body.subarray(8)))
      else if (m[0] === CATCH_UP && body.length >= 12) this.onCatchUp(body)
      else if (m[0] === OLD_HELLO && answerable) this.scheduleAnswer(body.subarray(0, 8), body.subarray(8))
      else if (m[0] === OLD_CATCH_UP && body.length >= 12) this.onOldCatchUp(body)
    } catch {
      // A peer's malformed counts, state vector or update: ignored. Frames are validated one by
      // one by the document anyway.
    }
  }

  /** `theirs`: the asker's counts, or (a phone of the release before) its transport doc's state vector. */
  private scheduleAnswer(id: Uint8Array, theirs: Map<string, number> | Uint8Array): void {
    const key = toBase64Url(id)
    if (this.answering.has(key)) return
    if (theirs instanceof Uint8Array) Y.decodeStateVector(theirs) // refuse a malformed state vector before keeping it
    const timer = setTimeout(() => {
      this.answering.delete(key)
      if (theirs instanceof Map) return this.sendFrames(id, this.doc.framesPast(theirs), true)
      const diff = Y.encodeStateAsUpdate(this.doc.transport, theirs)
      if (isEmptyUpdate(diff)) return
      this.topic.send(concat(Uint8Array.of(OLD_CATCH_UP), id, u32(diff.length), diff, Y.encodeStateVector(this.doc.transport)))
    }, Math.random() * ANSWER_WINDOW_MS)
    this.answering.set(key, timer)
  }

  /** Frames in as few messages as fit; the last carries this phone's counts when `withCounts`. */
  private sendFrames(id: Uint8Array, frames: readonly SignedFrame[], withCounts: boolean): void {
    if (frames.length === 0) return
    const counts = withCounts ? encodeCounts(this.doc.heldCounts()) : u32(0)
    const room = MAX_RELAY_MESSAGE - 1 - 8 - 4 - counts.length
    let batch: Uint8Array[] = []
    let size = 0
    const flush = (last: boolean): void => {
      this.topic.send(concat(Uint8Array.of(CATCH_UP), id, u32(batch.length), ...batch, last ? counts : u32(0)))
      batch = []
      size = 0
    }
    for (const frame of frames) {
      const entry = concat(u32(frame.bytes.length), frame.bytes)
      if (size + entry.length > room && batch.length > 0) flush(false)
      batch.push(entry)
      size += entry.length
    }
    flush(true)
  }

  private onCatchUp(body: Uint8Array): void {
    const key = toBase64Url(body.subarray(0, 8))
    const n = readU32(body, 8)
    let at = 12
    for (let i = 0; i < n; i++) {
      if (at + 4 > body.length) return
      const length = readU32(body, at)
      if (at + 4 + length > body.length) return
      this.doc.receive(body.subarray(at + 4, at + 4 + length), SHARE_AFTER_MS)
      at += 4 + length
    }
    const theirs = decodeCounts(body.subarray(at))
    // Send back what the answering phone lacks (often nothing), to our own hello only, and once per
    // hello: a room member answering one hello a hundred times must not make this phone send everything a hundred times.
    if (theirs.size > 0 && this.asked.delete(key)) this.sendFrames(randomBytes(8), this.doc.framesPast(theirs), false)
  }

  private onOldCatchUp(body: Uint8Array): void {
    const key = toBase64Url(body.subarray(0, 8))
    const length = readU32(body, 8)
    const update = body.subarray(12, 12 + length)
    const theirs = body.subarray(12 + length)
    if (update.length > 0) Y.applyUpdate(this.doc.transport, update, this.origin)
    if (theirs.length > 0 && this.asked.has(key)) {
      // Send back what the answering phone lacks (often nothing).
      const back = Y.encodeStateAsUpdate(this.doc.transport, theirs)
      if (!isEmptyUpdate(back)) this.topic.send(concat(Uint8Array.of(OLD_CATCH_UP), randomBytes(8), u32(back.length), back))
    }
  }
}

/** An update with no structs and no deletions (Yjs encodes that as two zero bytes). */
const isEmptyUpdate = (u: Uint8Array): boolean => u.length <= 2 && u.every((b) => b === 0)

function encodeCounts(counts: ReadonlyMap<string, number>): Uint8Array {
  const entries = [...counts].slice(0, MAX_AUTHORS)
  return concat(u32(entries.length), ...entries.map(([author, n]) => concat(fromBase64Url(author), u32(n))))
}

/** A counts summary; throws on a malformed one (the message is then ignored). */
export function decodeCounts(bytes: Uint8Array): Map<string, number> {
  const counts = new Map<string, number>()
  if (bytes.length === 0) return counts
  if (bytes.length < 4) throw new RangeError('malformed counts')
  const n = readU32(bytes, 0)
  if (n > MAX_AUTHORS || bytes.length < 4 + n * 36) throw new RangeError('malformed counts')
  for (let i = 0; i < n; i++) {
    const at = 4 + i * 36
    counts.set(toBase64Url(bytes.subarray(at, at + 32)), readU32(bytes, at + 32))
  }
  return counts
}
