// Key rotation, when the core removes a member. The removing core phone writes a
// rotation record into the document at the old epoch (so every current member can read
// it): the new key sealed to each remaining member, indexed by a keyed hash of the old
// key and the member's key (the removed member, who holds the old key, learns only how
// many remain), and the closing vector of the old epoch. Then it moves to the new epoch.
// The removed member finds no key for itself and cannot read anything written after.
import * as Y from 'yjs'
import {
  fromBase64Url,
  keyedHash,
  openSealed,
  randomKey,
  sealTo,
  toBase64Url,
  type DeviceIdentity,
  type PublicIdentity,
  type SecretKey,
  type SigningPublicKey,
} from '../crypto'
import type { SecureDoc } from '../doc'

interface RotationRecord {
  /** recipient index -> new key sealed to that recipient */
  readonly keys: Record<string, Uint8Array>
  /** author -> frames of the old epoch that still count */
  readonly closing: Record<string, number>
}

export interface Adoption {
  readonly epoch: number
  readonly key: SecretKey
}

const rotationsOf = (doc: Y.Doc): Y.Map<RotationRecord> => doc.getMap<RotationRecord>('rotations')

const recipientIndex = (oldKey: SecretKey, who: SigningPublicKey): string => toBase64Url(keyedHash(oldKey, 'rotation-index', who))

/**
 * Rotates `doc` to a new epoch for `remaining` (the removed member is simply not among
 * them). Returns the new key; the caller saves it with the document's access.
 */
export function rotate(doc: SecureDoc, oldKey: SecretKey, remaining: readonly PublicIdentity[], remainingWriters: readonly PublicIdentity[]): Adoption {
  const epoch = doc.epoch + 1
  const key = randomKey()
  const keys: Record<string, Uint8Array> = {}
  for (const member of remaining) keys[recipientIndex(oldKey, member.signingPublicKey)] = sealTo(member.boxPublicKey, key)
  const closing = Object.fromEntries(doc.closingVector())
  // Written at the old epoch, before this phone holds the new key: every current member can read it.
  rotationsOf(doc.plain).set(String(epoch), { keys, closing })
  doc.flush()
  doc.closeEpoch(epoch - 1, new Map(Object.entries(closing)))
  doc.addKey(epoch, key)
  for (const writer of remainingWriters) doc.addWriter(writer)
  return { epoch, key }
}

/** Rotations this phone has not adopted yet and can (a new key sealed to it). */
export function pendingAdoptions(doc: SecureDoc, me: DeviceIdentity, keyOf: (epoch: number) => SecretKey | undefined): Adoption[] {
  const out: Adoption[] = []
  const records = [...rotationsOf(doc.plain).entries()].sort(([a], [b]) => Number(a) - Number(b))
  for (const [epochText, record] of records) {
    const epoch = Number(epochText)
    if (!Number.isInteger(epoch) || doc.hasKey(epoch)) continue
    const previous = keyOf(epoch - 1) ?? out.find((a) => a.epoch === epoch - 1)?.key
    if (!previous) continue
    const box = record?.keys?.[recipientIndex(previous, me.signingPublicKey)]
    if (!(box instanceof Uint8Array)) continue
    try {
      const key = openSealed(me, box) as SecretKey
      if (key.length === 32) out.push({ epoch, key })
    } catch {
      // Not openable: not for us after all.
    }
  }
  return out
}

/** Applies a rotation's closing vector for the old epoch (on phones that adopt it). */
export function closeOld(doc: SecureDoc, epoch: number): void {
  const record = rotationsOf(doc.plain).get(String(epoch))
  if (record?.closing) doc.closeEpoch(epoch - 1, new Map(Object.entries(record.closing).filter(([, n]) => typeof n === 'number')))
}

/** True when a rotation beyond our newest epoch exists but holds no key for us: we were removed. */
export function removedFrom(doc: SecureDoc): boolean {
  return [...rotationsOf(doc.plain).keys()].some((e) => Number(e) > doc.epoch)
}

export const toIdentity = (sign: string, box: string): PublicIdentity => ({
  signingPublicKey: fromBase64Url(sign) as SigningPublicKey,
  boxPublicKey: fromBase64Url(box) as PublicIdentity['boxPublicKey'],
})
