// A one-time invite link: https://host/#/join/<code>. The code travels only in the
// URL fragment, which browsers never send to a server, and is cleared from the
// address bar as soon as the app reads it.
//
// code = base64url(version (1) | tier (1) | expires at, unix seconds (u32) | secret (32) | answer key (32) | check (2))
// The secret opens the invite's lobby. The answer key is the public half of a signing
// key only core phones hold (it is in the plan): welcomes and refusals must be signed
// by it, so someone else who has the link cannot answer in the core's name.
// The check (first bytes of a hash) tells a mistyped or cut-off link from an unknown one.
import {
  concat,
  contentHash,
  equalBytes,
  fromBase64Url,
  newIdentity,
  randomKey,
  readU32,
  toBase64Url,
  u32,
  type DeviceIdentity,
  type SecretKey,
  type SigningPublicKey,
} from '../crypto'

/**
 * core: writes the plan. participant: reads the brief. remote: takes part from afar (reads the remote
 * brief: never the location). cell: a local action's core joins a campaign (its coordinator).
 */
export type InviteTier = 'core' | 'participant' | 'remote' | 'cell'

export interface Invite {
  readonly tier: InviteTier
  readonly expiresAt: number // ms since epoch
  readonly secret: SecretKey
  /** Verifies the core's answers in the lobby. */
  readonly answerKey: SigningPublicKey
}

/** The core's side of a new invite: the link's contents plus the answer key's secret half. */
export interface NewInvite extends Invite {
  readonly answerer: DeviceIdentity
}

/** campaign: a campaign invite, opened where it does not belong (it joins a core's action to a campaign). */
export type InviteLinkProblem = 'malformed' | 'incomplete' | 'expired' | 'campaign'

export class InviteLinkError extends Error {
  override readonly name = 'InviteLinkError'
  constructor(readonly problem: InviteLinkProblem) {
    super(
      {
        malformed: 'This is not a Blossom invite link. Ask the person who invited you for a new one.',
        incomplete: 'This invite link is incomplete or mistyped. Copy the whole link again, or scan the QR code.',
        expired: 'This invite has expired. Ask the person who invited you for a new one.',
        campaign: 'This is a campaign invite: a core member joins their action to the campaign with it, from the action’s Campaign section.',
      }[problem],
    )
  }
}

const VERSION = 1
const CODE_BYTES = 1 + 1 + 4 + 32 + 32 + 2
const tierByte: Record<InviteTier, number> = { core: 1, participant: 2, remote: 3, cell: 4 }

const check = (body: Uint8Array): Uint8Array => contentHash(body).subarray(0, 2)

export function newInvite(tier: InviteTier, expiresAt: number): NewInvite {
  const answerer = newIdentity()
  return { tier, expiresAt, secret: randomKey(), answerKey: answerer.signingPublicKey, answerer }
}

export function encodeInvite(invite: Invite): string {
  const body = concat(Uint8Array.of(VERSION, tierByte[invite.tier]), u32(Math.floor(invite.expiresAt / 1000)), invite.secret, invite.answerKey)
  return toBase64Url(concat(body, check(body)))
}

export const inviteUrl = (origin: string, invite: Invite): string => `${origin}/#/join/${encodeInvite(invite)}`

/** Reads an invite code (or a whole link). Throws InviteLinkError with a message a person can act on. */
export function decodeInvite(codeOrLink: string, now = Date.now()): Invite {
  const code = codeOrLink.trim().replace(/^.*#\/join\//, '')
  if (!/^[A-Za-z0-9_-]+$/.test(code)) throw new InviteLinkError('malformed')
  let bytes: Uint8Array
  try {
    bytes = fromBase64Url(code)
  } catch {
    throw new InviteLinkError('incomplete')
  }
  if (bytes[0] !== VERSION && bytes.length > 0) throw new InviteLinkError('malformed')
  if (bytes.length !== CODE_BYTES) throw new InviteLinkError('incomplete')
  const body = bytes.subarray(0, CODE_BYTES - 2)
  if (!equalBytes(bytes.subarray(CODE_BYTES - 2), check(body))) throw new InviteLinkError('incomplete')
  const tier = (Object.keys(tierByte) as InviteTier[]).find((t) => tierByte[t] === bytes[1])
  if (!tier) throw new InviteLinkError('malformed')
  const expiresAt = readU32(bytes, 2) * 1000
  if (expiresAt <= now) throw new InviteLinkError('expired')
  return { tier, expiresAt, secret: bytes.slice(6, 38) as SecretKey, answerKey: bytes.slice(38, 70) as SigningPublicKey }
}
