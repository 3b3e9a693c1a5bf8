// Regression tests for our y-webrtc patch, against the real client and server.
// Messages are encrypted exactly as y-webrtc encrypts them (PBKDF2 -> AES-GCM over
// lib0's writeAny), as a peer holding the room password could send them.
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import * as Y from 'yjs'
import * as encoding from 'lib0/encoding'
import { WebrtcProvider } from 'y-webrtc'
import { startSignaling, waitFor, Client, type Harness } from '../server/helpers'
import { cryptoReady, newIdentity, publicPart, randomKey } from '../../src/crypto'
import { newDocId, SecureDoc } from '../../src/doc'
import { RoomLink } from '../../src/transport'

beforeAll(() => {
  ;(globalThis as { WebSocket?: unknown }).WebSocket ??= WebSocket
})

let harness: Harness | undefined
let provider: WebrtcProvider | undefined
afterEach(async () => {
  provider?.destroy()
  await harness?.stop()
})

async function encrypt(data: unknown, password: string, room: string): Promise<string> {
  const material = await crypto.subtle.importKey('raw', new TextEncoder().encode(password), 'PBKDF2', false, ['deriveKey'])
  const key = await crypto.subtle.deriveKey(
    { name: 'PBKDF2', salt: new TextEncoder().encode(room), iterations: 100000, hash: 'SHA-256' },
    material,
    { name: 'AES-GCM', length: 256 },
    false,
    ['encrypt'],
  )
  const plain = encoding.createEncoder()
  encoding.writeAny(plain, data as never)
  const iv = crypto.getRandomValues(new Uint8Array(12))
  const cipher = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, key, encoding.toUint8Array(plain)))
  const out = encoding.createEncoder()
  encoding.writeVarString(out, 'AES-GCM')
  encoding.writeVarUint8Array(out, iv)
  encoding.writeVarUint8Array(out, cipher)
  return Buffer.from(encoding.toUint8Array(out)).toString('base64')
}

describe('patched y-webrtc', () => {
  it('an answer for a connection that does not exist is ignored, not thrown; garbage too', async () => {
    harness = await startSignaling()
    const room = 'patch-test-room'
    const password = 'room-password'
    provider = new WebrtcProvider(room, new Y.Doc(), { signaling: [harness.url], password })
    await waitFor(() => provider!.room !== null && harness!.signaling.stats().subscriptions >= 1, 'provider subscribed', 10_000)
    const peerId = provider.room!.peerId

    const failures: unknown[] = []
    const onFailure = (e: unknown): void => void failures.push(e)
    process.on('unhandledRejection', onFailure)
    process.on('uncaughtException', onFailure)
    try {
      const attacker = new Client(harness.url)
      await attacker.opened
      attacker.send({ type: 'subscribe', topics: [room] })
      const answer = { type: 'signal', from: 'ghost', to: peerId, token: 1, signal: { type: 'answer', sdp: 'v=0' } }
      attacker.send({ type: 'publish', topic: room, to: peerId, data: await encrypt(answer, password, room) })
      // Garbage a peer in the room could send: not base64, not encrypted, wrong shapes.
      attacker.send({ type: 'publish', topic: room, data: '%%% not base64' })
      attacker.send({ type: 'publish', topic: room, data: Buffer.from('random bytes').toString('base64') })
      attacker.send({ type: 'publish', topic: room, data: await encrypt({ type: 'signal', from: 'x', to: peerId }, password, room) })
      attacker.send({ type: 'publish', topic: room, data: await encrypt(null, password, room) })
      await waitFor(() => harness!.signaling.stats().messagesRelayed >= 5, 'all delivered to the provider')
      await new Promise((r) => setTimeout(r, 500))
    } finally {
      process.off('unhandledRejection', onFailure)
      process.off('uncaughtException', onFailure)
    }
    expect(failures).toEqual([])
    expect(provider.room!.webrtcConns.has('ghost')).toBe(false)
    expect(provider.room!.webrtcConns.has('x')).toBe(false)
  })

  it('a provider destroyed before its room key is derived never takes the room from a newer one of the same room', async () => {
    harness = await startSignaling()
    const failures: unknown[] = []
    const onFailure = (e: unknown): void => void failures.push(e)
    process.on('unhandledRejection', onFailure)
    process.on('uncaughtException', onFailure)
    try {
      // The old provider's key (PBKDF2) is still being derived when it is destroyed; the new one's
      // key comes first (here: none at all, a resolved promise), so the new one opens the room first.
      const old = new WebrtcProvider('race-room', new Y.Doc(), { signaling: [harness.url], password: 'pw' })
      old.destroy()
      provider = new WebrtcProvider('race-room', new Y.Doc(), { signaling: [harness.url] })
      await waitFor(() => provider!.room !== null, 'the new provider opened its room', 10_000)
      await old.key
      await new Promise((r) => setTimeout(r, 50))
      // Unpatched: "A Yjs Doc connected to room ... already exists!", then a TypeError from destroy.
      expect(failures).toEqual([])
      // The room is still the new provider's: a peer announcing in it is answered (its mesh is whole).
      await waitFor(() => harness!.signaling.stats().subscriptions >= 1, 'the new provider subscribed', 10_000)
      expect(provider.room!.provider).toBe(provider)
    } finally {
      process.off('unhandledRejection', onFailure)
      process.off('uncaughtException', onFailure)
    }
  })

  it('a room left closes its own signaling socket', async () => {
    await cryptoReady()
    harness = await startSignaling()
    ;(globalThis as { WebSocket?: unknown }).WebSocket ??= WebSocket
    const me = newIdentity()
    const doc = new SecureDoc({ docId: newDocId(), keys: new Map([[0, randomKey()]]), roster: { epoch: 0, writers: [publicPart(me)] }, identity: me })
    const link = new RoomLink(doc, randomKey(), { signalingUrls: [harness.url], iceServers: [], relayOnly: false, serverRelay: true })
    await waitFor(() => harness!.signaling.stats().connections === 1, 'the room connected', 10_000)
    link.leave()
    // Unpatched, y-webrtc's provider kept holding the socket: it stayed open (and reconnected) for good.
    await waitFor(() => harness!.signaling.stats().connections === 0, 'the socket closed once the room was left', 10_000)
    doc.destroy()
  })

  it('subscribes with a peer-id claim, so addressed signals reach that phone alone', async () => {
    harness = await startSignaling()
    provider = new WebrtcProvider('claim-room', new Y.Doc(), { signaling: [harness.url], password: 'pw' })
    await waitFor(() => provider!.room !== null && harness!.signaling.stats().subscriptions >= 1, 'subscribed', 10_000)
    // A second claim of the same id in the same topic is refused: the provider holds it.
    const thief = new Client(harness.url)
    await thief.opened
    thief.send({ type: 'subscribe', topics: ['claim-room'], peers: { 'claim-room': provider.room!.peerId } })
    await waitFor(() => harness!.signaling.stats().claimsRefused === 1, 'claim refused')
  })
})
