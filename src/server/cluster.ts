// Several signaling instances as one server: phones connected to different instances meet in the
// same room, relay and catch up, and the topic limits hold for the whole cluster. Redis is only a
// bus (pub/sub, nothing stored), so an instance or Redis can die and come back without cleanup.
//
// - Messages: every instance with a subscriber of a topic listens on the topic's channel. A publish
//   is delivered locally and sent on the channel with what the others need to deliver it: to
//   everyone, to the one phone that claimed a peer id, or to how many phones each instance should
//   draw for a sampled announcement (so a sample is drawn from the whole room, not per instance).
// - Counts: every instance tells the others, twice a second, what changed in how many subscribers
//   each of its topics has and how many connections and topics each source holds, and everything
//   every few seconds. Limits add what the others hold (a topic's room, a source's share of the
//   topic table). An instance not heard from for a while is forgotten (it died, or lost Redis).
//
// What crosses Redis is what the server already sees: topic names (keyed hashes), peer ids,
// ciphertext, and sources (addresses). Run Redis on the instances' host or a private network.
import { randomBytes } from 'node:crypto'
import { Redis } from 'ioredis'

/** What another instance holds, as it last said. */
interface Elsewhere {
  topics: Map<string, number>
  /** source -> [connections, topics] */
  sources: Map<string, [number, number]>
  heardAt: number
}

/** A publish, for the instances that hear its topic. */
export interface ClusterPublish {
  /** The exact text to deliver. */
  payload: string
  /** Unicast: only the phone that claimed this peer id. */
  to?: string
  /** Sampled: how many phones each instance draws (by instance id). */
  sample?: Record<string, number>
}

/** What an instance can tell about its own counts. */
export interface LocalCounts {
  topic(topic: string): number
  source(source: string): [number, number]
  topics(): Iterable<string>
  sources(): Iterable<string>
}

export interface ClusterOptions {
  /** redis://host:port */
  url: string
  /** Between count reports. Default 500 ms. */
  reportMs?: number
  /** Every this many reports, all counts, not only changes. Default 10. */
  fullEvery?: number
  /** An instance silent this long is forgotten. Default 15 s. */
  forgetMs?: number
}

export interface Cluster {
  readonly id: string
  /** Start or stop receiving a topic's publishes from other instances. */
  hear(topic: string): void
  forget(topic: string): void
  send(topic: string, message: ClusterPublish): void
  /** Subscribers of `topic` on other instances. */
  topicElsewhere(topic: string): number
  /** Connections and topics `source` holds on other instances. */
  sourceElsewhere(source: string): [number, number]
  /** Other instances holding `topic`, with how many subscribers each. */
  holders(topic: string): [string, number][]
  /** A local count changed: it goes out with the next report. */
  changedTopic(topic: string): void
  changedSource(source: string): void
  close(): Promise<void>
}

const TOPIC_CHANNEL = 'blossom:t:'
const COUNTS_CHANNEL = 'blossom:counts'
const MAX_BUS_MESSAGE = 1024 * 1024
/** Entries (topics and sources) in one counts message: about 100 KB. */
const REPORT_ENTRIES = 2_000

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

const count = (v: unknown): number | undefined => (Number.isSafeInteger(v) && (v as number) >= 0 ? (v as number) : undefined)

/** A publish from the bus, or undefined if it is not one (whoever can write to Redis is not trusted to crash us). */
export function readPublish(text: string): (ClusterPublish & { from: string }) | undefined {
  if (text.length > MAX_BUS_MESSAGE) return undefined
  let v: unknown
  try {
    v = JSON.parse(text)
  } catch {
    return undefined
  }
  if (!isRecord(v) || typeof v['from'] !== 'string' || typeof v['payload'] !== 'string') return undefined
  const out: ClusterPublish & { from: string } = { from: v['from'], payload: v['payload'] }
  if (typeof v['to'] === 'string') out.to = v['to']
  if (isRecord(v['sample'])) {
    const sample: Record<string, number> = {}
    for (const [id, k] of Object.entries(v['sample'])) {
      const n = count(k)
      if (n !== undefined) sample[id] = n
    }
    out.sample = sample
  }
  return out
}

export function connectCluster(options: ClusterOptions, local: LocalCounts, deliver: (topic: string, message: ClusterPublish) => void): Cluster {
  const id = randomBytes(6).toString('base64url')
  const reportMs = options.reportMs ?? 500
  const fullEvery = options.fullEvery ?? 10
  const forgetMs = options.forgetMs ?? 15_000
  // A publisher and a listener: a Redis connection in subscriber mode can do nothing else. Nothing
  // waits in a queue while Redis is away (phones' churn would grow it without bound): what is
  // published then is dropped (phones catch up through the relay's hello), and once Redis is back
  // the listener subscribes to the topics held at that moment.
  const bus = new Redis(options.url, { maxRetriesPerRequest: null, enableOfflineQueue: false })
  const listener = new Redis(options.url, { maxRetriesPerRequest: null, enableOfflineQueue: false, autoResubscribe: false })
  const heard = new Set<string>()
  // Without Redis an instance still serves its own phones; it says so once per outage, not per message.
  let down = false
  const onError = (): void => {
    if (!down) console.error('Blossom: the Redis bus is unreachable; this instance serves only its own phones until it is back')
    down = true
  }
  bus.on('error', onError)
  listener.on('error', onError)
  bus.on('ready', () => (down = false))

  const others = new Map<string, Elsewhere>()
  const dirtyTopics = new Set<string>()
  const dirtySources = new Set<string>()
  let reports = 0

  const publish = (channel: string, text: string): void => {
    if (bus.status !== 'ready') return
    bus.publish(channel, text).catch(onError)
  }

  listener.on('ready', () => {
    const channels = [COUNTS_CHANNEL, ...[...heard].map((t) => TOPIC_CHANNEL + t)]
    for (let i = 0; i < channels.length; i += 1_000) listener.subscribe(...channels.slice(i, i + 1_000)).catch(onError)
  })
  const listen = (subscribe: boolean, topic: string): void => {
    if (subscribe ? heard.has(topic) : !heard.has(topic)) return
    if (subscribe) heard.add(topic)
    else heard.delete(topic)
    if (listener.status !== 'ready') return // subscribed to on 'ready'
    ;(subscribe ? listener.subscribe(TOPIC_CHANNEL + topic) : listener.unsubscribe(TOPIC_CHANNEL + topic)).catch(onError)
  }
  listener.on('message', (channel: string, text: string) => {
    if (channel === COUNTS_CHANNEL) return heardCounts(text)
    if (!channel.startsWith(TOPIC_CHANNEL)) return
    const message = readPublish(text)
    if (!message || message.from === id) return
    deliver(channel.slice(TOPIC_CHANNEL.length), message)
  })

  function heardCounts(text: string): void {
    if (text.length > 64 * MAX_BUS_MESSAGE) return
    let v: unknown
    try {
      v = JSON.parse(text)
    } catch {
      return
    }
    if (!isRecord(v) || typeof v['from'] !== 'string' || v['from'] === id) return
    const from = v['from']
    const full = v['full'] === true
    let them = others.get(from)
    if (!them || full) others.set(from, (them = { topics: new Map(), sources: new Map(), heardAt: 0 }))
    them.heardAt = performance.now()
    if (isRecord(v['topics'])) {
      for (const [t, n] of Object.entries(v['topics'])) {
        const c = count(n)
        if (c === undefined) continue
        if (c === 0) them.topics.delete(t)
        else them.topics.set(t, c)
      }
    }
    if (isRecord(v['sources'])) {
      for (const [s, pair] of Object.entries(v['sources'])) {
        if (!Array.isArray(pair)) continue
        const c = count(pair[0])
        const t = count(pair[1])
        if (c === undefined || t === undefined) continue
        if (c === 0 && t === 0) them.sources.delete(s)
        else them.sources.set(s, [c, t])
      }
    }
  }

  const report = (): void => {
    const now = performance.now()
    for (const [other, them] of others) if (now - them.heardAt > forgetMs) others.delete(other)
    const full = reports++ % fullEvery === 0
    const topics = [...(full ? local.topics() : dirtyTopics)].map((t): [string, number] => [t, local.topic(t)])
    const sources = [...(full ? local.sources() : dirtySources)].map((s): [string, [number, number]] => [s, local.source(s)])
    dirtyTopics.clear()
    dirtySources.clear()
    // In parts of at most REPORT_ENTRIES, so no message outgrows what Redis lets a listener buffer.
    for (let at = 0; at === 0 || at < topics.length + sources.length; at += REPORT_ENTRIES) {
      const t = topics.slice(at, at + REPORT_ENTRIES)
      const s = sources.slice(Math.max(0, at - topics.length), Math.max(0, at + REPORT_ENTRIES - topics.length))
      publish(COUNTS_CHANNEL, JSON.stringify({ from: id, full: full && at === 0, topics: Object.fromEntries(t), sources: Object.fromEntries(s) }))
    }
  }
  const reporter = setInterval(report, reportMs)
  reporter.unref()
  bus.once('ready', report)

  return {
    id,
    hear: (topic) => listen(true, topic),
    forget: (topic) => listen(false, topic),
    send: (topic, message) => publish(TOPIC_CHANNEL + topic, JSON.stringify({ from: id, ...message })),
    topicElsewhere(topic) {
      let n = 0
      for (const them of others.values()) n += them.topics.get(topic) ?? 0
      return n
    },
    sourceElsewhere(source) {
      let connections = 0
      let topics = 0
      for (const them of others.values()) {
        const [c, t] = them.sources.get(source) ?? [0, 0]
        connections += c
        topics += t
      }
      return [connections, topics]
    },
    holders(topic) {
      const out: [string, number][] = []
      for (const [other, them] of others) {
        const n = them.topics.get(topic)
        if (n) out.push([other, n])
      }
      return out
    },
    changedTopic: (topic) => void dirtyTopics.add(topic),
    changedSource: (source) => void dirtySources.add(source),
    async close() {
      clearInterval(reporter)
      // Tell the others at once that this instance holds nothing any more.
      if (bus.status === 'ready') {
        await bus.publish(COUNTS_CHANNEL, JSON.stringify({ from: id, full: true, topics: {}, sources: {} })).catch(() => undefined)
      }
      listener.disconnect()
      await bus.quit().catch(() => bus.disconnect())
    },
  }
}

/**
 * How many of a sample of `k` each group gives, drawn as if from all their members at once (without
 * replacement): a room split over instances is sampled as one room.
 */
export function splitSample(k: number, groups: readonly number[]): number[] {
  const left = [...groups]
  const taken = groups.map(() => 0)
  let total = left.reduce((a, b) => a + b, 0)
  for (let drawn = 0; drawn < k && total > 0; drawn++) {
    let at = Math.floor(Math.random() * total)
    let g = 0
    while (at >= left[g]!) at -= left[g++]!
    taken[g]!++
    left[g]!--
    total--
  }
  return taken
}
