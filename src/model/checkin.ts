// Check-in at the staging point. A participant seals "I am here" (who, when, signed)
// to the action's check-in key, which only core phones hold, and sends it on a sealed
// topic derived from the brief key; any online core phone records it in the plan and
// answers with an acknowledgement sealed to that participant. Other participants see
// only sealed messages: not who, and (with retries) not even how many.
import {
  concat,
  deriveKey,
  fromBase64Url,
  fromUtf8,
  openSealed,
  sealTo,
  sign,
  toBase64Url,
  u32,
  utf8,
  verify,
  type BoxPublicKey,
  type BoxSecretKey,
  type DeviceIdentity,
  type DocId,
  type SecretKey,
  type SigningPublicKey,
} from '../crypto'
import { roomKeys, SealedTopic, type SignalingSocket } from '../transport'

export interface CheckinKeys {
  readonly boxPublicKey: BoxPublicKey
  readonly boxSecretKey: BoxSecretKey
}

export interface Checkin {
  readonly who: SigningPublicKey
  readonly whoBox: BoxPublicKey
  readonly at: number
}

const signed = (briefId: DocId, who: Uint8Array, at: number): Uint8Array =>
  concat(fromBase64Url(briefId), who, u32(Math.floor(at / 1000)))

export function checkinTopic(briefKey: SecretKey, onMessage: (bytes: Uint8Array) => void, sockets: readonly SignalingSocket[]): SealedTopic {
  const keys = roomKeys(deriveKey(briefKey, 'checkin-key'))
  // Padded alike: a check-in and an acknowledgement look the same to the server.
  const topic = new SealedTopic(keys.relayTopic, keys.relayKey, 16 * 1024, onMessage, () => {}, 1024)
  for (const socket of sockets) topic.attach(socket)
  return topic
}

export function checkinMessage(briefId: DocId, me: DeviceIdentity, to: BoxPublicKey, at = Date.now()): Uint8Array {
  const sig = sign('checkin', signed(briefId, me.signingPublicKey, at), me.signingSecretKey)
  const inner = JSON.stringify({ who: toBase64Url(me.signingPublicKey), box: toBase64Url(me.boxPublicKey), at, sig: toBase64Url(sig) })
  return utf8(JSON.stringify({ t: 'in', box: toBase64Url(sealTo(to, utf8(inner))) }))
}

/** Core side: opens a check-in if it is one and its signature holds; undefined otherwise. */
export function readCheckin(briefId: DocId, keys: CheckinKeys, bytes: Uint8Array): Checkin | undefined {
  try {
    const outer = JSON.parse(fromUtf8(bytes)) as { t?: unknown; box?: unknown }
    if (outer.t !== 'in' || typeof outer.box !== 'string') return undefined
    const inner = JSON.parse(fromUtf8(openSealed(keys, fromBase64Url(outer.box)))) as Record<string, unknown>
    if (typeof inner.who !== 'string' || typeof inner.box !== 'string' || typeof inner.at !== 'number' || typeof inner.sig !== 'string') return undefined
    const who = fromBase64Url(inner.who) as SigningPublicKey
    if (!verify('checkin', signed(briefId, who, inner.at), fromBase64Url(inner.sig), who)) return undefined
    // Signed to the second: the milliseconds are dropped, so nobody can change what counts.
    return { who, whoBox: fromBase64Url(inner.box) as BoxPublicKey, at: Math.floor(inner.at / 1000) * 1000 }
  } catch {
    return undefined
  }
}

export const ackMessage = (checkin: Checkin): Uint8Array =>
  utf8(JSON.stringify({ t: 'ack', box: toBase64Url(sealTo(checkin.whoBox, utf8(JSON.stringify({ at: checkin.at })))) }))

/** Participant side: true if this message acknowledges our check-in. */
export function isAckFor(me: DeviceIdentity, bytes: Uint8Array): boolean {
  try {
    const outer = JSON.parse(fromUtf8(bytes)) as { t?: unknown; box?: unknown }
    if (outer.t !== 'ack' || typeof outer.box !== 'string') return false
    openSealed(me, fromBase64Url(outer.box))
    return true
  } catch {
    return false
  }
}
