// The relay through the signaling server: frames reach subscribed phones in one
// server hop, large frames arrive whole, garbage is refused, and the server sees
// nothing but sealed pieces.
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import * as Y from 'yjs'
import { WebsocketClient } from 'lib0/websocket'
import { toBase64Url } from '../../src/crypto'
import type { SecureDoc } from '../../src/doc'
import { FrameRelay, PIECE_BYTES as RELAY_PIECE_BYTES, roomKeys, SealedTopic } from '../../src/transport'
import type { SignalingSocket } from '../../src/transport/signaling'
import { startSignaling, waitFor, type Harness } from '../server/helpers'
import { makeCore, replica, text, type } from '../doc/fixtures'
import { Wiretap } from './wiretap'

beforeAll(() => {
  // lib0's client (the one y-webrtc uses) expects a global WebSocket, as in a browser.
  ;(globalThis as { WebSocket?: unknown }).WebSocket ??= WebSocket
})

let harness: Harness | undefined
const sockets: WebsocketClient[] = []
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy()
  await harness?.stop()
})

async function phone(url: string, doc: SecureDoc, key: Parameters<typeof roomKeys>[0]) {
  const socket = new WebsocketClient(url)
  sockets.push(socket)
  const relay = new FrameRelay(doc, roomKeys(key))
  relay.attach(socket as unknown as SignalingSocket)
  await waitFor(() => socket.connected, 'signaling connection')
  return { socket, relay }
}

describe('frame relay through the signaling server', () => {
  it('delivers frames, small and large, and the server sees only sealed pieces', async () => {
    harness = await startSignaling()
    const tap = new Wiretap(harness.http)
    const core = makeCore(2)
    const [a, b] = core.members.map((m) => replica(core, m)) as [SecureDoc, SecureDoc]
    await phone(harness.url, a, core.key)
    const pb = await phone(harness.url, b, core.key)
    await waitFor(() => harness!.signaling.stats().subscriptions === 2, 'both subscribed')

    type(a, 0, 'MARKER meet at the fountain ')
    a.flush()
    await waitFor(() => text(b) === text(a), 'small frame relayed')

    const big = 'MARKER '.repeat(Math.ceil((3 * RELAY_PIECE_BYTES) / 7))
    type(a, 0, big)
    a.flush()
    await waitFor(() => text(b) === text(a), 'large frame relayed whole', 10_000)
    expect(b.stats.accepted).toBe(2)
    expect(pb.relay.stats.refused).toBe(0)

    const wire = tap.all()
    expect(wire.length).toBeGreaterThan(3 * RELAY_PIECE_BYTES)
    const needles = ['MARKER', core.docId, toBase64Url(core.members[0]!.signingPublicKey), roomKeys(core.key).password]
    for (const needle of needles) expect(wire.includes(Buffer.from(needle)), needle).toBe(false)
    // The raw header bytes (document id) are not on the wire either.
    expect(wire.includes(Buffer.from(core.docId, 'base64url'))).toBe(false)
  })

  it('a relayed frame shows at once and enters the transport doc later, only if the mesh did not bring it', async () => {
    harness = await startSignaling()
    const core = makeCore(3)
    const [a, b, c] = core.members.map((m) => replica(core, m)) as [SecureDoc, SecureDoc, SecureDoc]
    for (const doc of [a, b, c]) await phone(harness.url, doc, core.key)
    await waitFor(() => harness!.signaling.stats().subscriptions === 3, 'all subscribed')
    const before = b.frames.size
    type(a, 0, 'go')
    a.flush()
    await waitFor(() => text(b) === 'go' && text(c) === 'go', 'shown at once')
    expect(b.frames.size).toBe(before)
    // c's mesh brings a's own entry before the delay; b has no mesh.
    Y.applyUpdate(c.transport, Y.encodeStateAsUpdate(a.transport))
    await waitFor(() => b.frames.size === before + 1, 'b shares it after the delay', 5_000)
    await new Promise((r) => setTimeout(r, 2_000))
    // An entry of its own in the transport doc would be one more copy flooding the mesh.
    expect(Y.decodeStateVector(Y.encodeStateVector(c.transport)).has(c.transport.clientID)).toBe(false)
    expect(Y.decodeStateVector(Y.encodeStateVector(b.transport)).has(b.transport.clientID)).toBe(true)
  })

  it('refuses garbage and pieces sealed with another key, and keeps working', async () => {
    harness = await startSignaling()
    const core = makeCore(2)
    const [a, b] = core.members.map((m) => replica(core, m)) as [SecureDoc, SecureDoc]
    await phone(harness.url, a, core.key)
    const pb = await phone(harness.url, b, core.key)
    const evil = new WebsocketClient(harness.url)
    sockets.push(evil)
    await waitFor(() => evil.connected, 'attacker connected')
    const topic = roomKeys(core.key).relayTopic
    evil.send({ type: 'subscribe', topics: [topic] })
    for (const data of ['', 'not base64 !!', 'AAAA', toBase64Url(new Uint8Array(500))]) evil.send({ type: 'publish', topic, data })
    // A validly sealed piece for another room's key.
    const other = makeCore(1)
    const foreign = replica(other, other.members[0]!)
    const foreignRelay = new FrameRelay(foreign, { ...roomKeys(other.key), relayTopic: topic })
    foreignRelay.attach(evil as unknown as SignalingSocket)
    type(foreign, 0, 'foreign')
    foreign.flush()
    await waitFor(() => pb.relay.stats.refused >= 5, 'garbage refused')
    type(a, 0, 'still fine')
    a.flush()
    await waitFor(() => text(b) === 'still fine', 'relay keeps working')
    expect(b.stats.accepted).toBe(1)
  })

  it('re-subscribes after the signaling server restarts', async () => {
    harness = await startSignaling()
    const port = new URL(harness.url).port
    const core = makeCore(2)
    const [a, b] = core.members.map((m) => replica(core, m)) as [SecureDoc, SecureDoc]
    const pa = await phone(harness.url, a, core.key)
    const pb = await phone(harness.url, b, core.key)
    await harness.stop()
    await waitFor(() => !pa.socket.connected && !pb.socket.connected, 'disconnected')
    harness = await startSignaling({}, Number(port))
    await waitFor(() => pa.socket.connected && pb.socket.connected, 'reconnected', 10_000)
    await waitFor(() => harness!.signaling.stats().subscriptions === 2, 'subscribed again')
    type(a, 0, 'after restart')
    a.flush()
    await waitFor(() => text(b) === 'after restart', 'relayed after restart')
  })
})

describe('catch-up through the relay', () => {
  it('a phone that was away gets what it missed, and the others get what it wrote meanwhile, with no mesh', async () => {
    harness = await startSignaling()
    const core = makeCore(3)
    const [a, b, c] = core.members.map((m) => replica(core, m)) as [SecureDoc, SecureDoc, SecureDoc]
    const pa = await phone(harness.url, a, core.key)
    await phone(harness.url, b, core.key)
    type(a, 0, 'written before c arrived ')
    a.flush()
    await waitFor(() => text(b) === text(a), 'b has it')
    // c edited offline before it ever connected.
    type(c, 0, 'c offline ')
    c.flush()
    const pc = await phone(harness.url, c, core.key)
    await waitFor(() => text(c) === text(a) && text(b) === text(a), 'all three converge', 10_000)
    expect(text(a)).toContain('c offline')
    expect(text(a)).toContain('written before c arrived')
    expect(pa.relay.stats.refused + pc.relay.stats.refused).toBe(0)
  })

  it('a catch-up bigger than the server lets a socket send at once arrives whole, paced, and no socket is cut off', async () => {
    // Default limits: a burst of 2 MiB, then 512 KiB/s per connection. About 1.9 MB of plan
    // pads to 2 MiB, 2.7 MiB once sealed and base64-encoded: sent at once, the answering
    // phone's connection was closed (4004) and the late phone never caught up.
    harness = await startSignaling()
    const core = makeCore(2)
    const [a, late] = core.members.map((m) => replica(core, m)) as [SecureDoc, SecureDoc]
    const pa = await phone(harness.url, a, core.key)
    let dropped = 0
    pa.socket.on('disconnect', () => dropped++)
    for (let i = 0; i < 3; i++) {
      type(a, 0, `part ${i} `.repeat(70_000))
      a.flush()
    }
    expect(a.transport.getMap('frames').size).toBe(3)
    const pl = await phone(harness.url, late, core.key)
    await waitFor(() => text(late) === text(a), 'late phone caught up the whole plan', 30_000)
    expect(dropped).toBe(0)
    expect(pl.relay.stats.refused).toBe(0)
  }, 40_000)

  it('a room member answering every hello at once with an empty catch-up cannot starve a late phone', async () => {
    harness = await startSignaling()
    const core = makeCore(2)
    const [a, late] = core.members.map((m) => replica(core, m)) as [SecureDoc, SecureDoc]
    await phone(harness.url, a, core.key)
    type(a, 0, 'RELEASE: fountain at 18:00')
    a.flush()
    // The suppressor holds the room key (a participant could) and answers instantly.
    const keys = roomKeys(core.key)
    const suppressor = new WebsocketClient(harness.url)
    sockets.push(suppressor)
    const topic = new SealedTopic(keys.relayTopic, keys.relayKey, 1 << 20, (m) => {
      // An empty answer in the form of the hello: no frames and no counts (or, to a phone of the
      // release before, an empty Yjs update).
      if (m[0] === 4) topic.send(new Uint8Array([5, ...m.subarray(1, 9), 0, 0, 0, 0, 0, 0, 0, 0]))
      if (m[0] === 2) topic.send(new Uint8Array([3, ...m.subarray(1, 9), 0, 0, 0, 2, 0, 0]))
    })
    topic.attach(suppressor as unknown as SignalingSocket)
    await waitFor(() => suppressor.connected, 'suppressor connected')
    await phone(harness.url, late, core.key)
    await waitFor(() => text(late) === 'RELEASE: fountain at 18:00', 'late phone caught up anyway', 10_000)
  })

  it('a hello to the whole room, or to a large sample, gets no answers: nobody counts the room by them', async () => {
    harness = await startSignaling()
    const core = makeCore(6)
    const phones = core.members.map((m) => replica(core, m))
    for (const d of phones) await phone(harness.url, d, core.key)
    type(phones[0]!, 0, 'the plan')
    phones[0]!.flush()
    // A participant's modified app holds the room key and asks everyone to answer, in this
    // release's form of hello (counts) and in the one before (a Yjs state vector).
    const keys = roomKeys(core.key)
    for (const [ask, answer, summary] of [[4, 5, new Uint8Array(4)], [2, 3, Y.encodeStateVector(new Y.Doc())]] as const) {
      const counter = new WebsocketClient(harness.url)
      sockets.push(counter)
      let answers = 0
      const asked = new Set<string>()
      const topic = new SealedTopic(keys.relayTopic, keys.relayKey, 1 << 20, (m) => void (m[0] === answer && asked.has(toBase64Url(m.subarray(1, 9))) && answers++))
      topic.attach(counter as unknown as SignalingSocket)
      await waitFor(() => counter.connected, 'counter connected')
      await new Promise((r) => setTimeout(r, 300))
      const hello = (): Uint8Array => {
        const id = crypto.getRandomValues(new Uint8Array(8))
        asked.add(toBase64Url(id))
        return new Uint8Array([ask, ...id, ...summary])
      }
      topic.send(hello())
      topic.send(hello(), 32)
      await new Promise((r) => setTimeout(r, 1500)) // answers wait up to 800 ms
      expect(answers).toBe(0)
      // Asked as a phone asks (a sample of 4), it is answered, by at most 4.
      topic.send(hello(), 4)
      await waitFor(() => answers > 0, 'a sampled hello is answered', 5_000)
      await new Promise((r) => setTimeout(r, 1200))
      expect(answers).toBeLessThanOrEqual(4)
      topic.close()
    }
  })

  it('after a writer compacts, a late phone catches up with the snapshot, not a trace of every frame it folded', async () => {
    harness = await startSignaling()
    const tap = new Wiretap(harness.http)
    const core = makeCore(2)
    const [a, late] = core.members.map((m) => replica(core, m)) as [SecureDoc, SecureDoc]
    await phone(harness.url, a, core.key)
    for (let i = 0; i < 300; i++) {
      type(a, 1e9, `${i} `)
      a.flush()
    }
    a.compact()
    const plain = Y.encodeStateAsUpdate(a.plain).length
    // The frames went out live as they were written: let them all reach the server first.
    let seen = -1
    while (seen !== tap.all().length) {
      seen = tap.all().length
      await new Promise((r) => setTimeout(r, 300))
    }
    const before = tap.all().length
    await phone(harness.url, late, core.key)
    await waitFor(() => text(late) === text(a), 'the late phone caught up', 10_000)
    await new Promise((r) => setTimeout(r, 1_000)) // any straggling answers count too
    // The transport doc's own history holds a trace of all 300 frames (about 11 KB here); the
    // catch-up carries the snapshot, padded, sealed and base64-encoded, from each answerer.
    const history = Y.encodeStateAsUpdate(a.transport).length
    const caughtUp = tap.all().length - before
    expect(history).toBeGreaterThan(8 * plain)
    expect(caughtUp).toBeLessThan(4 * plain + 2_048)
    expect(late.stats.accepted).toBeLessThanOrEqual(2)
  })

  it('malformed counts and catch-ups from a room member are ignored, and the relay keeps working', async () => {
    harness = await startSignaling()
    const core = makeCore(2)
    const [a, b] = core.members.map((m) => replica(core, m)) as [SecureDoc, SecureDoc]
    await phone(harness.url, a, core.key)
    const pb = await phone(harness.url, b, core.key)
    const keys = roomKeys(core.key)
    const rogue = new WebsocketClient(harness.url)
    sockets.push(rogue)
    const topic = new SealedTopic(keys.relayTopic, keys.relayKey, 1 << 20, () => {})
    topic.attach(rogue as unknown as SignalingSocket)
    await waitFor(() => rogue.connected, 'rogue connected')
    await new Promise((r) => setTimeout(r, 300))
    const id = [1, 2, 3, 4, 5, 6, 7, 8]
    const junk = [
      [4, ...id, 255, 255, 255, 255], // a hello naming 4 billion authors
      [4, ...id, 0, 0, 0, 3, 1, 2], // three authors promised, two bytes given
      [4, ...id, 7], // counts cut short
      [5, ...id, 255, 255, 255, 255], // a catch-up promising 4 billion frames, holding none
      [5, ...id, 0, 0, 0, 1, 255, 255, 255, 255, 9], // a frame longer than the message
      [5, ...id, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 0, 0, 0, 0], // garbage frames
      [5, ...id, 0, 0, 0, 0, 0, 0, 0, 9, 1], // counts cut short after no frames
      [9, 9, 9],
    ]
    for (const m of junk) {
      topic.send(new Uint8Array(m), 4)
      topic.send(new Uint8Array(m))
    }
    await new Promise((r) => setTimeout(r, 1_200))
    type(a, 0, 'still relayed ')
    a.flush()
    await waitFor(() => text(b) === text(a), 'a frame after the junk', 5_000)
    expect(pb.relay.stats.refused).toBe(0) // sealed under the room key: refused only by the document
  })
})

