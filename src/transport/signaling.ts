// The typed surface of the (patched) y-webrtc that Blossom uses. y-webrtc is
// JavaScript with generated types; these say exactly what we rely on.
import type * as Y from 'yjs'

/** lib0's reconnecting WebSocket, which y-webrtc uses for signaling. */
export interface SignalingSocket {
  readonly url: string
  readonly connected: boolean
  send(message: object): void
  on(event: 'connect' | 'disconnect', listener: () => void): void
  on(event: 'message', listener: (message: unknown) => void): void
  off(event: 'connect' | 'disconnect', listener: () => void): void
  off(event: 'message', listener: (message: unknown) => void): void
}

export interface WebrtcPeer {
  readonly connected: boolean
  readonly peer: RTCPeerConnectionHolder
}

/** simple-peer keeps the RTCPeerConnection as `_pc`. */
export interface RTCPeerConnectionHolder {
  readonly _pc?: RTCPeerConnection
}

export interface WebrtcRoom {
  readonly peerId: string
  readonly webrtcConns: Map<string, WebrtcPeer>
  readonly bcConns: Set<string>
}

export interface ProviderOptions {
  signaling: string[]
  password: string
  maxConns: number
  targetConns: number
  filterBcConns: boolean
  peerOpts: { config: RTCConfiguration; wrtc?: unknown }
}

export interface Provider {
  readonly room: WebrtcRoom | null
  readonly signalingConns: SignalingSocket[]
  readonly connected: boolean
  on(event: 'peers' | 'status' | 'synced' | 'peer-error', listener: () => void): void
  off(event: 'peers' | 'status' | 'synced' | 'peer-error', listener: () => void): void
  connect(): void
  disconnect(): void
  destroy(): void
}

export type ProviderConstructor = new (roomName: string, doc: Y.Doc, options: ProviderOptions) => Provider
