// The relay through the signaling server, beside the WebRTC mesh. It carries
// (1) every frame this phone writes, so it reaches every subscribed phone in one
// server hop even where WebRTC cannot connect, and (2) catch-up for a phone that has
// no WebRTC peer: it sends its transport doc's state vector; a few other phones (about
// four, whatever the crowd) answer with what it lacks. No answer cancels another: a
// peer that could silence answers (with an empty or crafted one) could starve a phone
// of the release. The answer carries the answerer's state vector, so the asker can
// send back what that phone lacks.
// Everything is sealed under the room's relay key: the server sees no frame header.
//
// Message = kind (1) | body.  1 frame: frame bytes.  2 hello: id (8) | state vector.
// 3 catch-up: id (8) | u32 length | update | state vector of the sender (may be empty).
import * as Y from 'yjs'
import { concat, randomBytes, readU32, toBase64Url, u32 } from '../crypto'
import { MAX_FRAME_BYTES, type SecureDoc, type SignedFrame } from '../doc'
import type { RoomKeys } from './rooms'
import { SealedTopic, type TopicStats } from './sealed-topic'
import type { SignalingSocket } from './signaling'

const FRAME = 1
const HELLO = 2
const CATCH_UP = 3
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
    this.topic.send(concat(Uint8Array.of(HELLO), id, Y.encodeStateVector(this.doc.transport)), ANSWERERS)
  }

  private onMessage(m: Uint8Array, sampled: number | undefined): void {
    const body = m.subarray(1)
    try {
      if (m[0] === FRAME) this.doc.receive(body, SHARE_AFTER_MS)
      // A hello is answered only in a small sample the server drew: one sent to the whole room, or
      // to a large sample, gets no answer, so nobody can count the room or make it answer at once.
      else if (m[0] === HELLO && body.length >= 8 && sampled !== undefined && sampled <= ANSWERERS) this.scheduleAnswer(body.subarray(0, 8), body.subarray(8))
      else if (m[0] === CATCH_UP && body.length >= 12) this.onCatchUp(body)
    } catch {
      // A peer's malformed state vector or update: ignored. Frames inside updates are
      // validated one by one by the document anyway.
    }
  }

  private scheduleAnswer(id: Uint8Array, theirs: Uint8Array): void {
    const key = toBase64Url(id)
    if (this.answering.has(key)) return
    Y.decodeStateVector(theirs) // refuse a malformed state vector before keeping it
    const timer = setTimeout(() => {
      this.answering.delete(key)
      const diff = Y.encodeStateAsUpdate(this.doc.transport, theirs)
      if (isEmptyUpdate(diff)) return
      this.topic.send(concat(Uint8Array.of(CATCH_UP), id, u32(diff.length), diff, Y.encodeStateVector(this.doc.transport)))
    }, Math.random() * ANSWER_WINDOW_MS)
    this.answering.set(key, timer)
  }

  private onCatchUp(body: Uint8Array): void {
    const key = toBase64Url(body.subarray(0, 8))
    const length = readU32(body, 8)
    const update = body.subarray(12, 12 + length)
    const theirs = body.subarray(12 + length)
    if (update.length > 0) Y.applyUpdate(this.doc.transport, update, this.origin)
    if (theirs.length > 0 && this.asked.has(key)) {
      // Send back what the answering phone lacks (often nothing).
      const back = Y.encodeStateAsUpdate(this.doc.transport, theirs)
      if (!isEmptyUpdate(back)) this.topic.send(concat(Uint8Array.of(CATCH_UP), randomBytes(8), u32(back.length), back))
    }
  }
}

/** An update with no structs and no deletions (Yjs encodes that as two zero bytes). */
const isEmptyUpdate = (u: Uint8Array): boolean => u.length <= 2 && u.every((b) => b === 0)
