// Marshals' quorum: a stage opens when k of its n marshals release together, with no core
// phone online. The core splits the stage key (Shamir's secret sharing over GF(256), the audited
// shamir-secret-sharing library: no field arithmetic here) into one share per marshal, each
// sealed to that marshal's per-action box key. The brief carries, per stage version:
//
//   quorum = { k, keyId (stage.ts stageKeyId of the split key), shares: [{ marshal, box, commit }] }
//   box    = sealed box to the marshal: stage id (16) | share (33)
//   commit = BLAKE2b('blossom/quorum-share' | brief id | stage id | share): any phone can tell a
//            marshal's real share from a forged one before combining (a bad share would poison it)
//
// At go, a marshal offers its share to everyone, signed with its action identity:
//
//   offer  = version (1) | stage id (16) | share (33) | marshal (32) | signature (64)
//   signature: Ed25519, purpose 'share-offer', over brief id || stage id || share
//
// Any phone holding k valid offers for the quorum in force combines them, checks the key's id,
// and opens the stage. Fewer than k shares say nothing about the key (Shamir: every key is
// equally likely), and a participant who is no marshal holds no share at all. A new stage
// version (a new key, after a removal say) gets a new split: old shares open nothing new.
import { combine, split } from 'shamir-secret-sharing'
import {
  concat,
  contentHash,
  equalBytes,
  fromBase64Url,
  openSealed,
  sealTo,
  sign,
  toBase64Url,
  utf8,
  verify,
  type DeviceIdentity,
  type DocId,
  type PublicIdentity,
  type SecretKey,
  type SigningPublicKey,
} from '../crypto'
import { stageKeyId, type StageId } from './stage'
import { MAX_MARSHALS, type QuorumShare, type SealedQuorum } from './ways'

export { MAX_MARSHALS, type QuorumShare, type SealedQuorum }

export type QuorumProblem = 'malformed' | 'not-marshal' | 'forged' | 'wrong-share' | 'too-early'

export class QuorumError extends Error {
  override readonly name = 'QuorumError'
  constructor(readonly problem: QuorumProblem) {
    super(
      {
        malformed: 'This is not a Blossom marshal release.',
        'not-marshal': 'This release was not offered by a marshal of this action. Ignore it.',
        forged: 'This marshal release was changed or forged. Ignore it.',
        'wrong-share': 'This marshal release belongs to another version of the plan, or another action.',
        'too-early': 'It is not go time yet: a marshal releases only at go, or when the core says Go now.',
      }[problem],
    )
  }
}

const VERSION = 1
const SHARE_BYTES = 33
export const OFFER_BYTES = 1 + 16 + SHARE_BYTES + 32 + 64

const commitOf = (briefId: DocId, stageId: StageId, share: Uint8Array): string =>
  toBase64Url(contentHash(concat(utf8('blossom/quorum-share'), fromBase64Url(briefId), fromBase64Url(stageId), share)))

/** Splits a stage key k of n among the marshals, each share sealed to its marshal. */
export async function splitStageKey(key: SecretKey, briefId: DocId, stageId: StageId, k: number, marshals: readonly PublicIdentity[]): Promise<SealedQuorum> {
  if (!Number.isInteger(k) || k < 2 || k > marshals.length || marshals.length > MAX_MARSHALS) {
    throw new RangeError(`A quorum needs 2 ≤ k ≤ n ≤ ${MAX_MARSHALS} (k ${k}, n ${marshals.length}).`)
  }
  const shares = await split(key, marshals.length, k)
  const id = fromBase64Url(stageId)
  return {
    k,
    keyId: stageKeyId(key),
    shares: marshals.map((m, i) => ({
      marshal: toBase64Url(m.signingPublicKey),
      box: sealTo(m.boxPublicKey, concat(id, shares[i]!)),
      commit: commitOf(briefId, stageId, shares[i]!),
    })),
  }
}

/** This marshal's own share of the stage, or undefined if it holds none (or the box is not its). */
export function shareOf(me: DeviceIdentity, quorum: SealedQuorum, stageId: StageId): Uint8Array | undefined {
  const mine = quorum.shares.find((s) => s.marshal === toBase64Url(me.signingPublicKey))
  if (!mine) return undefined
  try {
    const opened = openSealed(me, mine.box)
    if (opened.length !== 16 + SHARE_BYTES || !equalBytes(opened.subarray(0, 16), fromBase64Url(stageId))) return undefined
    return opened.slice(16)
  } catch {
    return undefined
  }
}

const signedPart = (briefId: DocId, stageId: Uint8Array, share: Uint8Array): Uint8Array => concat(fromBase64Url(briefId), stageId, share)

/** What goes to everyone when this marshal releases: its share, signed. */
export function makeShareOffer(briefId: DocId, stageId: StageId, share: Uint8Array, marshal: DeviceIdentity): Uint8Array {
  const id = fromBase64Url(stageId)
  return concat(Uint8Array.of(VERSION), id, share, marshal.signingPublicKey, sign('share-offer', signedPart(briefId, id, share), marshal.signingSecretKey))
}

/** The stage and marshal an offer names, `stage:marshal`, read without checking it; undefined if it is no offer. */
export const offerPlace = (bytes: Uint8Array): string | undefined =>
  bytes instanceof Uint8Array && bytes.length === OFFER_BYTES ? `${toBase64Url(bytes.subarray(1, 17))}:${toBase64Url(bytes.subarray(17 + SHARE_BYTES, 17 + SHARE_BYTES + 32))}` : undefined

export interface ShareOffer {
  readonly stageId: StageId
  readonly marshal: string
  readonly share: Uint8Array
}

/** Checks an offer against the quorum in force for its stage. Throws QuorumError; never anything raw. */
export function readShareOffer(bytes: Uint8Array, briefId: DocId, quorumOf: (stageId: StageId) => SealedQuorum | undefined): ShareOffer {
  if (!(bytes instanceof Uint8Array) || bytes.length !== OFFER_BYTES || bytes[0] !== VERSION) throw new QuorumError('malformed')
  const id = bytes.subarray(1, 17)
  const stageId = toBase64Url(id) as StageId
  const share = bytes.slice(17, 17 + SHARE_BYTES)
  const marshalKey = bytes.slice(17 + SHARE_BYTES, 17 + SHARE_BYTES + 32) as SigningPublicKey
  const marshal = toBase64Url(marshalKey)
  const quorum = quorumOf(stageId)
  const entry = quorum?.shares.find((s) => s.marshal === marshal)
  if (!quorum || !entry) throw new QuorumError('not-marshal')
  // Not the piece the core gave this marshal (an old split, another action, a lie): refused for the
  // cost of a hash, before the signature, so a flood of made-up pieces costs no signature check.
  if (entry.commit !== commitOf(briefId, stageId, share)) throw new QuorumError('wrong-share')
  if (!verify('share-offer', signedPart(briefId, id, share), bytes.subarray(17 + SHARE_BYTES + 32), marshalKey)) throw new QuorumError('forged')
  return { stageId, marshal, share }
}

/** The stage key once k distinct marshals' valid shares are in (undefined before); checked against the quorum's key id. */
export async function combineShares(quorum: SealedQuorum, offers: readonly ShareOffer[]): Promise<SecretKey | undefined> {
  const byMarshal = new Map<string, Uint8Array>()
  for (const o of offers) if (quorum.shares.some((s) => s.marshal === o.marshal)) byMarshal.set(o.marshal, o.share)
  if (byMarshal.size < quorum.k) return undefined
  let key: SecretKey
  try {
    key = (await combine([...byMarshal.values()].slice(0, quorum.k))) as SecretKey
  } catch {
    // Pieces of two splits can share an x-coordinate, which the library refuses: no key, not a crash.
    return undefined
  }
  return key.length === 32 && stageKeyId(key) === quorum.keyId ? key : undefined
}

/** A marshal offers its share only at go: the go time has come by a clock it trusts, or the core said Go now. */
export function mayOffer(goAt: number | undefined, now: number, coreSaidGo: boolean): boolean {
  return coreSaidGo || (goAt !== undefined && now >= goAt)
}
