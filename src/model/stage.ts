// Sealed stages and their release.
//
// A stage (the action location, say) is sealed under its own random key. The brief
// carries the sealed box from the start, so every participant phone holds it before
// go; the key stays with the core until release. A release is a small signed record,
// the same whether it arrives in the brief or from a QR code at the staging point:
//
//   release = version (1) | stage id (16) | stage key (32) | signer (32) | signature (64)
//   signature: Ed25519, purpose 'release', over brief doc id || stage id || stage key
//
// A phone accepts a release only if the signer writes the brief (is core) and the key
// opens the sealed stage. Every version of a stage gets a key of its own (plan.ts), so a
// release opens the version in force and none of the earlier ones still in the log; and
// the content is padded to a few fixed sizes before sealing, so a box's length says
// little about the text (padded = length (u32) | JSON | zeros, to a size in PAD_SIZES).
import {
  concat,
  CryptoError,
  Reader,
  equalBytes,
  keyedHash,
  fromBase64Url,
  fromUtf8,
  open,
  randomBytes,
  seal,
  sign,
  toBase64Url,
  u32,
  utf8,
  verify,
  type DeviceIdentity,
  type DocId,
  type PublicIdentity,
  type SecretKey,
  type SigningPublicKey,
} from '../crypto'

export type StageId = string & { readonly __stage: unique symbol }

/**
 * What a stage is. Phones name it in their own language: no words are sealed with it. Only the
 * action location is written today; a stage stored before kinds existed (it has a label and no
 * kind) is the location, and a kind this version does not know stays 'other', never taken for it.
 */
export type StageKind = 'location' | 'other'
export const stageKindOf = (stored: unknown): StageKind => (stored === undefined || stored === 'location' ? 'location' : 'other')

/**
 * Written beside the kind so phones of the version before kinds (which find the location by this
 * label) keep finding it and never make a second one. Readers ignore it.
 */
export const LEGACY_LOCATION_LABEL = 'Action location'

/** The action location: the first location stage by id, the same on every phone. */
export const locationOf = <S extends { readonly id: StageId; readonly kind: StageKind }>(stages: readonly S[]): S | undefined =>
  stages.filter((s) => s.kind === 'location').sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))[0]

export interface StageContent {
  readonly text: string
  /** Optional coordinates, WGS84 degrees. */
  readonly lat?: number
  readonly lon?: number
}

export interface Release {
  readonly stageId: StageId
  readonly key: SecretKey
  readonly signer: SigningPublicKey
}

export type ReleaseProblem = 'malformed' | 'not-core' | 'forged' | 'wrong-key'

export class ReleaseError extends Error {
  override readonly name = 'ReleaseError'
  constructor(readonly problem: ReleaseProblem) {
    super(
      {
        malformed: 'This is not a Blossom release code.',
        'not-core': 'This release was not made by the core of this action. Ignore it.',
        forged: 'This release code was changed or forged. Ignore it.',
        'wrong-key': 'This release code belongs to another action.',
      }[problem],
    )
  }
}

const VERSION = 1
const RELEASE_BYTES = 1 + 16 + 32 + 32 + 64

export const newStageId = (): StageId => toBase64Url(randomBytes(16)) as StageId

/** Names a stage key without revealing it: the core checks that the brief's box is sealed under the plan's key. */
export const stageKeyId = (key: SecretKey): string => toBase64Url(keyedHash(key, 'stage-key-id')).slice(0, 16)

const stageContext = (briefId: DocId, stageId: StageId): Uint8Array => concat(utf8('blossom/stage'), fromBase64Url(briefId), fromBase64Url(stageId))

/** Sizes a sealed stage's content is padded to; longer content rounds up to a multiple of the last. */
export const PAD_SIZES = [512, 2048, 8192] as const

function pad(content: Uint8Array): Uint8Array {
  const need = content.length + 4
  const last = PAD_SIZES[PAD_SIZES.length - 1]
  const size = PAD_SIZES.find((s) => s >= need) ?? Math.ceil(need / last) * last
  const out = new Uint8Array(size)
  out.set(u32(content.length))
  out.set(content, 4)
  return out
}

function unpad(padded: Uint8Array): Uint8Array {
  const r = new Reader(padded)
  return r.bytes(r.u32())
}

export function sealStage(key: SecretKey, briefId: DocId, stageId: StageId, content: StageContent): Uint8Array {
  return seal(key, pad(utf8(JSON.stringify(content))), stageContext(briefId, stageId))
}

/** Opens a sealed stage. Throws ReleaseError 'wrong-key' if the key does not open it. */
export function openStage(key: SecretKey, briefId: DocId, stageId: StageId, box: Uint8Array): StageContent {
  let j: Partial<StageContent>
  try {
    j = JSON.parse(fromUtf8(unpad(open(key, box, stageContext(briefId, stageId))))) as Partial<StageContent>
  } catch (e) {
    if (e instanceof CryptoError || e instanceof SyntaxError) throw new ReleaseError('wrong-key')
    throw e
  }
  if (typeof j.text !== 'string') throw new ReleaseError('wrong-key')
  return {
    text: j.text,
    ...(typeof j.lat === 'number' && typeof j.lon === 'number' ? { lat: j.lat, lon: j.lon } : {}),
  }
}

const signedPart = (briefId: DocId, stageId: Uint8Array, key: Uint8Array): Uint8Array => concat(fromBase64Url(briefId), stageId, key)

export function makeRelease(briefId: DocId, stageId: StageId, key: SecretKey, signer: DeviceIdentity): Uint8Array {
  const id = fromBase64Url(stageId)
  const sig = sign('release', signedPart(briefId, id, key), signer.signingSecretKey)
  return concat(Uint8Array.of(VERSION), id, key, signer.signingPublicKey, sig)
}

/** The id of the key a release record carries (unchecked: the core's own phone reads what it wrote); undefined if it is none. */
export const releasedKeyId = (bytes: Uint8Array): string | undefined =>
  bytes.length === RELEASE_BYTES && bytes[0] === VERSION ? stageKeyId(bytes.slice(17, 49) as SecretKey) : undefined

/** Checks a release record against the brief's writers. Throws ReleaseError; never anything raw. */
export function readRelease(bytes: Uint8Array, briefId: DocId, core: readonly PublicIdentity[]): Release {
  if (bytes.length !== RELEASE_BYTES || bytes[0] !== VERSION) throw new ReleaseError('malformed')
  const id = bytes.subarray(1, 17)
  const key = bytes.slice(17, 49) as SecretKey
  const signer = bytes.slice(49, 81) as SigningPublicKey
  if (!core.some((w) => equalBytes(w.signingPublicKey, signer))) throw new ReleaseError('not-core')
  if (!verify('release', signedPart(briefId, id, key), bytes.subarray(81), signer)) throw new ReleaseError('forged')
  return { stageId: toBase64Url(id) as StageId, key, signer }
}

/** What a QR code carries: a release of the core (GO) or a marshal's piece (SHARE), as `BLOSSOM-<kind>:` and base64url. */
export type CodeKind = 'GO' | 'SHARE'

export const codeOf = (kind: CodeKind, bytes: Uint8Array): string => `BLOSSOM-${kind}:${toBase64Url(bytes)}`

export const isCode = (kind: CodeKind, code: string): boolean => code.trim().startsWith(`BLOSSOM-${kind}:`)

/** The bytes a code of this kind carries; undefined if it is not one. */
export function bytesOfCode(kind: CodeKind, code: string): Uint8Array | undefined {
  const m = new RegExp(`^BLOSSOM-${kind}:([A-Za-z0-9_-]+)$`).exec(code.trim())
  if (!m) return undefined
  try {
    return fromBase64Url(m[1]!)
  } catch {
    return undefined
  }
}

/** The text a release QR code carries. */
export const releaseCode = (release: Uint8Array): string => codeOf('GO', release)

export function releaseFromCode(code: string): Uint8Array {
  const bytes = bytesOfCode('GO', code)
  if (!bytes) throw new ReleaseError('malformed')
  return bytes
}
