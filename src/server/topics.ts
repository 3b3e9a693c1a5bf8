// Who is subscribed to what, and which connection claimed which peer id in a topic.
// Generic over the connection type so it can be tested without sockets.
// Invariant: a topic exists only while it has a subscriber (memory stays bounded).

interface Topic<C> {
  /** subscriber -> the peer id it claimed in this topic, or null */
  readonly subscribers: Map<C, string | null>
  /** The same subscribers in an array, for drawing a random sample in O(k). */
  readonly order: C[]
  readonly at: Map<C, number>
  /** peer id -> the connection that claimed it */
  readonly claims: Map<string, C>
}

export class TopicRegistry<C> {
  private readonly topics = new Map<string, Topic<C>>()
  private readonly held = new Map<C, Set<string>>()
  private subscriptionCount = 0

  get topicCount(): number {
    return this.topics.size
  }

  get subscriptions(): number {
    return this.subscriptionCount
  }

  topicsOf(conn: C): number {
    return this.held.get(conn)?.size ?? 0
  }

  /** The topics `conn` holds. */
  topicNamesOf(conn: C): readonly string[] {
    return [...(this.held.get(conn) ?? [])]
  }

  has(topic: string): boolean {
    return this.topics.has(topic)
  }

  isSubscribed(conn: C, topic: string): boolean {
    return this.held.get(conn)?.has(topic) ?? false
  }

  subscriberCount(topic: string): number {
    return this.topics.get(topic)?.subscribers.size ?? 0
  }

  subscribers(topic: string): Iterable<C> {
    return this.topics.get(topic)?.subscribers.keys() ?? []
  }

  topicNames(): Iterable<string> {
    return this.topics.keys()
  }

  /** Up to `k` distinct subscribers of `topic` other than `except`, drawn at random. */
  sample(topicName: string, k: number, except: C | undefined): C[] {
    const order = this.topics.get(topicName)?.order ?? []
    const others = order.length - (except !== undefined && this.isSubscribed(except, topicName) ? 1 : 0)
    if (others <= k) return order.filter((c) => c !== except)
    const picked = new Set<C>()
    while (picked.size < k) {
      const c = order[Math.floor(Math.random() * order.length)]!
      if (c !== except) picked.add(c)
    }
    return [...picked]
  }

  byPeerId(topic: string, peerId: string): C | undefined {
    return this.topics.get(topic)?.claims.get(peerId)
  }

  /**
   * Subscribe `conn` (idempotent) and, if `peerId` is given, claim it.
   * Returns false when the claim was refused because another connection holds that id;
   * the subscription itself still stands. A connection holds at most one id per topic:
   * a new claim replaces its previous one. A subscribe without an id keeps the old claim.
   */
  subscribe(conn: C, topicName: string, peerId: string | null): boolean {
    let topic = this.topics.get(topicName)
    if (topic === undefined) {
      topic = { subscribers: new Map(), claims: new Map(), order: [], at: new Map() }
      this.topics.set(topicName, topic)
    }
    if (!topic.subscribers.has(conn)) {
      topic.subscribers.set(conn, null)
      topic.at.set(conn, topic.order.length)
      topic.order.push(conn)
      let mine = this.held.get(conn)
      if (mine === undefined) {
        mine = new Set()
        this.held.set(conn, mine)
      }
      mine.add(topicName)
      this.subscriptionCount++
    }
    if (peerId === null) return true
    const owner = topic.claims.get(peerId)
    if (owner === conn) return true
    if (owner !== undefined) return false
    const previous = topic.subscribers.get(conn)
    if (previous != null) topic.claims.delete(previous)
    topic.claims.set(peerId, conn)
    topic.subscribers.set(conn, peerId)
    return true
  }

  unsubscribe(conn: C, topicName: string): void {
    const topic = this.topics.get(topicName)
    if (topic === undefined || !topic.subscribers.has(conn)) return
    const claimed = topic.subscribers.get(conn)
    if (claimed != null) topic.claims.delete(claimed)
    topic.subscribers.delete(conn)
    // Swap-remove from the array: the last subscriber takes the leaving one's place.
    const i = topic.at.get(conn)!
    const last = topic.order.pop()!
    if (last !== conn) {
      topic.order[i] = last
      topic.at.set(last, i)
    }
    topic.at.delete(conn)
    this.subscriptionCount--
    if (topic.subscribers.size === 0) this.topics.delete(topicName)
    const mine = this.held.get(conn)
    mine?.delete(topicName)
    if (mine?.size === 0) this.held.delete(conn)
  }

  removeAll(conn: C): void {
    const mine = this.held.get(conn)
    if (mine === undefined) return
    for (const topicName of [...mine]) this.unsubscribe(conn, topicName)
  }
}
