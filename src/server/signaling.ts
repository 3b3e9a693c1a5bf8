// Blossom's signaling server: y-webrtc's signaling protocol (subscribe / unsubscribe /
// publish / ping) plus peer-id claims and unicast publish. See README.md for the protocol,
// the close codes and the limits. It never logs or stores topics, peer ids or payloads.
import type { IncomingMessage, Server } from 'node:http'
import type { Duplex } from 'node:stream'
import { WebSocket, WebSocketServer, type RawData } from 'ws'
import { TokenBucket } from './bucket'
import { connectCluster, splitSample, type Cluster, type ClusterOptions, type ClusterPublish } from './cluster'
import { CloseCode, closeCodeOfWsError } from './codes'
import { resolveLimits, type SignalingLimits } from './limits'
import { parseClientMessage, type ClientMessage } from './protocol'
import { TopicRegistry } from './topics'

export interface SignalingServerOptions extends Partial<SignalingLimits> {
  /** Attach to this server's 'upgrade' event; otherwise call handleUpgrade yourself. */
  server?: Server
  /** The only path that is upgraded. Default '/signal'. */
  path?: string
  /** Who a connection comes from, for fair shares (behind a proxy: the client address it forwards). */
  sourceOf?: (request: IncomingMessage) => string
  /** Whether the server is overloaded now; by default, whether its event loop lags (see overloadLagMs). */
  overloaded?: () => boolean
  /** Share topics and limits with every other instance on this Redis (cluster.ts). Default: alone. */
  cluster?: ClusterOptions
}

/**
 * A connection's source for fair shares: its IP address, or for IPv6 its /64 (one subscriber's
 * network). Phones behind one carrier NAT share a source; so they share a share.
 */
export function addressSource(request: IncomingMessage): string {
  const address = (request.socket.remoteAddress ?? '').replace(/^::ffff:(?=\d+\.)/, '').replace(/%.*$/, '')
  if (!address.includes(':')) return address
  // Written out in full first: '2001::4:0:0:0:1' is in 2001:0:0:4::/64, not 2001::/64.
  const [head = '', tail] = address.split('::')
  const before = head === '' ? [] : head.split(':')
  const after = tail === undefined || tail === '' ? [] : tail.split(':')
  const groups = [...before, ...Array<string>(tail === undefined ? 0 : Math.max(0, 8 - before.length - after.length)).fill('0'), ...after]
  return `${groups
    .slice(0, 4)
    .map((g) => (Number.parseInt(g, 16) || 0).toString(16))
    .join(':')}::/64`
}

/** How often the server measures its own event loop's lag. */
const LAG_TICK_MS = 20

/** A source may hold up to this fraction of the topic table (but never fewer than TOPIC_SHARE_FLOOR topics). */
const TOPIC_SHARE = 1 / 8
const TOPIC_SHARE_FLOOR = 64

export interface SignalingStats {
  connections: number
  topics: number
  subscriptions: number
  connectionsAccepted: number
  /** Upgrades answered with an HTTP error: wrong path, server full or shutting down. */
  upgradesRefused: number
  messagesReceived: number
  /** Messages delivered to a receiver (one publish to n receivers counts n). */
  messagesRelayed: number
  messagesDropped: number
  dropped: { slowReceiver: number; noRecipient: number; notSubscribed: number; overload: number }
  claimsRefused: number
  /** Closes decided by the server (or by ws on a protocol error), by close code. */
  closes: Record<number, number>
}

export interface SignalingServer {
  readonly limits: Readonly<SignalingLimits>
  readonly path: string
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void
  stats(): SignalingStats
  /** Close every connection with 1001 and stop; resolves when all sockets are gone. */
  close(): Promise<void>
}

class Connection {
  alive = true
  /** Counted in its source's share until it is closing. */
  counted = true
  closing = false
  idleTimer: NodeJS.Timeout | undefined
  graceTimer: NodeJS.Timeout | undefined
  readonly messages: TokenBucket
  readonly bytes: TokenBucket

  constructor(
    readonly socket: WebSocket,
    readonly source: string,
    limits: SignalingLimits,
  ) {
    this.messages = new TokenBucket(limits.messageBurst, limits.messagesPerSecond)
    this.bytes = new TokenBucket(limits.byteBurst, limits.bytesPerSecond)
  }
}

function byteLength(data: RawData): number {
  if (Array.isArray(data)) return data.reduce((n, b) => n + b.length, 0)
  return data.byteLength
}

function toText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8')
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8')
  return data.toString('utf8')
}

function refuseUpgrade(socket: Duplex, status: 404 | 503, text: string): void {
  if (socket.writable) {
    socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`)
  }
  socket.destroy()
}

export function createSignalingServer(options: SignalingServerOptions = {}): SignalingServer {
  const { server, path = '/signal', sourceOf = addressSource, overloaded: overloadedOption, cluster: clusterOptions, ...overrides } = options
  const limits = resolveLimits(overrides)
  // permessage-deflate stays off: ciphertext does not compress and inflation is a memory risk.
  const wss = new WebSocketServer({
    noServer: true,
    clientTracking: false,
    maxPayload: limits.maxPayloadBytes,
    perMessageDeflate: false,
  })
  const connections = new Set<Connection>()
  const registry = new TopicRegistry<Connection>()
  /** Live (not closing) connections per source, and upgrades in flight. */
  const sources = new Map<string, Set<Connection>>()
  let live = 0
  let upgrading = 0
  /** Per source: topic -> how many of its connections hold it (its distinct topics are the keys). */
  const sourceTopics = new Map<string, Map<string, number>>()
  const topicShare = Math.min(limits.maxTopics, Math.max(TOPIC_SHARE_FLOOR, Math.floor(limits.maxTopics * TOPIC_SHARE)))
  const counters = {
    connectionsAccepted: 0,
    upgradesRefused: 0,
    messagesReceived: 0,
    messagesRelayed: 0,
    dropped: { slowReceiver: 0, noRecipient: 0, notSubscribed: 0, overload: 0 },
    claimsRefused: 0,
  }
  const closes = new Map<number, number>()
  // Overload: one JavaScript thread serves every socket. When its event loop lags, input waits in the
  // kernel and every answer is late; the costliest work, broadcasts to whole rooms, is shed first.
  let lag = 0
  let expectedTick = performance.now() + LAG_TICK_MS
  const lagMonitor = setInterval(() => {
    const now = performance.now()
    // A lag decays by half each tick once the loop keeps up again.
    lag = Math.max(now - expectedTick, lag / 2)
    expectedTick = now + LAG_TICK_MS
  }, LAG_TICK_MS)
  lagMonitor.unref()
  // Also while still busy: how far past its time the next tick already is (it cannot run yet).
  const overloaded = overloadedOption ?? ((): boolean => Math.max(lag, performance.now() - expectedTick) > limits.overloadLagMs)
  let shuttingDown = false
  let allClosed: (() => void) | undefined

  // Other instances, when there are: they hear each topic this one holds, and what each source holds here.
  const cluster: Cluster | undefined = clusterOptions
    ? connectCluster(
        clusterOptions,
        {
          topic: (t) => registry.subscriberCount(t),
          source: (s) => [sources.get(s)?.size ?? 0, sourceTopics.get(s)?.size ?? 0],
          topics: () => registry.topicNames(),
          sources: () => new Set([...sources.keys(), ...sourceTopics.keys()]),
        },
        (topic, message) => fromCluster(topic, message),
      )
    : undefined
  /** After `topics` gained or lost local subscribers: tell the cluster what changed, and listen only while held. */
  const changed = (topics: Iterable<string>, source: string): void => {
    if (!cluster) return
    cluster.changedSource(source)
    for (const t of topics) {
      cluster.changedTopic(t)
      const n = registry.subscriberCount(t)
      if (n === 0) cluster.forget(t)
      else if (n === 1) cluster.hear(t)
    }
  }

  const countClose = (code: number): void => {
    closes.set(code, (closes.get(code) ?? 0) + 1)
  }

  // Forget everything a connection holds as soon as we decide it is going away,
  // so a peer that never completes the close handshake holds no topic or claim.
  const release = (conn: Connection): void => {
    conn.closing = true
    clearTimeout(conn.idleTimer)
    const held = registry.topicNamesOf(conn)
    for (const t of held) forgetSourceTopic(conn.source, t)
    registry.removeAll(conn)
    if (conn.counted) {
      conn.counted = false
      live--
      const mine = sources.get(conn.source)
      mine?.delete(conn)
      if (mine?.size === 0) sources.delete(conn.source)
    }
    changed(held, conn.source)
  }

  const noteSourceTopic = (source: string, topic: string): void => {
    let mine = sourceTopics.get(source)
    if (mine === undefined) sourceTopics.set(source, (mine = new Map()))
    mine.set(topic, (mine.get(topic) ?? 0) + 1)
  }

  const forgetSourceTopic = (source: string, topic: string): void => {
    const mine = sourceTopics.get(source)
    const n = mine?.get(topic)
    if (mine === undefined || n === undefined) return
    if (n > 1) mine.set(topic, n - 1)
    else mine.delete(topic)
    if (mine.size === 0) sourceTopics.delete(source)
  }

  /**
   * The server is full and `source` wants in. Max-min fairness: each source may hold the server's
   * capacity divided by the number of sources. If `source` holds less than that and another holds
   * more, the connection to close to make room is one of the largest source's, chosen at random (it
   * may be a NAT shared with honest phones). Otherwise there is no room for it.
   */
  const victimFor = (source: string): Connection | undefined => {
    const mine = sources.get(source)?.size ?? 0
    const fair = Math.floor(limits.maxConnections / (sources.size + (mine === 0 ? 1 : 0)))
    if (mine >= fair) return undefined
    let largest: Set<Connection> | undefined
    for (const held of sources.values()) if (largest === undefined || held.size > largest.size) largest = held
    if (largest === undefined || largest.size <= fair) return undefined
    const victims = [...largest]
    return victims[Math.floor(Math.random() * victims.length)]
  }

  const closeConn = (conn: Connection, code: number, reason: string): void => {
    if (conn.closing) return
    release(conn)
    countClose(code)
    conn.socket.close(code, reason)
    conn.graceTimer = setTimeout(() => conn.socket.terminate(), limits.closeGraceMs)
    conn.graceTimer.unref()
  }

  const armIdle = (conn: Connection): void => {
    clearTimeout(conn.idleTimer)
    conn.idleTimer = undefined
    if (conn.closing || registry.topicsOf(conn) > 0) return
    conn.idleTimer = setTimeout(() => closeConn(conn, CloseCode.idle, 'no subscription'), limits.subscribeTimeoutMs)
    conn.idleTimer.unref()
  }

  // Send if the receiver keeps up; a receiver whose buffer is full loses the message
  // (counted) rather than growing server memory. One message always fits an empty buffer.
  const deliver = (conn: Connection, payload: string, size: number): void => {
    if (conn.closing || conn.socket.readyState !== WebSocket.OPEN) return
    const buffered = conn.socket.bufferedAmount
    if (buffered > 0 && buffered + size > limits.maxBufferedBytes) {
      counters.dropped.slowReceiver++
      return
    }
    conn.socket.send(payload)
    counters.messagesRelayed++
  }

  const subscribe = (conn: Connection, topics: readonly string[], peers: ReadonlyMap<string, string>): void => {
    // Check every limit before changing anything, so a refused subscribe leaves no trace.
    const fresh = new Set(topics.filter((t) => !registry.isSubscribed(conn, t)))
    if (registry.topicsOf(conn) + fresh.size > limits.maxTopicsPerConnection) {
      return closeConn(conn, CloseCode.tooManyTopics, 'too many topics')
    }
    // One source may not fill the topic table: once the table is half full, a source past its share
    // of it is refused (before that, a crowd behind one NAT may hold as many topics as it needs).
    // With other instances, what the source and the room hold there counts too.
    const held = sourceTopics.get(conn.source)
    const newForSource = [...fresh].filter((t) => !held?.has(t)).length
    const newInTable = [...fresh].filter((t) => !registry.has(t)).length
    const crowded = registry.topicCount + newInTable > limits.maxTopics / 2
    const heldElsewhere = cluster?.sourceElsewhere(conn.source)[1] ?? 0
    if (crowded && (held?.size ?? 0) + heldElsewhere + newForSource > topicShare) return closeConn(conn, CloseCode.tryAgainLater, 'source over its share')
    let newTopics = 0
    for (const t of fresh) {
      if (!registry.has(t)) newTopics++
      if (registry.subscriberCount(t) + (cluster?.topicElsewhere(t) ?? 0) >= limits.maxPeersPerTopic) {
        return closeConn(conn, CloseCode.topicFull, 'topic full')
      }
    }
    if (
      registry.topicCount + newTopics > limits.maxTopics ||
      registry.subscriptions + fresh.size > limits.maxSubscriptions
    ) {
      return closeConn(conn, CloseCode.tryAgainLater, 'server full')
    }
    for (const t of fresh) noteSourceTopic(conn.source, t)
    for (const t of topics) {
      if (!registry.subscribe(conn, t, peers.get(t) ?? null)) counters.claimsRefused++
    }
    changed(fresh, conn.source)
    armIdle(conn)
  }

  const publish = (conn: Connection, topic: string, data: unknown, to: string | null, sample: number | null): void => {
    if (!registry.isSubscribed(conn, topic)) {
      counters.dropped.notSubscribed++
      return
    }
    // Peer sampling: an announcement (or a catch-up hello) meets a bounded random sample of the
    // room, so a join costs O(k) deliveries, not O(n), and the mesh it builds stays random.
    const sampled = to === null && sample !== null ? Math.min(sample, limits.maxSample) : undefined
    if (to === null && sampled === undefined && overloaded()) {
      // Shed: a broadcast is the costliest message. The sender is told, so it sends again later
      // (phones keep their last messages for this); pings, joins and addressed signals go on.
      counters.dropped.overload++
      const shed = JSON.stringify({ type: 'shed', topic })
      return deliver(conn, shed, shed.length)
    }
    let payload: string
    try {
      // Rebuilt rather than forwarded, so only these fields ever reach other peers. No count of
      // the room's subscribers: a phone does not need it, and participants must not learn it.
      // A sampled delivery says so, and how large the sample was: phones answer only those.
      payload = JSON.stringify(sampled === undefined ? { type: 'publish', topic, data } : { type: 'publish', topic, data, sampled })
    } catch {
      // e.g. data nested too deeply for the serializer
      return closeConn(conn, CloseCode.invalidPayload, 'unserializable data')
    }
    const size = Buffer.byteLength(payload)
    if (to !== null) {
      const target = registry.byPeerId(topic, to)
      if (target === conn) {
        counters.dropped.noRecipient++
        return
      }
      if (target !== undefined) return deliver(target, payload, size)
      // Claimed on another instance, or nowhere: the instance that holds the claim delivers it.
      // (Sent even when no other instance is known to hold the topic yet: counts arrive late.)
      if (cluster) return cluster.send(topic, { payload, to })
      counters.dropped.noRecipient++
      return
    }
    if (sampled !== undefined) {
      // One draw over the whole room: how many come from here and from each other instance.
      const elsewhere = cluster?.holders(topic) ?? []
      const here = registry.subscriberCount(topic) - 1
      const [mine = 0, ...theirs] = splitSample(sampled, [here, ...elsewhere.map(([, n]) => n)])
      for (const receiver of registry.sample(topic, mine, conn)) deliver(receiver, payload, size)
      if (cluster && theirs.some((k) => k > 0)) {
        cluster.send(topic, { payload, sample: Object.fromEntries(elsewhere.map(([id], i) => [id, theirs[i]!])) })
      }
      return
    }
    for (const receiver of registry.subscribers(topic)) {
      if (receiver !== conn) deliver(receiver, payload, size)
    }
    cluster?.send(topic, { payload })
  }

  /** A publish made on another instance, for this one's subscribers of `topic`. */
  const fromCluster = (topic: string, message: ClusterPublish): void => {
    const size = Buffer.byteLength(message.payload)
    if (message.to !== undefined) {
      const target = registry.byPeerId(topic, message.to)
      if (target !== undefined) deliver(target, message.payload, size)
      return
    }
    if (!message.sample && overloaded()) {
      // Shed here too: the sender's instance may be fine while this one lags (its phones catch up by hello).
      counters.dropped.overload++
      return
    }
    const receivers = message.sample ? registry.sample(topic, message.sample[cluster!.id] ?? 0, undefined) : registry.subscribers(topic)
    for (const receiver of receivers) deliver(receiver, message.payload, size)
  }

  const dispatch = (conn: Connection, message: ClientMessage): void => {
    switch (message.type) {
      case 'subscribe':
        return subscribe(conn, message.topics, message.peers)
      case 'unsubscribe':
        const left = message.topics.filter((t) => registry.isSubscribed(conn, t))
        for (const t of left) {
          forgetSourceTopic(conn.source, t)
          registry.unsubscribe(conn, t)
        }
        // Only topics it held: names it never held cost the cluster nothing.
        if (left.length > 0) changed(left, conn.source)
        return armIdle(conn)
      case 'publish':
        return publish(conn, message.topic, message.data, message.to, message.sample)
      case 'ping': {
        // The server's clock: core phones compare theirs with it before releasing at go time.
        const pong = JSON.stringify({ type: 'pong', now: Date.now() })
        return deliver(conn, pong, pong.length)
      }
    }
  }

  const withinRate = (conn: Connection, size: number): boolean => {
    if (conn.messages.take(1) && conn.bytes.take(size)) return true
    closeConn(conn, CloseCode.rateLimited, 'rate limit')
    return false
  }

  const onMessage = (conn: Connection, data: RawData, isBinary: boolean): void => {
    if (conn.closing) return
    counters.messagesReceived++
    if (!withinRate(conn, byteLength(data))) return
    if (isBinary) return closeConn(conn, CloseCode.unsupportedData, 'text frames only')
    const parsed = parseClientMessage(toText(data), limits)
    if (!parsed.ok) return closeConn(conn, parsed.code, parsed.reason)
    dispatch(conn, parsed.message)
  }

  const onConnection = (socket: WebSocket, source: string): void => {
    const conn = new Connection(socket, source, limits)
    connections.add(conn)
    live++
    let mine = sources.get(source)
    if (mine === undefined) sources.set(source, (mine = new Set()))
    mine.add(conn)
    cluster?.changedSource(source)
    counters.connectionsAccepted++
    socket.on('message', (data, isBinary) => onMessage(conn, data, isBinary))
    socket.on('pong', () => {
      conn.alive = true
    })
    // Control frames bypass 'message'; count client pings so they cannot be flooded for free.
    socket.on('ping', (data) => {
      if (!conn.closing) withinRate(conn, data.length)
    })
    socket.on('error', (error) => {
      // ws has already started closing with the matching status (1009, 1007, 1002).
      if (conn.closing) return
      countClose(closeCodeOfWsError(error))
      release(conn)
      conn.graceTimer = setTimeout(() => socket.terminate(), limits.closeGraceMs)
      conn.graceTimer.unref()
    })
    socket.on('close', () => {
      release(conn)
      clearTimeout(conn.graceTimer)
      connections.delete(conn)
      if (connections.size === 0) allClosed?.()
    })
    armIdle(conn)
  }

  // One timer for all connections: terminate those that missed the last ping, ping the rest.
  const heartbeat = setInterval(() => {
    for (const conn of connections) {
      if (conn.closing) continue
      if (!conn.alive) {
        release(conn)
        countClose(CloseCode.abnormal)
        conn.socket.terminate()
        continue
      }
      conn.alive = false
      conn.socket.ping()
    }
  }, limits.pingIntervalMs)
  heartbeat.unref()

  const handleUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer): void => {
    let pathname: string
    try {
      pathname = new URL(request.url ?? '/', 'http://localhost').pathname
    } catch {
      pathname = ''
    }
    if (pathname !== path) {
      counters.upgradesRefused++
      return refuseUpgrade(socket, 404, 'Not Found')
    }
    const source = sourceOf(request)
    if (shuttingDown || (live + upgrading >= limits.maxConnections && victimFor(source) === undefined)) {
      counters.upgradesRefused++
      return refuseUpgrade(socket, 503, 'Service Unavailable')
    }
    upgrading++
    let settled = false
    const done = (): void => {
      if (!settled) upgrading--
      settled = true
    }
    socket.once('close', done)
    wss.handleUpgrade(request, socket, head, (ws) => {
      done()
      // Only a handshake that succeeded makes room: a malformed one never costs anyone a socket.
      if (live >= limits.maxConnections) {
        const victim = victimFor(source)
        if (victim === undefined) {
          counters.upgradesRefused++
          countClose(CloseCode.tryAgainLater)
          return ws.close(CloseCode.tryAgainLater, 'server full')
        }
        closeConn(victim, CloseCode.tryAgainLater, 'fair share')
      }
      onConnection(ws, source)
    })
  }

  server?.on('upgrade', handleUpgrade)

  const stats = (): SignalingStats => ({
    connections: connections.size,
    topics: registry.topicCount,
    subscriptions: registry.subscriptions,
    connectionsAccepted: counters.connectionsAccepted,
    upgradesRefused: counters.upgradesRefused,
    messagesReceived: counters.messagesReceived,
    messagesRelayed: counters.messagesRelayed,
    messagesDropped: counters.dropped.slowReceiver + counters.dropped.noRecipient + counters.dropped.notSubscribed + counters.dropped.overload,
    dropped: { ...counters.dropped },
    claimsRefused: counters.claimsRefused,
    closes: Object.fromEntries(closes),
  })

  let closing: Promise<void> | undefined
  const close = (): Promise<void> => {
    if (closing !== undefined) return closing
    shuttingDown = true
    clearInterval(heartbeat)
    clearInterval(lagMonitor)
    server?.off('upgrade', handleUpgrade)
    const done = new Promise<void>((resolve) => {
      if (connections.size === 0) resolve()
      else allClosed = resolve
    })
    for (const conn of connections) closeConn(conn, CloseCode.goingAway, 'server shutting down')
    closing = done.then(async () => {
      await cluster?.close()
      await new Promise<void>((resolve) => wss.close(() => resolve()))
    })
    return closing
  }

  return { limits, path, handleUpgrade, stats, close }
}
