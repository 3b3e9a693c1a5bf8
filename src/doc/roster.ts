// Who may write a document, per epoch. An epoch opens with a set of writers: for the
// first epoch a device knows, the base it trusts (it made the document, or a welcome
// sealed to it named them); for every later one, the closure that ended the epoch
// before. Within an epoch, writers may add writers (a core invite) with signed roster
// entries. Nobody adds to another epoch, so a writer removed at a rotation, who still
// holds the old key, can name no one in the new epoch.
import { toBase64Url, type PublicIdentity, type SigningPublicKey } from '../crypto'

/** The writers a device trusts without proof: the document's creator, or those named in a welcome. */
export interface RosterBase {
  readonly epoch: number
  readonly writers: readonly PublicIdentity[]
}

const keyOf = (pk: SigningPublicKey): string => toBase64Url(pk)
const byKey = (writers: readonly PublicIdentity[]): Map<string, PublicIdentity> => new Map(writers.map((w) => [keyOf(w.signingPublicKey), w]))

export class Roster {
  private readonly opening = new Map<number, Map<string, PublicIdentity>>()
  private readonly added = new Map<number, Map<string, PublicIdentity>>()

  constructor(readonly base: RosterBase) {
    this.opening.set(base.epoch, byKey(base.writers))
  }

  isWriter(pk: SigningPublicKey, epoch: number): boolean {
    const k = keyOf(pk)
    return (this.opening.get(epoch)?.has(k) ?? false) || (this.added.get(epoch)?.has(k) ?? false)
  }

  /** May `signer` add writers to `epoch`? Only its own writers. */
  mayAdd(signer: SigningPublicKey, epoch: number): boolean {
    return this.isWriter(signer, epoch)
  }

  /** Records an entry whose signer `mayAdd`. True if the roster changed. */
  add(epoch: number, member: PublicIdentity): boolean {
    let m = this.added.get(epoch)
    if (!m) this.added.set(epoch, (m = new Map()))
    const k = keyOf(member.signingPublicKey)
    if (m.has(k) || this.opening.get(epoch)?.has(k)) return false
    m.set(k, member)
    return true
  }

  /** The writers an epoch opens with (from the closure of the one before); replaces any earlier answer. */
  open(epoch: number, writers: readonly PublicIdentity[]): void {
    if (epoch === this.base.epoch) return
    this.opening.set(epoch, byKey(writers))
  }

  /** Takes back a writer added by an entry a closure left out. */
  remove(epoch: number, member: PublicIdentity): void {
    this.added.get(epoch)?.delete(keyOf(member.signingPublicKey))
  }

  /** Forgets an epoch (its key came from a closure that lost a race). */
  forget(epoch: number): void {
    this.added.delete(epoch)
    if (epoch !== this.base.epoch) this.opening.delete(epoch)
  }

  /** The writers an epoch opened with (base or closure), before any roster entry of it. */
  openingWriters(epoch: number): PublicIdentity[] {
    return [...(this.opening.get(epoch)?.values() ?? [])]
  }

  writers(epoch: number): PublicIdentity[] {
    return [...new Map([...(this.opening.get(epoch) ?? []), ...(this.added.get(epoch) ?? [])]).values()]
  }
}
