// Links a document to its room: the y-webrtc mesh carrying its transport doc, and
// the relay through the signaling server beside it. Reconnects by itself.
import { ObservableV2 } from 'lib0/observable'
import { WebrtcProvider } from 'y-webrtc'
import type { SecretKey } from '../crypto'
import type { SecureDoc } from '../doc'
import { FrameRelay } from './relay'
import type { TopicStats as RelayStats } from './sealed-topic'
import { roomKeys, type RoomKeys } from './rooms'
import type { PeerAwareness, Provider, ProviderConstructor, SignalingSocket } from './signaling'
import { ownSockets, releaseSockets } from './sockets'

export interface TransportSettings {
  /** Signaling servers, e.g. ws://127.0.0.1:4173/signal. */
  readonly signalingUrls: readonly string[]
  /** STUN/TURN servers the person set. Empty: only direct connections (fine on one network). */
  readonly iceServers: readonly RTCIceServer[]
  /** The server's STUN/TURN servers (network.ts), read anew for every connection: credentials expire. */
  readonly serverIce?: ServerIceSource
  /** Use TURN relays only, so other peers never learn this phone's IP address. */
  readonly relayOnly: boolean
  /** Relay frames through the signaling server beside the mesh (default on). */
  readonly serverRelay?: boolean
  /** With the relay on: also send each new frame as it is written (default), or only answer catch-up. */
  readonly relayLive?: boolean
  /** Connect to peers over WebRTC (default on). Off only where there is no WebRTC (Node tests). */
  readonly mesh?: boolean
  readonly maxConns?: number
  readonly targetConns?: number
  /** A WebRTC implementation for Node (benchmarks); browsers have their own. */
  readonly wrtc?: unknown
}

/** Where the server's ICE servers come from: `warm` starts asking (after unlock, before rooms connect). */
export interface ServerIceSource {
  readonly servers: readonly RTCIceServer[]
  warm?(): void
}

export interface LinkStatus {
  /** Connected to at least one signaling server. */
  readonly online: boolean
  /** Phones connected directly over WebRTC. */
  readonly peers: number
  /** Set once a peer or the relay delivered something, then updated. */
  readonly lastReceivedAt: number | undefined
}

type LinkEvents = { status: (status: LinkStatus) => void }

const DEFAULT_MAX_CONNS = 20
const DEFAULT_TARGET_CONNS = 6

/** The signaling URL of the server that served this page. */
export function defaultSignalingUrl(location: { protocol: string; host: string }): string {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/signal`
}

/**
 * Each new connection copies the configuration (peer.ts spreads it, which reads getters), so it
 * gets the server's TURN credential current at that moment.
 */
function iceConfig(settings: TransportSettings): RTCConfiguration {
  const own = [...settings.iceServers]
  return {
    iceTransportPolicy: settings.relayOnly ? 'relay' : 'all',
    get iceServers(): RTCIceServer[] {
      return [...own, ...(settings.serverIce?.servers ?? [])]
    },
  }
}

export class RoomLink extends ObservableV2<LinkEvents> {
  readonly keys: RoomKeys
  readonly provider: Provider | undefined
  readonly relay: FrameRelay | undefined
  /** This room's own sockets: other channels of the same document (check-in) may share them. */
  readonly sockets: SignalingSocket[]
  private lastReceivedAt: number | undefined

  /** Small states this room's mesh peers share (no mesh: none). */
  get awareness(): PeerAwareness | undefined {
    return this.provider?.awareness
  }

  private readonly emitStatus = (): void => this.emit('status', [this.status()])

  constructor(
    readonly doc: SecureDoc,
    documentKey: SecretKey,
    settings: TransportSettings,
  ) {
    super()
    this.keys = roomKeys(documentKey)
    this.sockets = ownSockets(settings.signalingUrls, this)
    const Provider = WebrtcProvider as unknown as ProviderConstructor
    const maxConns = settings.maxConns ?? DEFAULT_MAX_CONNS
    this.provider = settings.mesh === false ? undefined : new Provider(this.keys.name, doc.transport, {
      signaling: this.sockets.map((s) => s.url),
      password: this.keys.password,
      maxConns,
      targetConns: Math.min(settings.targetConns ?? DEFAULT_TARGET_CONNS, maxConns),
      filterBcConns: true,
      peerOpts: {
        config: iceConfig(settings),
        ...(settings.wrtc ? { wrtc: settings.wrtc } : {}),
      },
    })
    // Catch up through the server only when the mesh cannot: no WebRTC peer has answered this
    // phone's sync yet (none connected, or one connected whose answer never came: a phone must not
    // sit on an empty brief beside a peer that says nothing).
    this.relay = settings.serverRelay === false ? undefined : new FrameRelay(doc, this.keys, () => !this.meshSynced(), settings.relayLive !== false)
    for (const socket of this.sockets) {
      this.relay?.attach(socket)
      socket.on('connect', this.emitStatus)
      socket.on('disconnect', this.emitStatus)
    }
    doc.on('frame', this.onFrame)
    this.provider?.on('peers', this.emitStatus)
  }

  /** Whether a connected WebRTC peer has sent its state. */
  private meshSynced(): boolean {
    let synced = false
    this.provider?.room?.webrtcConns.forEach((c) => c.connected && c.synced && (synced = true))
    return synced
  }

  status(): LinkStatus {
    let peers = 0
    this.provider?.room?.webrtcConns.forEach((c) => c.connected && peers++)
    return {
      online: this.sockets.some((s) => s.connected),
      peers,
      lastReceivedAt: this.lastReceivedAt,
    }
  }

  get relayStats(): RelayStats | undefined {
    return this.relay?.stats
  }

  /** Leaves the room: closes peer connections and the relay. */
  leave(): void {
    this.relay?.stop()
    this.doc.off('frame', this.onFrame)
    for (const socket of this.sockets) {
      socket.off('connect', this.emitStatus)
      socket.off('disconnect', this.emitStatus)
    }
    this.provider?.off('peers', this.emitStatus)
    // y-webrtc's destroy() leaves the provider holding its socket: without disconnect() first,
    // every room left would keep a socket open (reconnecting, resubscribing) for good.
    this.provider?.disconnect()
    this.provider?.destroy()
    releaseSockets(this.sockets, this)
    super.destroy()
  }

  /** A frame from another phone was accepted, by the mesh or the relay. */
  private readonly onFrame = (_frame: unknown, local: boolean): void => {
    if (local) return
    this.lastReceivedAt = Date.now()
    this.emitStatus()
  }
}
