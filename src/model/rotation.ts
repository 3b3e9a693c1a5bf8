// Removal, as the model asks for it: end the epoch of every document the removed
// member could read (doc/closure.ts seals the new keys to everyone who stays), then,
// for a core member, replace every secret the plan held in the clear: stage keys (each
// location resealed under a new key), the check-in key, and every open invite (its
// lobby secret and answer key were in the plan: withdrawn, and a new link made).
// After a race between two core phones (doc/epochs.ts), whoever still reads what it
// should not is removed again by the next core phone that notices.
import { fromBase64Url, toBase64Url, type PublicIdentity, type SigningPublicKey } from '../crypto'
import type { SecureDoc } from '../doc'

const keyOf = (pk: SigningPublicKey): string => toBase64Url(pk)

export interface Members {
  /** Writers of the document (core members). */
  readonly writers: readonly PublicIdentity[]
  /** Readers who do not write (participants; none for the plan). */
  readonly readers: readonly PublicIdentity[]
}

/** Ends the current epoch of `doc` without the `gone` keys. Idempotent: nothing to do, nothing written. */
export function closeWithout(doc: SecureDoc, gone: ReadonlySet<string>, members: Members): boolean {
  if (!doc.canClose) return false
  const stays = (m: PublicIdentity): boolean => !gone.has(keyOf(m.signingPublicKey))
  const writers = members.writers.filter(stays)
  // Removed readers are named too: every phone that reads the closure (core phones that were
  // away and hold no plan yet among them) then refuses them in every lobby.
  const removed = [...members.writers, ...members.readers].filter((m) => !stays(m)).map((m) => m.signingPublicKey)
  doc.closeEpoch({ removed, writers, stay: [...writers, ...members.readers.filter(stays)] })
  return true
}

/** Who should no longer read `doc` but still does (a removal that lost a race), or whose epoch has no winner. */
export function stillNeedsClosing(doc: SecureDoc, gone: ReadonlySet<string>): boolean {
  const epoch = doc.epoch
  const orphan = doc.settlement(epoch)
  if (orphan && orphan.winner === undefined) return true
  const removedNow = doc.removedWriters()
  const writersNow = doc.writers(epoch).some((w) => gone.has(keyOf(w.signingPublicKey)) || removedNow.has(keyOf(w.signingPublicKey)))
  if (writersNow) return true
  if (epoch === 0 || !doc.settlement(epoch - 1)?.winner) return false
  return [...gone].some((k) => doc.stillReads(epoch - 1, fromBase64Url(k) as SigningPublicKey))
}

