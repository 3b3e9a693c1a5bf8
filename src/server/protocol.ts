// Parsing and validation of client messages. Pure: no sockets, no state.
// Error reasons are fixed short strings and never echo client input.
import { CloseCode } from './codes'
import type { SignalingLimits } from './limits'

export type ClientMessage =
  | { type: 'subscribe'; topics: string[]; peers: ReadonlyMap<string, string> }
  | { type: 'unsubscribe'; topics: string[] }
  | { type: 'publish'; topic: string; data: unknown; to: string | null; sample: number | null }
  | { type: 'ping' }

export type ParseResult =
  | { ok: true; message: ClientMessage }
  | { ok: false; code: number; reason: string }

type FieldLimits = Pick<SignalingLimits, 'maxTopicLength' | 'maxPeerIdLength'>

class Invalid {
  constructor(
    readonly code: number,
    readonly reason: string,
  ) {}
}

const illTyped = (reason: string): Invalid => new Invalid(CloseCode.invalidPayload, reason)

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function boundedString(value: unknown, max: number, what: string): string {
  if (typeof value !== 'string') throw illTyped(`${what} must be a string`)
  if (value.length === 0 || value.length > max) {
    throw new Invalid(CloseCode.fieldLength, `${what} length out of range`)
  }
  return value
}

function topicList(value: unknown, limits: FieldLimits): string[] {
  if (!Array.isArray(value)) throw illTyped('topics must be an array')
  return value.map((t: unknown) => boundedString(t, limits.maxTopicLength, 'topic'))
}

// `peers` maps topic -> the sender's peer id in that topic. Only entries for topics named
// in the same message are kept; the others are checked for type and then ignored.
function peerMap(value: unknown, topics: readonly string[], limits: FieldLimits): Map<string, string> {
  const peers = new Map<string, string>()
  if (value === undefined) return peers
  if (!isRecord(value)) throw illTyped('peers must be an object')
  for (const id of Object.values(value)) boundedString(id, limits.maxPeerIdLength, 'peer id')
  for (const topic of topics) {
    if (Object.hasOwn(value, topic)) peers.set(topic, value[topic] as string)
  }
  return peers
}

function toMessage(value: unknown, limits: FieldLimits): ClientMessage {
  if (!isRecord(value)) throw illTyped('message must be a JSON object')
  const type = value['type']
  if (typeof type !== 'string') throw illTyped('type must be a string')
  switch (type) {
    case 'subscribe': {
      const topics = topicList(value['topics'], limits)
      return { type, topics, peers: peerMap(value['peers'], topics, limits) }
    }
    case 'unsubscribe':
      return { type, topics: topicList(value['topics'], limits) }
    case 'publish': {
      const topic = boundedString(value['topic'], limits.maxTopicLength, 'topic')
      if (!Object.hasOwn(value, 'data')) throw illTyped('publish needs data')
      const to = value['to'] === undefined ? null : boundedString(value['to'], limits.maxPeerIdLength, 'to')
      const sample = value['sample']
      if (sample !== undefined && !(Number.isSafeInteger(sample) && (sample as number) >= 1)) throw illTyped('sample must be a positive integer')
      return { type, topic, data: value['data'], to, sample: sample === undefined ? null : (sample as number) }
    }
    case 'ping':
      return { type }
    default:
      throw new Invalid(CloseCode.unknownType, 'unknown message type')
  }
}

export function parseClientMessage(text: string, limits: FieldLimits): ParseResult {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return { ok: false, code: CloseCode.invalidPayload, reason: 'malformed JSON' }
  }
  try {
    return { ok: true, message: toMessage(value, limits) }
  } catch (e) {
    if (e instanceof Invalid) return { ok: false, code: e.code, reason: e.reason }
    throw e
  }
}
