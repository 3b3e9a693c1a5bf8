// What is inside a frame's box, for the kinds that are not plain Yjs updates.
//
// Snapshot: version (1) | n (u32) | n × (author (32) | count (u32)) | Yjs state
//   "count" = how many of that author's frames (counters 0..count-1) the state holds.
// Roster entry: version (1) | signing public key (32) | box public key (32)
import { concat, readU32, toBase64Url, u32, type BoxPublicKey, type PublicIdentity, type SigningPublicKey } from '../crypto'

const VERSION = 1

/** Per author (base64url public key): how many of its frames, from counter 0, a snapshot covers. */
export type Coverage = ReadonlyMap<string, number>

export class PayloadError extends Error {
  override readonly name = 'PayloadError'
}

export function encodeSnapshot(coverage: Coverage, state: Uint8Array, authorKeys: ReadonlyMap<string, SigningPublicKey>): Uint8Array {
  const parts: Uint8Array[] = [Uint8Array.of(VERSION), u32(coverage.size)]
  for (const [author, count] of coverage) {
    const pk = authorKeys.get(author)
    if (!pk) throw new RangeError('coverage names an unknown author')
    parts.push(pk, u32(count))
  }
  parts.push(state)
  return concat(...parts)
}

export function decodeSnapshot(bytes: Uint8Array): { coverage: Map<string, number>; state: Uint8Array } {
  if (bytes.length < 5 || bytes[0] !== VERSION) throw new PayloadError('snapshot: bad header')
  const n = readU32(bytes, 1)
  const end = 5 + n * 36
  if (end > bytes.length) throw new PayloadError('snapshot: truncated coverage')
  const coverage = new Map<string, number>()
  for (let at = 5; at < end; at += 36) coverage.set(toBase64Url(bytes.subarray(at, at + 32)), readU32(bytes, at + 32))
  return { coverage, state: bytes.subarray(end) }
}

export const encodeRosterEntry = (member: PublicIdentity): Uint8Array =>
  concat(Uint8Array.of(VERSION), member.signingPublicKey, member.boxPublicKey)

export function decodeRosterEntry(bytes: Uint8Array): PublicIdentity {
  if (bytes.length !== 65 || bytes[0] !== VERSION) throw new PayloadError('roster entry: bad layout')
  return {
    signingPublicKey: bytes.slice(1, 33) as SigningPublicKey,
    boxPublicKey: bytes.slice(33, 65) as BoxPublicKey,
  }
}
