// Go propagation for crowds too large to run as processes: the same protocol code (each
// phone a real SecureDoc and BriefView, or a plain Y.Doc for the baseline) over a simulated
// network. Time is virtual: each link has its own latency and loses messages, a lost
// message comes again after a retransmission timeout (data channels are reliable), and
// each phone has one CPU, busy for as long as its real processing took on this machine.
// Like y-webrtc, a phone forwards what was new to it to all its connections.
import * as Y from 'yjs'
import { identityFromSeed, newIdentity, publicPart, randomBytes, randomKey, type DocId } from '../src/crypto'
import { newDocId, SecureDoc } from '../src/doc'
import { BriefEditor, BriefView } from '../src/model/brief'
import { newStageId, type StageId } from '../src/model/stage'
import { quantile, type Row } from './table'

export interface SimNetwork {
  /** One-way latency per link, drawn uniformly from this range, in ms. */
  readonly latencyMs: readonly [number, number]
  /** Chance that one transmission on a link is lost. */
  readonly loss: number
  /** Connections per phone, drawn per phone from this range (y-webrtc: 20–34). */
  readonly degree: readonly [number, number]
  /** How much slower a phone's CPU is than this machine's: processing time is multiplied by it. */
  readonly cpuFactor: number
}

export interface SimRun {
  /** Release → seal opened (Blossom) or value seen (plain), per participant, virtual ms. */
  readonly latencies: readonly number[]
  readonly meanDegree: number
}

export interface Phone {
  /** Applies an update from a peer; returns it if it was new here (and is to be forwarded). */
  receive(update: Uint8Array): boolean
  revealed(): boolean
}

/** A small seeded generator, so a run can be repeated exactly. */
export function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** A random partial mesh: every phone wants `degree` connections and accepts up to its own cap. */
export function mesh(n: number, degree: SimNetwork['degree'], random: () => number): Set<number>[] {
  const links = Array.from({ length: n }, () => new Set<number>())
  const cap = Array.from({ length: n }, () => degree[0] + Math.floor(random() * (degree[1] - degree[0] + 1)))
  for (let i = 0; i < n; i++) {
    for (let tries = 0; links[i]!.size < Math.min(cap[i]!, n - 1) && tries < 20 * cap[i]!; tries++) {
      const j = Math.floor(random() * n)
      if (j === i || links[i]!.has(j) || links[j]!.size >= Math.min(cap[j]!, n - 1)) continue
      links[i]!.add(j)
      links[j]!.add(i)
    }
  }
  return links
}

/** A min-heap of events by virtual time. */
export class Agenda<T> {
  private readonly heap: { at: number; item: T }[] = []
  get size(): number {
    return this.heap.length
  }
  push(at: number, item: T): void {
    const h = this.heap
    h.push({ at, item })
    for (let i = h.length - 1; i > 0; ) {
      const p = (i - 1) >> 1
      if (h[p]!.at <= h[i]!.at) break
      ;[h[p], h[i]] = [h[i]!, h[p]!]
      i = p
    }
  }
  pop(): { at: number; item: T } {
    const h = this.heap
    const top = h[0]!
    const last = h.pop()!
    if (h.length) {
      h[0] = last
      for (let i = 0; ; ) {
        const l = 2 * i + 1
        const r = l + 1
        let m = i
        if (l < h.length && h[l]!.at < h[m]!.at) m = l
        if (r < h.length && h[r]!.at < h[m]!.at) m = r
        if (m === i) break
        ;[h[m], h[i]] = [h[i]!, h[m]!]
        i = m
      }
    }
    return top
  }
}

export const LOCATION = { text: 'The fountain on the north side of the square', lat: 52.52, lon: 13.405 }

/** A participant's phone: its brief (`doc`, holding `before`) and a BriefView that opens `stage` once released. */
export function participantPhone(doc: SecureDoc, briefId: DocId, stage: StageId, before: Uint8Array): Phone {
  Y.applyUpdate(doc.transport, before)
  const view = new BriefView(doc.plain, briefId, () => doc.writers())
  let isNew = false
  doc.transport.on('update', () => (isNew = true))
  return {
    receive(update) {
      isNew = false
      Y.applyUpdate(doc.transport, update)
      return isNew
    },
    revealed: () => view.isReleased(stage),
  }
}

/** N Blossom phones holding the brief with one sealed stage; returns them and the core's release. */
function blossomCrowd(n: number): { phones: Phone[]; release: () => Uint8Array } {
  const core = identityFromSeed(randomBytes(64))
  const briefId = newDocId()
  const briefKey = randomKey()
  const stage = newStageId()
  const stageKey = randomKey()
  const open = (identity = newIdentity()): SecureDoc => new SecureDoc({ docId: briefId, keys: new Map([[0, briefKey]]), roster: { epoch: 0, writers: [publicPart(core)] }, identity })
  const coreDoc = open(core)
  const editor = new BriefEditor(coreDoc.plain, briefId)
  editor.set('stagingPoint', 'The bakery on the corner of 5th and Main')
  editor.sealStage(stage, 'location', stageKey, LOCATION)
  coreDoc.flush()
  const before = Y.encodeStateAsUpdate(coreDoc.transport)
  const phones = Array.from({ length: n - 1 }, () => participantPhone(open(), briefId, stage, before))
  return {
    phones,
    release() {
      const updates: Uint8Array[] = []
      coreDoc.transport.on('update', (u: Uint8Array) => updates.push(u))
      editor.release(stage, stageKey, core)
      coreDoc.flush()
      return Y.mergeUpdates(updates)
    },
  }
}

/** The baseline: plain Yjs, the location as a value in a map. */
function plainCrowd(n: number): { phones: Phone[]; release: () => Uint8Array } {
  const coreDoc = new Y.Doc()
  coreDoc.getMap('brief').set('stagingPoint', 'The bakery on the corner of 5th and Main')
  const before = Y.encodeStateAsUpdate(coreDoc)
  const phones = Array.from({ length: n - 1 }, (): Phone => {
    const doc = new Y.Doc()
    Y.applyUpdate(doc, before)
    let isNew = false
    doc.on('update', () => (isNew = true))
    return {
      receive(update) {
        isNew = false
        Y.applyUpdate(doc, update)
        return isNew
      },
      revealed: () => doc.getMap('go').has('location'),
    }
  })
  return {
    phones,
    release() {
      const updates: Uint8Array[] = []
      coreDoc.on('update', (u: Uint8Array) => updates.push(u))
      coreDoc.getMap('go').set('location', LOCATION.text)
      return Y.mergeUpdates(updates)
    },
  }
}

/** When a message sent at `at` from one phone arrives at another: each link has its own latency and loses transmissions. */
export function arrivals(network: SimNetwork, random: () => number): (from: number, to: number, at: number) => number {
  const latency = new Map<string, number>()
  const linkLatency = (a: number, b: number): number => {
    const key = a < b ? `${a}:${b}` : `${b}:${a}`
    let ms = latency.get(key)
    if (ms === undefined) latency.set(key, (ms = network.latencyMs[0] + random() * (network.latencyMs[1] - network.latencyMs[0])))
    return ms
  }
  /** Arrival time of one message on a reliable link that loses transmissions. */
  return (from, to, at) => {
    const oneWay = linkLatency(from, to)
    const rto = Math.max(200, 4 * oneWay)
    let t = at
    while (random() < network.loss) t += rto
    return t + oneWay
  }
}

/**
 * Phone 0 sends `update` to its connections at virtual time `sentAt`; every other phone i is
 * `phones[i - 1]` and forwards what was new to it. Returns when each phone revealed (phone 0: never).
 */
export function spread(phones: readonly Phone[], links: readonly ReadonlySet<number>[], network: SimNetwork, random: () => number, sentAt: number, update: Uint8Array): Float64Array {
  const n = phones.length + 1
  const arrival = arrivals(network, random)
  const busyUntil = new Float64Array(n)
  const revealedAt = new Float64Array(n).fill(Number.POSITIVE_INFINITY)
  const agenda = new Agenda<{ to: number; from: number; update: Uint8Array }>()
  busyUntil[0] = sentAt
  for (const to of links[0]!) agenda.push(arrival(0, to, busyUntil[0]), { to, from: 0, update })
  while (agenda.size) {
    const { at, item } = agenda.pop()
    if (item.to === 0) continue
    const phone = phones[item.to - 1]!
    const start = Math.max(at, busyUntil[item.to]!)
    const t = performance.now()
    const isNew = phone.receive(item.update)
    const shown = isNew && revealedAt[item.to] === Number.POSITIVE_INFINITY && phone.revealed()
    busyUntil[item.to] = start + network.cpuFactor * (performance.now() - t)
    if (shown) revealedAt[item.to] = busyUntil[item.to]!
    if (!isNew) continue
    for (const to of links[item.to]!) if (to !== item.from) agenda.push(arrival(item.to, to, busyUntil[item.to]!), { to, from: item.to, update: item.update })
  }
  return revealedAt
}

export function simulateGo(kind: 'blossom' | 'plain', n: number, network: SimNetwork, seed = 1): SimRun {
  const random = prng(seed)
  const crowd = kind === 'blossom' ? blossomCrowd(n) : plainCrowd(n)
  const links = mesh(n, network.degree, random)
  // Phone 0 is the core; phone i > 0 is crowd.phones[i - 1].
  const started = performance.now()
  const update = crowd.release()
  const revealedAt = spread(crowd.phones, links, network, random, network.cpuFactor * (performance.now() - started), update)
  return {
    latencies: Array.from(revealedAt.subarray(1)),
    meanDegree: links.reduce((s, l) => s + l.size, 0) / n,
  }
}

/** A crowd's mobile network at a busy square, and phones 4× slower than this machine. */
export const CROWDED: SimNetwork = { latencyMs: [20, 150], loss: 0.05, degree: [20, 34], cpuFactor: 4 }

export function goSimRows(quick: boolean): Row[] {
  const rows: Row[] = []
  for (const n of quick ? [500] : [500, 2000, 10_000]) {
    const plain = simulateGo('plain', n, CROWDED)
    for (const degree of [[20, 34], [6, 20]] as const) {
      const run = simulateGo('blossom', n, { ...CROWDED, degree })
      const mesh = `${degree[0]}–${degree[1]} connections per phone`
      const row = (figure: string, q: number): Row => ({ figure: `N=${n}, ${mesh}: go → seal opened, ${figure}`, value: quantile(run.latencies, q), unit: 'ms', baseline: quantile(plain.latencies, q), baselineName: 'plain Yjs, 20–34' })
      rows.push(row('median', 0.5), row('p99', 0.99), row('max', 1))
    }
  }
  return rows
}
