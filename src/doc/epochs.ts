// Which closure ends an epoch, when more than one does. Two core phones can remove
// members at the same time, each writing a closure of the same epoch; every phone
// must pick the same one, and a removed writer (who still holds the epoch's key and
// can write closures too) must not be able to stay in or take over by answering with
// a removal of its own. The rule, applied alike everywhere, to each author's one closure:
//
// - Two closures by one author: equivocation; both are void and the author is out.
// - Two concurrent closures (neither saw the other) that remove each other's authors
//   are in conflict: both authors are out, and neither closure counts. A writer who is
//   being removed can at most take its remover out with it, never stay.
// - Otherwise a closure that removes the author of another attacks it when the other
//   did not know it (concurrent) or was written after seeing it; what was written
//   before a removal (the remover saw it) stands. Attacked closures are settled by the
//   grounded labelling: in when every attacker is out, out when some attacker is in.
// - Out: every author whose closure is not in, and everyone an in-closure removes.
//   The next epoch is the in-closure with the smallest id.
import type { FrameId } from '../crypto'

export interface Claim {
  readonly id: FrameId
  /** base64url signing key */
  readonly author: string
  readonly seen: ReadonlySet<FrameId>
  readonly removed: ReadonlySet<string>
}

export interface Settlement {
  /** The closure that ends the epoch; undefined while conflicts leave none standing. */
  readonly winner: FrameId | undefined
  /** Writers of the epoch who write no later epoch. */
  readonly removed: ReadonlySet<string>
}

type Label = 'in' | 'out' | 'undecided'

export function settleEpoch(claims: readonly Claim[]): Settlement {
  const removed = new Set<string>()
  const byAuthor = new Map<string, Claim[]>()
  for (const c of claims) byAuthor.set(c.author, [...(byAuthor.get(c.author) ?? []), c])
  const single: Claim[] = []
  for (const [author, own] of byAuthor) {
    if (own.length > 1) removed.add(author)
    else single.push(own[0]!)
  }
  const concurrent = (a: Claim, b: Claim): boolean => !a.seen.has(b.id) && !b.seen.has(a.id)
  const conflicted = new Set(single.filter((c) => single.some((d) => d !== c && concurrent(c, d) && d.removed.has(c.author) && c.removed.has(d.author))))
  const standing = single.filter((c) => !conflicted.has(c))
  const attackers = new Map(standing.map((c) => [c, standing.filter((d) => d !== c && d.removed.has(c.author) && (concurrent(c, d) || c.seen.has(d.id)))]))
  const label = new Map<Claim, Label>(standing.map((c) => [c, 'undecided']))
  for (let changed = true; changed; ) {
    changed = false
    for (const c of standing) {
      if (label.get(c) !== 'undecided') continue
      const against = attackers.get(c)!
      const next: Label | undefined = against.every((d) => label.get(d) === 'out') ? 'in' : against.some((d) => label.get(d) === 'in') ? 'out' : undefined
      if (next) {
        label.set(c, next)
        changed = true
      }
    }
  }
  for (const c of single) {
    if (label.get(c) === 'in') c.removed.forEach((r) => removed.add(r))
    else removed.add(c.author)
  }
  const winners = standing.filter((c) => label.get(c) === 'in' && !removed.has(c.author)).map((c) => c.id).sort()
  return { winner: winners[0], removed }
}
