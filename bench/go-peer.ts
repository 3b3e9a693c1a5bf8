// One phone of the go-propagation benchmark (bench/go.ts), in a process of its own:
// y-webrtc keeps its sockets and rooms in module globals, and node-datachannel cannot
// live in worker threads. WebRTC is node-datachannel's, bound to 127.0.0.1.
//
// A Blossom peer runs the real code path: the brief's SecureDoc in a RoomLink (patched
// y-webrtc, optionally the server relay beside it); the core releases a sealed stage
// with BriefEditor.release and a flush; a participant's BriefView verifies the release
// and opens the seal. A stock peer is what a developer would otherwise pick: unpatched
// y-webrtc, its own signaling server, and the location as a plain value in a Y.Map.
import { WebSocket as NodeWebSocket } from 'ws'
import * as Y from 'yjs'
import type { DocId, PublicIdentity, SecretKey } from '../src/crypto'
import type { StageId } from '../src/model/stage'

export interface PeerSetup {
  readonly kind: 'blossom' | 'stock'
  readonly role: 'core' | 'participant'
  readonly signalingUrl: string
  readonly serverRelay: boolean
  /** The brief's transport doc (Blossom) or plain doc (stock) as every phone holds it before go. */
  readonly initial: Uint8Array
  readonly stages: readonly StageId[]
  readonly room: string
  readonly blossom?: {
    readonly briefId: DocId
    readonly briefKey: SecretKey
    readonly core: PublicIdentity
    /** The core phone only: its identity seed and the stage keys. */
    readonly coreSeed?: Uint8Array
    readonly stageKeys?: readonly SecretKey[]
    /** Opening with no core phone (without-core.ts): the app server's drand proxy, and a marshal's identity seed. */
    readonly withoutCore?: { readonly drand: string; readonly marshalSeed?: Uint8Array }
  }
}

export type ToPeer = { type: 'setup'; setup: PeerSetup } | { type: 'join' } | { type: 'release'; stage: number } | { type: 'offer' } | { type: 'leave' }

export interface SignalingCount {
  framesSent: number
  framesReceived: number
  bytesSent: number
  bytesReceived: number
}

export type FromPeer =
  | { type: 'ready' }
  | { type: 'peers'; self: string; peers: string[]; at: number }
  | { type: 'released'; stage: number; at: number }
  | { type: 'revealed'; stage: number; at: number }
  | { type: 'left'; signaling: SignalingCount }

const now = (): number => performance.timeOrigin + performance.now()
const post = (m: FromPeer): void => void process.send!(m)
const setup = await new Promise<PeerSetup>((resolve) => process.once('message', (m: ToPeer) => m.type === 'setup' && resolve(m.setup)))

// Before y-webrtc loads (it is imported dynamically below). Each peer is a process of its own,
// so BroadcastChannel reaches no one; it goes anyway, so nothing can sync around WebRTC and the
// server. lib0 then uses its in-memory stand-in, local to this process.
delete (globalThis as { BroadcastChannel?: unknown }).BroadcastChannel
const signaling: SignalingCount = { framesSent: 0, framesReceived: 0, bytesSent: 0, bytesReceived: 0 }
const size = (d: unknown): number => (typeof d === 'string' ? Buffer.byteLength(d) : d instanceof ArrayBuffer || ArrayBuffer.isView(d) ? d.byteLength : Array.isArray(d) ? d.reduce((n: number, b: Buffer) => n + b.byteLength, 0) : 0)
/** Counts what crosses the signaling socket, both ways. */
class CountingWebSocket extends NodeWebSocket {
  constructor(url: string) {
    super(url)
    this.on('message', (data) => {
      signaling.framesReceived++
      signaling.bytesReceived += size(data)
    })
    const send = this.send.bind(this) as (data: unknown) => void
    this.send = ((data: unknown) => {
      signaling.framesSent++
      signaling.bytesSent += size(data)
      send(data)
    }) as NodeWebSocket['send']
  }
}
;(globalThis as { WebSocket?: unknown }).WebSocket = CountingWebSocket

const polyfill = await import('node-datachannel/polyfill')
/**
 * simple-peer builds RTCPeerConnections from this. Every one binds to loopback only, and
 * hands out plain descriptions: simple-peer rewrites `sdp`, which the polyfill's are too
 * strict to allow (browsers allow it).
 */
const wrtc = {
  RTCPeerConnection: class extends polyfill.RTCPeerConnection {
    constructor(config: RTCConfiguration = {}) {
      super({ ...config, bindAddress: '127.0.0.1' } as RTCConfiguration)
    }
    override async createOffer(): Promise<RTCSessionDescriptionInit> {
      const { type, sdp } = await super.createOffer()
      return { type, sdp }
    }
    override async createAnswer(): Promise<RTCSessionDescriptionInit> {
      const { type, sdp } = await super.createAnswer()
      return { type, sdp }
    }
  },
  RTCSessionDescription: polyfill.RTCSessionDescription,
  RTCIceCandidate: polyfill.RTCIceCandidate,
}

interface Room {
  readonly peerId: string
  readonly webrtcConns: Map<string, { connected: boolean }>
}
interface Peer {
  room(): Room | null | undefined
  join(): void
  release(stage: number): void
  /** A marshal releases its piece of every stage (as its phone does at go). */
  offer(): void
  leave(): void
}

async function blossomPeer(): Promise<Peer> {
  const { cryptoReady, identityFromSeed, newIdentity } = await import('../src/crypto')
  const { SecureDoc } = await import('../src/doc')
  const { RoomLink } = await import('../src/transport')
  const { BriefEditor, BriefView } = await import('../src/model/brief')
  const { WithoutCore } = await import('../src/model/without-core')
  const { makeShareOffer, shareOf } = await import('../src/model/quorum')
  const { toBase64Url } = await import('../src/crypto')
  await cryptoReady()
  const b = setup.blossom!
  const seed = b.coreSeed ?? b.withoutCore?.marshalSeed
  const identity = seed ? identityFromSeed(seed) : newIdentity()
  const doc = new SecureDoc({ docId: b.briefId, keys: new Map([[0, b.briefKey]]), roster: { epoch: 0, writers: [b.core] }, identity })
  Y.applyUpdate(doc.transport, setup.initial)
  const view = new BriefView(doc.plain, b.briefId, () => doc.writers())
  const waiting = new Set(setup.stages.map((_, i) => i))
  const look = (): void => {
    for (const i of waiting) {
      if (!view.isReleased(setup.stages[i]!)) continue
      waiting.delete(i)
      post({ type: 'revealed', stage: i, at: now() })
    }
  }
  view.onChange(look)
  const ways = b.withoutCore
    ? new WithoutCore({ brief: view, briefId: b.briefId, me: identity, stored: { offers: [], beacons: [] }, save: () => {}, drand: b.withoutCore.drand, changed: look })
    : undefined
  let link: InstanceType<typeof RoomLink> | undefined
  return {
    room: () => link?.provider?.room as Room | null | undefined,
    join() {
      link = new RoomLink(doc, b.briefKey, { signalingUrls: [setup.signalingUrl], iceServers: [], relayOnly: false, serverRelay: setup.serverRelay, wrtc })
      ways?.attach(b.briefKey, link.sockets, link.awareness, false)
    },
    offer() {
      const at = now()
      for (const id of setup.stages) {
        const quorum = view.quorum(id)
        const share = quorum && shareOf(identity, quorum, id)
        if (share) ways?.takeCode(`BLOSSOM-SHARE:${toBase64Url(makeShareOffer(b.briefId, id, share, identity))}`)
      }
      post({ type: 'released', stage: 0, at })
    },
    release(stage) {
      const at = now()
      new BriefEditor(doc.plain, b.briefId).release(setup.stages[stage]!, b.stageKeys![stage]!, identity)
      doc.flush()
      post({ type: 'released', stage, at })
    },
    leave: () => {
      ways?.close()
      link?.leave()
    },
  }
}

async function stockPeer(): Promise<Peer> {
  const { WebrtcProvider } = await import('y-webrtc-stock')
  const doc = new Y.Doc()
  Y.applyUpdate(doc, setup.initial)
  const go = doc.getMap<string>('go')
  go.observe((event) => {
    for (const key of event.keysChanged) post({ type: 'revealed', stage: Number(key), at: now() })
  })
  let provider: InstanceType<typeof WebrtcProvider> | undefined
  return {
    room: () => provider?.room as Room | null | undefined,
    join() {
      provider = new WebrtcProvider(setup.room, doc, { signaling: [setup.signalingUrl], peerOpts: { wrtc, config: { iceServers: [] } } })
    },
    release(stage) {
      const at = now()
      go.set(String(stage), 'The action location, in plain text')
      post({ type: 'released', stage, at })
    },
    offer: () => {},
    leave: () => provider?.destroy(),
  }
}

const peer = setup.kind === 'blossom' ? await blossomPeer() : await stockPeer()
// Polled: stock y-webrtc tells of a peer when it starts connecting, not when it is connected.
let last = ''
const reportPeers = (): void => {
  const room = peer.room()
  if (!room) return
  const peers = [...room.webrtcConns].filter(([, c]) => c.connected).map(([id]) => id)
  const key = peers.join()
  if (key === last) return
  last = key
  post({ type: 'peers', self: room.peerId, peers, at: now() })
}
process.on('message', (m: ToPeer) => {
  if (m.type === 'join') {
    peer.join()
    setInterval(reportPeers, 25)
  } else if (m.type === 'release') peer.release(m.stage)
  else if (m.type === 'offer') peer.offer()
  else {
    peer.leave()
    post({ type: 'left', signaling })
    setTimeout(() => process.exit(0), 200)
  }
  // 'setup' came first and was handled above.
})
post({ type: 'ready' })
