// Every limit of the signaling server, with defaults. README.md explains the numbers.
export interface SignalingLimits {
  /** Largest accepted message in bytes (ws maxPayload); larger closes with 1009. */
  maxPayloadBytes: number
  /** Open sockets server-wide; upgrades beyond it get HTTP 503. */
  maxConnections: number
  /** Distinct topics server-wide. */
  maxTopics: number
  /** (connection, topic) pairs server-wide. */
  maxSubscriptions: number
  maxTopicsPerConnection: number
  maxPeersPerTopic: number
  /** In UTF-16 code units, as JavaScript counts string length. */
  maxTopicLength: number
  maxPeerIdLength: number
  /** Token bucket on messages (WebSocket pings from the client count too). */
  messageBurst: number
  messagesPerSecond: number
  /** Token bucket on bytes received. Must hold at least one maximal message. */
  byteBurst: number
  bytesPerSecond: number
  /** A receiver whose send buffer would pass this gets messages dropped instead. */
  maxBufferedBytes: number
  /** Close a connection that holds no subscription for this long. */
  subscribeTimeoutMs: number
  /** A publish with `sample: k` reaches min(k, this) random subscribers, not all (peer sampling). */
  maxSample: number
  /** Above this event-loop lag the server sheds broadcasts (tells their senders), keeping pings and joins. */
  overloadLagMs: number
  /** WebSocket ping period; a peer that has not answered the previous ping is terminated. */
  pingIntervalMs: number
  /** After we send a close frame, terminate the socket if the peer has not closed by then. */
  closeGraceMs: number
}

const KiB = 1024
const MiB = 1024 * KiB

export const DEFAULT_LIMITS: Readonly<SignalingLimits> = Object.freeze({
  maxPayloadBytes: 256 * KiB,
  maxConnections: 2048,
  maxTopics: 65_536,
  maxSubscriptions: 524_288,
  maxTopicsPerConnection: 512,
  maxPeersPerTopic: 2048,
  maxTopicLength: 128,
  maxPeerIdLength: 64,
  messageBurst: 500,
  messagesPerSecond: 50,
  byteBurst: 2 * MiB,
  bytesPerSecond: 512 * KiB,
  maxBufferedBytes: 512 * KiB,
  subscribeTimeoutMs: 30_000,
  maxSample: 32,
  overloadLagMs: 300,
  pingIntervalMs: 30_000,
  closeGraceMs: 2_000,
})

/** Merge overrides onto the defaults; throw RangeError on a value that cannot work. */
export function resolveLimits(overrides: Partial<SignalingLimits> = {}): SignalingLimits {
  const limits: SignalingLimits = { ...DEFAULT_LIMITS }
  for (const key of Object.keys(DEFAULT_LIMITS) as (keyof SignalingLimits)[]) {
    const value = overrides[key]
    if (value === undefined) continue
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
      throw new RangeError(`signaling limit ${key} must be a positive finite number`)
    }
    limits[key] = value
  }
  if (limits.byteBurst < limits.maxPayloadBytes) {
    // otherwise a message of the allowed size could never pass the byte bucket
    throw new RangeError('signaling limit byteBurst must be at least maxPayloadBytes')
  }
  return limits
}
