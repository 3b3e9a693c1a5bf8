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
