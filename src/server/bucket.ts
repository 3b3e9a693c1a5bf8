// Token bucket: `capacity` tokens at most, refilled continuously at `perSecond`.
// A take that does not fit fails; the caller closes the connection (no queueing).
export class TokenBucket {
  private tokens: number
  private last: number

  constructor(
    private readonly capacity: number,
    private readonly perSecond: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.tokens = capacity
    this.last = now()
  }

  take(amount: number): boolean {
    const t = this.now()
    const elapsed = Math.max(0, t - this.last) / 1000
    this.last = t
    this.tokens = Math.min(this.capacity, this.tokens + elapsed * this.perSecond)
    if (amount > this.tokens) return false
    this.tokens -= amount
    return true
  }
}

/** How many sources a budget remembers; past it, the oldest is forgotten (and starts full again). */
const MAX_SOURCES = 10_000

/** One token bucket per source (an address, or a /64): what one network can make the server do. */
export class SourceBudget {
  private readonly buckets = new Map<string, TokenBucket>()

  constructor(
    private readonly burst: number,
    private readonly perSecond: number,
  ) {}

  take(source: string, amount = 1): boolean {
    let bucket = this.buckets.get(source)
    if (!bucket) {
      if (this.buckets.size >= MAX_SOURCES) this.buckets.delete(this.buckets.keys().next().value!)
      this.buckets.set(source, (bucket = new TokenBucket(this.burst, this.perSecond)))
    }
    return bucket.take(amount)
  }
}
