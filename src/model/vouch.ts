// Vouching: how a movement grows through trusted people without exposing anyone. The core lets a
// participant pass on a set number of invites; they are ordinary one-time invites in the plan
// (answered by any core phone, the same handshake), each marked with who vouches for it, so the
// core sees who brought whom and can remove a whole branch at once.
//
// The participant receives its links in the brief, sealed to its own box key: every participant
// holds the brief, but only the one vouching can open its box. Boxes are one size (padded), so
// the brief shows how many participants vouch, never how many links each holds or who they are.
import { fromUtf8, openSealed, sealTo, utf8, type BoxPublicKey, type DeviceIdentity } from '../crypto'

/** The most invites one participant may pass on at a time. */
export const MAX_VOUCHES = 10
/** Every box's plaintext is this long: 10 invite codes and their JSON fit. */
const BOX_TEXT_BYTES = 1200

/** A box of invite codes (invite-link.ts encodeInvite) only `to` opens. */
export function vouchBoxFor(to: BoxPublicKey, codes: readonly string[]): Uint8Array {
  const json = JSON.stringify({ codes: codes.slice(0, MAX_VOUCHES) })
  return sealTo(to, utf8(json.padEnd(BOX_TEXT_BYTES, ' ')))
}

/** The codes in a box, if it is this phone's; undefined for anyone else's (or a malformed one). */
export function openVouchBox(me: DeviceIdentity, box: unknown): string[] | undefined {
  if (!(box instanceof Uint8Array)) return undefined
  try {
    const j = JSON.parse(fromUtf8(openSealed(me, box))) as { codes?: unknown }
    return Array.isArray(j.codes) ? j.codes.filter((c): c is string => typeof c === 'string').slice(0, MAX_VOUCHES) : undefined
  } catch {
    return undefined
  }
}
