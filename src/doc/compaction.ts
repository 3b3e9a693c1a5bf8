// When a writer folds a document's edits into one snapshot (SecureDoc.compact). Without it every
// phone that catches up gets every frame ever written, each padded and sealed on its own: a brief
// edited a dozen times costs a joining participant several times its size, a plan typed for an
// hour hundreds of times. A writer compacts once enough edits are loose and nobody has edited for
// a while (so a snapshot does not race a person typing), after a random wait, so that of several
// core phones online one usually does it and the others find nothing left to fold.
import type { SecureDoc } from './secure-doc'

export interface CompactionPolicy {
  /** Fold once this many edits are loose. */
  readonly looseAt: number
  /** Quiet this long after the last frame (here or from elsewhere) first. */
  readonly quietMs: number
  /** Plus up to this much at random. */
  readonly jitterMs: number
}

export const COMPACTION: CompactionPolicy = { looseAt: 8, quietMs: 8_000, jitterMs: 8_000 }

/** Compacts `doc` by the policy while this device can write it. Returns the function that stops it. */
export function keepCompact(doc: SecureDoc, policy: CompactionPolicy = COMPACTION): () => void {
  let timer: ReturnType<typeof setTimeout> | undefined
  const due = (): boolean => doc.canWrite && doc.looseFrames >= policy.looseAt
  const fold = (): void => {
    timer = undefined
    if (!due()) return
    try {
      doc.compact()
    } catch {
      // Read-only since (removed, or the epoch settled meanwhile): nothing to fold here.
    }
  }
  // Every frame, here or from elsewhere, starts the quiet time again.
  const reconsider = (): void => {
    clearTimeout(timer)
    timer = due() ? setTimeout(fold, policy.quietMs + Math.random() * policy.jitterMs) : undefined
  }
  doc.on('frame', reconsider)
  reconsider() // a document opened from storage may be due already
  return () => {
    clearTimeout(timer)
    doc.off('frame', reconsider)
  }
}
