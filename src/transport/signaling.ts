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
  /** The peer answered this phone's sync request (its state arrived). */
  readonly synced: boolean
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

/** What Blossom uses of y-protocols' Awareness: small states its mesh peers share, beside the document. */
export interface PeerAwareness {
  readonly clientID: number
  setLocalStateField(field: string, value: unknown): void
  getStates(): Map<number, Record<string, unknown>>
  on(event: 'change', listener: (changes: { added: number[]; updated: number[]; removed: number[] }, origin: unknown) => void): void
  off(event: 'change', listener: (changes: { added: number[]; updated: number[]; removed: number[] }, origin: unknown) => void): void
}

export interface Provider {
  readonly awareness: PeerAwareness
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
