// The simple-peer stand-in (src/transport/peer.ts): two of them connected in this process over
// loopback with node-datachannel's WebRTC, signals handed across directly; and what a hostile
// peer's signals do to it (they come from the network: nothing may throw).
import * as polyfill from 'node-datachannel/polyfill'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { WebrtcConn } from 'y-webrtc'
import Peer, { type PeerOptions, type SignalData } from '../../src/transport/peer'
import { waitFor } from '../server/helpers'

/** Every connection binds to loopback only, as bench/go-peer.ts does. */
class LoopbackPeerConnection extends polyfill.RTCPeerConnection {
  constructor(config: RTCConfiguration = {}) {
    super({ ...config, bindAddress: '127.0.0.1' } as RTCConfiguration)
  }
}
const wrtc = { RTCPeerConnection: LoopbackPeerConnection } as unknown as NonNullable<PeerOptions['wrtc']>

/** A peer with a record of everything it emitted. */
function peer(initiator: boolean): { peer: Peer; signals: SignalData[]; data: Uint8Array[]; errors: Error[]; events: string[] } {
  const p = new Peer({ initiator, config: { iceServers: [] }, wrtc })
  const record = { peer: p, signals: [] as SignalData[], data: [] as Uint8Array[], errors: [] as Error[], events: [] as string[] }
  p.on('signal', (s) => void record.signals.push(s))
  p.on('data', (d) => void record.data.push(d))
  p.on('error', (e) => void record.errors.push(e))
  p.on('connect', () => void record.events.push('connect'))
  p.on('close', () => void record.events.push('close'))
  return record
}

/** Hands each side's signals to the other as they come, as y-webrtc relays them. */
function pipe(from: ReturnType<typeof peer>, to: ReturnType<typeof peer>): void {
  from.signals.forEach((s) => to.peer.signal(s))
  from.peer.on('signal', (s) => to.peer.signal(s))
}

const failures: unknown[] = []
const onFailure = (e: unknown): void => void failures.push(e)
let peers: Peer[] = []
beforeEach(() => {
  failures.length = 0
  process.on('unhandledRejection', onFailure)
  process.on('uncaughtException', onFailure)
})
afterEach(async () => {
  peers.forEach((p) => p.destroy())
  peers = []
  // Whatever the native side still reports after a test belongs to that test.
  await new Promise((r) => setTimeout(r, 50))
  process.off('unhandledRejection', onFailure)
  process.off('uncaughtException', onFailure)
  expect(failures).toEqual([])
})

function pair(): [ReturnType<typeof peer>, ReturnType<typeof peer>] {
  const a = peer(true)
  const b = peer(false)
  peers.push(a.peer, b.peer)
  return [a, b]
}

describe('Peer (simple-peer stand-in)', () => {
  it('connects, sends binary both ways, and closes both sides on destroy', async () => {
    const [a, b] = pair()
    pipe(a, b)
    pipe(b, a)
    await waitFor(() => a.peer.connected && b.peer.connected, 'both connected', 10_000)
    expect(a.events).toEqual(['connect'])
    expect(b.events).toEqual(['connect'])
    expect(a.peer._pc).toBeDefined()

    a.peer.send(new Uint8Array([0, 1, 2, 255]))
    b.peer.send(new Uint8Array(20_000).fill(7))
    await waitFor(() => a.data.length === 1 && b.data.length === 1, 'data both ways')
    expect(b.data[0]).toBeInstanceOf(Uint8Array)
    expect([...b.data[0]!]).toEqual([0, 1, 2, 255])
    expect(a.data[0]).toBeInstanceOf(Uint8Array)
    expect(a.data[0]!.length).toBe(20_000)
    expect(a.data[0]!.every((x) => x === 7)).toBe(true)

    a.peer.destroy()
    a.peer.destroy()
    expect(a.peer.connected).toBe(false)
    await waitFor(() => a.events.includes('close') && b.events.includes('close'), 'both closed', 10_000)
    await new Promise((r) => setTimeout(r, 100))
    expect(a.events).toEqual(['connect', 'close'])
    expect(b.events).toEqual(['connect', 'close'])
    expect(a.errors).toEqual([])
    expect(() => a.peer.send(new Uint8Array([1]))).toThrow()
    b.peer.signal({ type: 'offer', sdp: 'late' })
  })

  it("signals in simple-peer's trickle format: the offer or answer first, then candidates", async () => {
    const [a, b] = pair()
    pipe(a, b)
    pipe(b, a)
    await waitFor(() => a.peer.connected && b.peer.connected, 'both connected', 10_000)
    for (const [side, type] of [[a, 'offer'], [b, 'answer']] as const) {
      const [first, ...rest] = side.signals
      expect(first).toEqual({ type, sdp: expect.stringContaining('v=0') })
      expect(Object.keys(first!).sort()).toEqual(['sdp', 'type'])
      expect(rest.length).toBeGreaterThan(0)
      for (const s of rest) {
        expect(s.type).toBe('candidate')
        if (s.type !== 'candidate') continue
        expect(Object.keys(s.candidate).sort()).toEqual(['candidate', 'sdpMLineIndex', 'sdpMid'])
        expect(s.candidate.candidate).toMatch(/^(a=)?candidate:/)
      }
    }
  })

  it('keeps candidates that come before the offer, and ignores a candidate it cannot use', async () => {
    const [a, b] = pair()
    pipe(b, a)
    await waitFor(() => a.signals.some((s) => s.type === 'candidate'), 'a candidate from the initiator')
    const early = a.signals.flatMap((s) => (s.type === 'candidate' ? [s] : []))
    early.forEach((s) => b.peer.signal(s))
    b.peer.signal({ type: 'candidate', candidate: { candidate: 'candidate:garbage', sdpMid: '0', sdpMLineIndex: 0 } })
    a.signals.filter((s) => s.type !== 'candidate').forEach((s) => b.peer.signal(s))
    a.peer.on('signal', (s) => b.peer.signal(s))
    await waitFor(() => a.peer.connected && b.peer.connected, 'both connected', 10_000)
    // node-datachannel lists the remote candidates its connection took: the early ones are there.
    const taken = (b.peer._pc as unknown as { ext_remoteCandidates: RTCIceCandidate[] }).ext_remoteCandidates.map((c) => c.candidate)
    for (const s of early) expect(taken).toContain(s.candidate.candidate)
    a.peer.signal({ type: 'candidate', candidate: { candidate: 'candidate:1 1 UDP 1 999.1.1.1 1 typ host', sdpMid: '0', sdpMLineIndex: 0 } })
    await new Promise((r) => setTimeout(r, 200))
    expect(a.peer.connected && b.peer.connected).toBe(true)
    expect([...a.errors, ...b.errors]).toEqual([])
  })

  it('a malformed signal makes an error and a close, never a throw', async () => {
    const garbage: unknown[] = [
      {},
      null,
      undefined,
      42,
      'not json',
      '{"type":"offer","sdp":"garbage"}',
      [],
      { type: 'answer', sdp: 'x' },
      { type: 'offer', sdp: 'x' },
      { type: 'offer', sdp: 17 },
      { type: 'rollback', sdp: '' },
      { type: 'candidate', candidate: 5 },
      { candidate: { candidate: 7 } },
      { type: 'candidate', candidate: null },
    ]
    const victims = garbage.map((g, i) => {
      const v = peer(i % 2 === 0)
      peers.push(v.peer)
      expect(() => v.peer.signal(g)).not.toThrow()
      return v
    })
    await waitFor(() => victims.every((v) => v.events.includes('close')), 'every victim closed')
    await new Promise((r) => setTimeout(r, 100))
    for (const v of victims) {
      expect(v.events).toEqual(['close'])
      expect(v.errors).toHaveLength(1)
      expect(() => v.peer.signal({ type: 'answer', sdp: 'after close' })).not.toThrow()
    }
  })

  it('media renegotiation requests are ignored; candidates alone wait for an offer', async () => {
    const v = peer(false)
    peers.push(v.peer)
    v.peer.signal({ type: 'renegotiate', renegotiate: true })
    v.peer.signal({ type: 'transceiverRequest', transceiverRequest: { kind: 'video' } })
    for (let i = 0; i < 500; i++) v.peer.signal({ type: 'candidate', candidate: { candidate: `candidate:${i} 1 UDP 1 127.0.0.1 ${1000 + i} typ host`, sdpMid: '0', sdpMLineIndex: 0 } })
    await new Promise((r) => setTimeout(r, 100))
    expect(v.events).toEqual([])
    expect(v.errors).toEqual([])
    v.peer.destroy()
    await waitFor(() => v.events.includes('close'), 'closed')
    expect(v.errors).toEqual([])
  })

  it('with no WebRTC at all, a peer errors and closes instead of throwing', async () => {
    const p = new Peer({ initiator: true, config: { iceServers: [] } })
    const events: string[] = []
    p.on('error', () => void events.push('error'))
    p.on('close', () => void events.push('close'))
    expect(p.connected).toBe(false)
    expect(() => p.signal({ type: 'offer', sdp: 'v=0' })).not.toThrow()
    await waitFor(() => events.includes('close'), 'closed')
    expect(events).toEqual(['error', 'close'])
  })

  it('is what y-webrtc builds its connections from (the vitest alias)', () => {
    // Just enough of a y-webrtc room for a connection to be made and closed.
    const provider = { peerOpts: { config: { iceServers: [] }, wrtc }, shouldConnect: false, emit: () => undefined }
    const room = { provider, webrtcConns: new Map(), bcConns: new Set(), synced: false, announceTimer: null }
    const conn = new WebrtcConn(null as never, false, 'remote', room as never)
    peers.push(conn.peer as Peer)
    expect(conn.peer).toBeInstanceOf(Peer)
    conn.destroy()
  })
})
