// The invite handshake, spoken on a lobby: a sealed topic whose name and key both
// come from the invite's secret, so only holders of the link can speak there.
//
//   joiner -> lobby  join     its public keys, signed with its own key (it holds them)
//   core   -> lobby  welcome  sealed to the joiner's box key: the keys and trusted writers
//   core   -> lobby  refused  why: used, expired, revoked or removed
// Welcomes and refusals are signed with the invite's answer key (its public half is in
// the link; its secret half only in the core plan), so a link holder cannot forge them.
import {
  concat,
  deriveKey,
  fromBase64Url,
  fromUtf8,
  keyedHash,
  openSealed,
  sealTo,
  sign,
  toBase64Url,
  u32,
  utf8,
  verify,
  type DeviceIdentity,
  type PublicIdentity,
  type RoomName,
  type SecretKey,
  type SigningPublicKey,
} from '../crypto'
import { roomKeys, SealedTopic } from '../transport'
import { accessFromJson, accessToJson, identityFromJson, identityToJson, type AccessJson, type DocAccess } from './access'
import { ModelError } from './errors'
import type { InviteTier } from './invite-link'

/** removed: the joiner (or whoever this invite admitted) was removed from the action by its core. */
export type RefusalReason = 'used' | 'expired' | 'revoked' | 'removed'

export interface Lobby {
  readonly topic: RoomName
  readonly key: SecretKey
}

/** The lobby of an invite: a topic and a key only holders of the link can compute. */
export function lobbyOf(secret: SecretKey): Lobby {
  const keys = roomKeys(deriveKey(secret, 'lobby-key'))
  return { topic: keys.relayTopic, key: keys.relayKey }
}

export const LOBBY_MAX_BYTES = 64 * 1024
/**
 * Every lobby message is padded to at least this (the next power of two past it if longer), and a
 * refusal is padded as long as the welcome it stands for: the server cannot tell a welcome from a
 * refusal. A welcome grows with the core and its rotations: a core welcome fits up to a core of about
 * 12, a participant's up to about 28 (larger ones take the next size: SECURITY.md, known limits).
 */
export const LOBBY_PADDED_BYTES = 4 * 1024

/** The sealed channel of an invite's lobby. */
export function lobbyTopic(secret: SecretKey, onMessage: (bytes: Uint8Array) => void, onSubscribed: () => void = () => {}): SealedTopic {
  const { topic, key } = lobbyOf(secret)
  return new SealedTopic(topic, key, LOBBY_MAX_BYTES, onMessage, onSubscribed, LOBBY_PADDED_BYTES)
}

/** A stable id for an invite, for the core plan's list of invites. */
export const inviteIdOf = (secret: SecretKey): string => toBase64Url(keyedHash(secret, 'lobby-room'))

export interface JoinRequest {
  readonly t: 'join'
  readonly joiner: PublicIdentity
  readonly at: number
}

/** What an invite admits to: each document the tier reads (the plan and brief for core; the remote brief for remote; the campaign for a cell). */
export interface Welcome {
  readonly tier: InviteTier
  readonly plan?: DocAccess
  readonly brief?: DocAccess
  readonly remote?: DocAccess
  readonly campaign?: DocAccess
  readonly admittedBy: PublicIdentity
}

const WELCOME_DOCS = ['plan', 'brief', 'remote', 'campaign'] as const

export type LobbyMessage =
  | JoinRequest
  | { readonly t: 'welcome'; readonly to: SigningPublicKey; readonly box: Uint8Array; readonly sig: Uint8Array }
  | { readonly t: 'refused'; readonly to: SigningPublicKey; readonly why: RefusalReason; readonly sig: Uint8Array }

const requestBytes = (secret: SecretKey, joiner: PublicIdentity, at: number): Uint8Array =>
  concat(keyedHash(secret, 'lobby-room'), joiner.signingPublicKey, joiner.boxPublicKey, u32(Math.floor(at / 1000)))

export function joinRequest(secret: SecretKey, me: DeviceIdentity, at = Date.now()): Uint8Array {
  const joiner: PublicIdentity = me
  const sig = sign('join-request', requestBytes(secret, joiner, at), me.signingSecretKey)
  return utf8(JSON.stringify({ t: 'join', joiner: identityToJson(joiner), at, sig: toBase64Url(sig) }))
}

const inviteTag = (secret: SecretKey): Uint8Array => keyedHash(secret, 'lobby-room')
const welcomeBytes = (secret: SecretKey, to: SigningPublicKey, box: Uint8Array): Uint8Array => concat(inviteTag(secret), utf8('welcome'), to, box)
const refusalBytes = (secret: SecretKey, to: SigningPublicKey, why: RefusalReason): Uint8Array => concat(inviteTag(secret), utf8('refused'), to, utf8(why))

export function welcome(secret: SecretKey, answerer: DeviceIdentity, to: PublicIdentity, w: Welcome): Uint8Array {
  const payload: { tier: InviteTier; by: [string, string] } & Partial<Record<(typeof WELCOME_DOCS)[number], AccessJson>> = {
    tier: w.tier,
    by: identityToJson(w.admittedBy),
  }
  for (const doc of WELCOME_DOCS) if (w[doc]) payload[doc] = accessToJson(w[doc])
  const box = sealTo(to.boxPublicKey, utf8(JSON.stringify(payload)))
  const sig = sign('welcome', welcomeBytes(secret, to.signingPublicKey, box), answerer.signingSecretKey)
  return utf8(JSON.stringify({ t: 'welcome', to: toBase64Url(to.signingPublicKey), box: toBase64Url(box), sig: toBase64Url(sig) }))
}

/** A refusal, at least `asLongAs` bytes long (the length of the welcome it stands for; the filler is not signed, and ignored). */
export function refusal(secret: SecretKey, answerer: DeviceIdentity, to: PublicIdentity, why: RefusalReason, asLongAs = 0): Uint8Array {
  const sig = sign('welcome', refusalBytes(secret, to.signingPublicKey, why), answerer.signingSecretKey)
  const message = { t: 'refused', to: toBase64Url(to.signingPublicKey), why, sig: toBase64Url(sig) }
  const bare = JSON.stringify(message).length
  return utf8(JSON.stringify(asLongAs > bare + 10 ? { ...message, fill: '0'.repeat(asLongAs - bare - 10) } : message))
}

/** Joiner side: did the core (the holder of the invite's answer key) really send this? */
export function isFromCore(secret: SecretKey, answerKey: SigningPublicKey, m: LobbyMessage): boolean {
  if (m.t === 'welcome') return verify('welcome', welcomeBytes(secret, m.to, m.box), m.sig, answerKey)
  if (m.t === 'refused') return verify('welcome', refusalBytes(secret, m.to, m.why), m.sig, answerKey)
  return false
}

/** Reads a lobby message; a join request's signature is checked here. Throws ModelError 'bad-message', nothing else. */
export function readLobbyMessage(secret: SecretKey, bytes: Uint8Array): LobbyMessage {
  try {
    return parseLobbyMessage(secret, bytes)
  } catch (error) {
    // A key or signature that is not base64url, or of the wrong size, is as bad as anything else.
    throw error instanceof ModelError ? error : badMessage()
  }
}

function parseLobbyMessage(secret: SecretKey, bytes: Uint8Array): LobbyMessage {
  let m: Record<string, unknown>
  try {
    m = JSON.parse(fromUtf8(bytes)) as Record<string, unknown>
  } catch {
    throw badMessage()
  }
  if (m?.t === 'join') {
    const joiner = identityFromJson(m.joiner)
    if (typeof m.at !== 'number' || typeof m.sig !== 'string') throw badMessage()
    if (!verify('join-request', requestBytes(secret, joiner, m.at), fromBase64Url(m.sig), joiner.signingPublicKey)) throw badMessage()
    // The signature covers whole seconds: the milliseconds are anyone's to change, so they are dropped.
    return { t: 'join', joiner, at: Math.floor(m.at / 1000) * 1000 }
  }
  if (typeof m?.to !== 'string' || typeof m.sig !== 'string') throw badMessage()
  const to = fromBase64Url(m.to) as SigningPublicKey
  const sig = fromBase64Url(m.sig)
  if (m.t === 'welcome' && typeof m.box === 'string') return { t: 'welcome', to, box: fromBase64Url(m.box), sig }
  if (m.t === 'refused' && (m.why === 'used' || m.why === 'expired' || m.why === 'revoked' || m.why === 'removed')) return { t: 'refused', to, why: m.why, sig }
  throw badMessage()
}

export function openWelcome(me: DeviceIdentity, box: Uint8Array): Welcome {
  let w: Record<string, unknown>
  try {
    w = JSON.parse(fromUtf8(openSealed(me, box))) as Record<string, unknown>
  } catch {
    throw badMessage()
  }
  if (w.tier !== 'core' && w.tier !== 'participant' && w.tier !== 'remote' && w.tier !== 'cell') throw badMessage()
  const out: { -readonly [K in keyof Welcome]: Welcome[K] } = { tier: w.tier, admittedBy: identityFromJson(w.by) }
  for (const doc of WELCOME_DOCS) if (w[doc]) out[doc] = accessFromJson(w[doc])
  return out
}

const badMessage = () => new ModelError('bad-message', 'A message in the invite lobby could not be read; it was ignored.')
