// The end of an epoch: a closure frame (kind 4), written in the epoch it closes, under
// that epoch's key, signed by a writer of it. It is the rotation and the commitment at
// once: exactly which frames of the epoch count, who writes the next one, and the next
// key sealed to each member who stays. Every phone enforces it on every open, so a
// removed writer, who still holds the old key, can add nothing to the old epoch.
//
//   field      size          meaning
//   version    1             1
//   prev       32            id of the closure this one follows (zeros: none)
//   keyCommit  32            keyed hash of the next key: which key a phone holds
//   seen       u32 + n×32    other closures of this epoch its author held (causality)
//   allow      u32 + n×32    every frame of this epoch that counts (not closures)
//   removed    u32 + n×32    writers of this epoch who do not write the next
//   writers    u32 + n×64    writers of the next epoch: signing key | box key
//   keys       u32 + n×112   index (keyed hash of the old key and the member) | sealed key
//
// The recipients are indexed, not named: a participant reading the brief's closure
// learns how many stay, not who.
import {
  Reader,
  CryptoError,
  concat,
  fromBase64Url,
  keyedHash,
  openSealed,
  randomKey,
  sealTo,
  toBase64Url,
  u32,
  type BoxPublicKey,
  type DeviceIdentity,
  type FrameId,
  type PublicIdentity,
  type SecretKey,
  type SigningPublicKey,
} from '../crypto'

const VERSION = 1
const SEALED_KEY_BYTES = 32 + 48

export interface Closure {
  readonly prev: FrameId | undefined
  readonly keyCommit: string
  readonly seen: ReadonlySet<FrameId>
  readonly allow: ReadonlySet<FrameId>
  /** base64url signing keys */
  readonly removed: ReadonlySet<string>
  readonly writers: readonly PublicIdentity[]
  /** recipient index (base64url) -> sealed next key */
  readonly keys: ReadonlyMap<string, Uint8Array>
}

const idBytes = (id: string): Uint8Array => {
  const bytes = fromBase64Url(id)
  if (bytes.length !== 32) throw new RangeError('An id is 32 bytes.')
  return bytes
}
const list = (items: readonly Uint8Array[]): Uint8Array => concat(u32(items.length), ...items)

export const recipientIndex = (oldKey: SecretKey, member: SigningPublicKey): string => toBase64Url(keyedHash(oldKey, 'rotation-index', member))
export const keyCommitOf = (key: SecretKey): string => toBase64Url(keyedHash(key, 'epoch-key'))

export interface NewClosure {
  readonly payload: Uint8Array
  readonly key: SecretKey
}

/** Makes a closure with a fresh next key for `stay` (writers among them in `writers`). */
export function makeClosure(
  oldKey: SecretKey,
  parts: { prev: FrameId | undefined; seen: Iterable<FrameId>; allow: Iterable<FrameId>; removed: Iterable<SigningPublicKey>; writers: readonly PublicIdentity[]; stay: readonly PublicIdentity[] },
): NewClosure {
  const key = randomKey()
  const boxes = new Map<string, Uint8Array>()
  for (const m of parts.stay) boxes.set(recipientIndex(oldKey, m.signingPublicKey), sealTo(m.boxPublicKey, key))
  const payload = concat(
    Uint8Array.of(VERSION),
    parts.prev ? idBytes(parts.prev) : new Uint8Array(32),
    idBytes(keyCommitOf(key)),
    list([...parts.seen].sort().map(idBytes)),
    list([...parts.allow].sort().map(idBytes)),
    list([...parts.removed]),
    list(parts.writers.map((w) => concat(w.signingPublicKey, w.boxPublicKey))),
    list([...boxes].map(([index, box]) => concat(idBytes(index), box))),
  )
  return { payload, key }
}

/** Reads a closure's payload. Throws CryptoError 'malformed' (the frame is then 'bad-payload'). */
export function decodeClosure(payload: Uint8Array): Closure {
  const r = new Reader(payload)
  if (r.u8() !== VERSION) throw new CryptoError('malformed', 'A closure of an unknown version.')
  const prev = r.bytes(32)
  const keyCommit = toBase64Url(r.bytes(32))
  const ids = (): Set<FrameId> => new Set(r.list(32).map((b) => toBase64Url(b) as FrameId))
  const seen = ids()
  const allow = ids()
  const removed = new Set(r.list(32).map(toBase64Url))
  const writers = r.list(64).map((b) => ({ signingPublicKey: b.slice(0, 32) as SigningPublicKey, boxPublicKey: b.slice(32) as BoxPublicKey }))
  const keys = new Map(r.list(32 + SEALED_KEY_BYTES).map((b) => [toBase64Url(b.subarray(0, 32)), b.slice(32)] as const))
  r.done()
  return { prev: prev.some((b) => b !== 0) ? (toBase64Url(prev) as FrameId) : undefined, keyCommit, seen, allow, removed, writers, keys }
}

/** The next key, if the closure sealed one to `me` (and it matches the commitment). */
export function openNextKey(closure: Closure, oldKey: SecretKey, me: DeviceIdentity): SecretKey | undefined {
  const box = closure.keys.get(recipientIndex(oldKey, me.signingPublicKey))
  if (!box) return undefined
  try {
    const key = openSealed(me, box) as SecretKey
    return key.length === 32 && keyCommitOf(key) === closure.keyCommit ? key : undefined
  } catch {
    return undefined
  }
}

/** Does the closure hand its next key to `member`? (Core phones check whether a removed one still reads.) */
export const reaches = (closure: Closure, oldKey: SecretKey, member: SigningPublicKey): boolean => closure.keys.has(recipientIndex(oldKey, member))
