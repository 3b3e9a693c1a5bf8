// Who may write a document, per epoch. A roster is a grow-only set of signed
// entries ("this key may write epoch e"), each carried as a roster frame signed by
// its author. An entry counts when its author already writes epoch e or e-1 (the
// member who rotated the key), starting from a base that the device trusts
// because it made the document or because a welcome sealed to it named it.
// Grow-only sets merge in any order, so every replica computes the same roster.
// Removing a member means rotating to a new epoch without them.
import { toBase64Url, type PublicIdentity, type SigningPublicKey } from '../crypto'

/** The writers a device trusts without proof: the document's creator, or those named in a welcome. */
export interface RosterBase {
  readonly epoch: number
  readonly writers: readonly PublicIdentity[]
}

const keyOf = (pk: SigningPublicKey): string => toBase64Url(pk)

export class Roster {
  private readonly byEpoch = new Map<number, Map<string, PublicIdentity>>()

  constructor(readonly base: RosterBase) {
    for (const w of base.writers) this.writersOf(base.epoch).set(keyOf(w.signingPublicKey), w)
  }

  private writersOf(epoch: number): Map<string, PublicIdentity> {
    let m = this.byEpoch.get(epoch)
    if (!m) this.byEpoch.set(epoch, (m = new Map()))
    return m
  }

  isWriter(pk: SigningPublicKey, epoch: number): boolean {
    return this.byEpoch.get(epoch)?.has(keyOf(pk)) ?? false
  }

  /** May `signer` add writers to `epoch`? Writers of the epoch, or of the one before (key rotation). */
  mayAdd(signer: SigningPublicKey, epoch: number): boolean {
    return this.isWriter(signer, epoch) || (epoch > this.base.epoch && this.isWriter(signer, epoch - 1))
  }

  /** Records an entry whose signer `mayAdd`. True if the roster changed. */
  add(epoch: number, member: PublicIdentity): boolean {
    const m = this.writersOf(epoch)
    const k = keyOf(member.signingPublicKey)
    if (m.has(k)) return false
    m.set(k, member)
    return true
  }

  writers(epoch: number): PublicIdentity[] {
    return [...(this.byEpoch.get(epoch)?.values() ?? [])]
  }
}
