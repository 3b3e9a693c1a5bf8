// A stand-in for simple-peer, with just what the patched y-webrtc uses of it, over the
// platform's RTCPeerConnection. simple-peer's browser bundle carries Node polyfills (buffer,
// streams, events): 28 KB gzip of first-load JavaScript. Vite aliases
// `simple-peer/simplepeer.min.js` here. Signals keep simple-peer's trickle format, so phones
// running either one connect to each other.
import { ObservableV2 } from 'lib0/observable'

export type SignalData =
  | { type: 'offer' | 'answer'; sdp: string }
  | { type: 'candidate'; candidate: RTCIceCandidateInit }

export interface PeerOptions {
  initiator?: boolean
  config?: RTCConfiguration
  /** A WebRTC implementation where the platform has none (Node: node-datachannel's polyfill). */
  wrtc?: { RTCPeerConnection: new (config?: RTCConfiguration) => RTCPeerConnection }
}

type PeerEvents = {
  signal: (signal: SignalData) => void
  connect: () => void
  data: (data: Uint8Array) => void
  error: (error: Error) => void
  close: () => void
}

/** Remote candidates kept until the remote description comes; more is a peer misbehaving. */
const MAX_PENDING = 100

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null
const toError = (e: unknown): Error => (e instanceof Error ? e : new Error(String(e)))

export default class Peer extends ObservableV2<PeerEvents> {
  /** The connection, under simple-peer's name: src/transport reads its stats. Unset if it could not be made. */
  readonly _pc: RTCPeerConnection | undefined
  private channel: RTCDataChannel | undefined
  private opened = false
  private destroyed = false
  /** Remote candidates that came before the remote description (unset once it is applied). */
  private pending: RTCIceCandidateInit[] | undefined = []
  /** Local candidates wait for our offer or answer: y-webrtc drops a candidate that comes before its offer. */
  private held: SignalData[] | undefined = []

  constructor(opts: PeerOptions = {}) {
    super()
    let pc: RTCPeerConnection
    try {
      const RTC = opts.wrtc?.RTCPeerConnection ?? globalThis.RTCPeerConnection
      // A copy: some implementations write defaults into the config, which y-webrtc shares.
      pc = new RTC({ ...opts.config })
    } catch (e) {
      // No WebRTC here, or a bad config: fail as a connection does, not in y-webrtc's hands.
      this._pc = undefined
      this.destroy(toError(e))
      return
    }
    this._pc = pc
    pc.onicecandidate = ({ candidate: c }) => {
      if (!c || this.destroyed) return
      const signal: SignalData = { type: 'candidate', candidate: { candidate: c.candidate, sdpMLineIndex: c.sdpMLineIndex, sdpMid: c.sdpMid } }
      if (this.held) this.held.push(signal)
      else this.emit('signal', [signal])
    }
    pc.onconnectionstatechange = () => {
      if (pc.connectionState === 'failed') this.destroy(new Error('WebRTC connection failed'))
      else if (pc.connectionState === 'closed') this.destroy()
    }
    // The answerer gets the initiator's channel here. So does an initiator that took the other
    // side's offer (y-webrtc's glare handling): it listens on both channels then.
    pc.ondatachannel = ({ channel }) => this.setup(channel)
    if (opts.initiator) {
      this.setup(pc.createDataChannel('', { ordered: true }))
      pc.createOffer()
        .then(async (offer) => {
          await pc.setLocalDescription(offer)
          this.describe('offer', offer)
        })
        .catch((e: unknown) => this.destroy(toError(e)))
    }
  }

  /** Open and ready to send (simple-peer's `connected`). */
  get connected(): boolean {
    return this.opened && !this.destroyed && this.channel?.readyState === 'open'
  }

  /** Applies a signal from the remote peer. It comes from the network: anything malformed destroys this peer, nothing throws. */
  signal(data: unknown): void {
    if (!this.destroyed) this.apply(data).catch((e: unknown) => this.destroy(toError(e)))
  }

  send(data: Uint8Array<ArrayBuffer>): void {
    if (!this.connected) throw new Error('peer not connected')
    this.channel?.send(data)
  }

  /** Closes everything; 'error' (if given) then 'close' follow once, after the caller returns, as in simple-peer. */
  override destroy(error?: Error): void {
    if (this.destroyed) return
    this.destroyed = true
    try {
      this.channel?.close()
      this._pc?.close()
    } catch {
      // Already closed.
    }
    queueMicrotask(() => {
      if (error) this.emit('error', [error])
      this.emit('close', [])
      super.destroy()
    })
  }

  private async apply(data: unknown): Promise<void> {
    const pc = this._pc
    const s: unknown = typeof data === 'string' ? JSON.parse(data) : data
    if (!pc || !isObject(s)) throw new Error('invalid signal')
    // Media renegotiation: no simple-peer sends these without media, so there is nothing to do.
    if (s['renegotiate'] || s['transceiverRequest']) return
    const c = s['candidate']
    if (isObject(c) && typeof c['candidate'] === 'string') {
      const sdpMid = c['sdpMid']
      const index = c['sdpMLineIndex']
      const candidate = { candidate: c['candidate'], sdpMid: typeof sdpMid === 'string' ? sdpMid : null, sdpMLineIndex: typeof index === 'number' ? index : null }
      if (this.pending) {
        if (this.pending.length < MAX_PENDING) this.pending.push(candidate)
      } else await this.addCandidate(candidate)
      return
    }
    const type = s['type']
    const sdp = s['sdp']
    if ((type !== 'offer' && type !== 'answer') || typeof sdp !== 'string') throw new Error('invalid signal')
    await pc.setRemoteDescription({ type, sdp })
    if (this.destroyed) return
    const pending = this.pending ?? []
    this.pending = undefined
    await Promise.all(pending.map((candidate) => this.addCandidate(candidate)))
    if (type !== 'offer') return
    const answer = await pc.createAnswer()
    await pc.setLocalDescription(answer)
    this.describe('answer', answer)
  }

  /** One unusable candidate (say, an mDNS name that does not resolve here) is not fatal: ICE tries the others. */
  private async addCandidate(candidate: RTCIceCandidateInit): Promise<void> {
    await this._pc?.addIceCandidate(candidate).catch(() => undefined)
  }

  /** Sends our offer or answer, then the local candidates gathered meanwhile. */
  private describe(type: 'offer' | 'answer', description: RTCSessionDescriptionInit): void {
    if (this.destroyed) return
    this.emit('signal', [{ type, sdp: description.sdp ?? '' }])
    const held = this.held ?? []
    this.held = undefined
    for (const signal of held) this.emit('signal', [signal])
  }

  private setup(channel: RTCDataChannel): void {
    channel.binaryType = 'arraybuffer'
    channel.onmessage = ({ data }: MessageEvent<unknown>) => {
      // y-webrtc sends binary only; a string from a peer is dropped.
      if (data instanceof ArrayBuffer && !this.destroyed) this.emit('data', [new Uint8Array(data)])
    }
    if (this.channel) return
    this.channel = channel
    channel.onopen = () => this.open()
    channel.onclose = () => this.destroy()
    channel.onerror = (e) => this.destroy(e.error instanceof Error ? e.error : new Error('data channel failed'))
    // Some implementations (node-datachannel) hand over the answerer's channel already open.
    if (channel.readyState === 'open') this.open()
  }

  private open(): void {
    if (this.opened || this.destroyed) return
    this.opened = true
    this.emit('connect', [])
  }
}
