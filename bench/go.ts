// Go propagation over real WebRTC: N peers (one process each, node-datachannel
// bound to 127.0.0.1) in one brief room; the core releases a sealed stage; how long
// until every participant has verified the release and opened the seal. Side by side
// with stock y-webrtc and its own signaling server carrying the location in plain text.
// Runs inside the bench's private network namespace. Asserts nothing.
import { fork, spawn, type ChildProcess } from 'node:child_process'
import { connect, createServer } from 'node:net'
import { fileURLToPath } from 'node:url'
import * as Y from 'yjs'
import { identityFromSeed, publicPart, randomBytes, randomKey, toBase64Url, type SecretKey } from '../src/crypto'
import { newDocId, SecureDoc } from '../src/doc'
import { BriefEditor } from '../src/model/brief'
import { newStageId } from '../src/model/stage'
import { createAppServer } from '../src/server/app-server'
import { startRedis } from '../tests/support/redis'
import type { FromPeer, PeerSetup, SignalingCount, ToPeer } from './go-peer'
import { quantile, type Row } from './table'

export type Variant = 'stock y-webrtc' | 'Blossom mesh' | 'Blossom mesh + relay'

export interface GoRun {
  readonly variant: Variant
  readonly n: number
  /** Join → every peer reachable from the core over WebRTC; undefined if it never happened in time. */
  readonly formedMs: number | undefined
  /** WebRTC connections per peer when the first release is sent. */
  readonly meanDegree: number
  /** Release → seal opened, per participant and release; Infinity where it never arrived. */
  readonly latencies: readonly number[]
  readonly signalingFramesPerPeer: number
  readonly signalingBytesPerPeer: number
}

const REVEAL_TIMEOUT_MS = 10_000
const FORM_TIMEOUT_MS = 30_000
const LOCATION = { text: 'The fountain on the north side of the square', lat: 52.52, lon: 13.405 }
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))
/** A peer process that died must not hang the benchmark. */
const inTime = <T>(p: Promise<T>, ms: number, what: string): Promise<T> =>
  Promise.race([p, sleep(ms).then(() => Promise.reject(new Error(`go benchmark: ${what} within ${ms / 1000} s`)))])
const now = (): number => performance.timeOrigin + performance.now()

/** What every phone holds before go, for `releases` sealed stages. */
function briefBeforeGo(kind: PeerSetup['kind'], releases: number, signalingUrl: string, serverRelay: boolean) {
  const stages = Array.from({ length: releases }, newStageId)
  const fields = { stagingPoint: 'The bakery on the corner of 5th and Main', bring: 'Water, a red scarf', conduct: 'Calm, no phones out', dispersal: 'Walk away in pairs' }
  const room = toBase64Url(randomBytes(16))
  if (kind === 'stock') {
    const doc = new Y.Doc()
    for (const [k, v] of Object.entries(fields)) doc.getMap('brief').set(k, v)
    const participant: PeerSetup = { kind, role: 'participant', signalingUrl, serverRelay, initial: Y.encodeStateAsUpdate(doc), stages, room }
    return { core: { ...participant, role: 'core' } as PeerSetup, participant }
  }
  const coreSeed = randomBytes(64)
  const core = identityFromSeed(coreSeed)
  const briefId = newDocId()
  const briefKey = randomKey()
  const stageKeys: SecretKey[] = stages.map(() => randomKey())
  const doc = new SecureDoc({ docId: briefId, keys: new Map([[0, briefKey]]), roster: { epoch: 0, writers: [publicPart(core)] }, identity: core })
  const editor = new BriefEditor(doc.plain, briefId)
  for (const [k, v] of Object.entries(fields)) editor.set(k as 'bring', v)
  stages.forEach((id, i) => editor.sealStage(id, 'location', stageKeys[i]!, LOCATION))
  doc.flush()
  const initial = Y.encodeStateAsUpdate(doc.transport)
  doc.destroy()
  const blossom = { briefId, briefKey, core: publicPart(core) }
  const participant: PeerSetup = { kind, role: 'participant', signalingUrl, serverRelay, initial, stages, room, blossom }
  return { core: { ...participant, role: 'core', blossom: { ...blossom, coreSeed, stageKeys } } as PeerSetup, participant }
}

async function freePort(): Promise<number> {
  const s = createServer()
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r))
  const { port } = s.address() as { port: number }
  await new Promise((r) => s.close(r))
  return port
}

const listening = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => (socket.destroy(), resolve(true)))
    socket.on('error', () => resolve(false))
  })

/** y-webrtc's own bin/server.js, unmodified, as a developer would run it. */
async function stockServer(): Promise<{ url: string; close(): Promise<void> }> {
  const port = await freePort()
  const script = fileURLToPath(new URL('../node_modules/y-webrtc-stock/bin/server.js', import.meta.url))
  const child = spawn(process.execPath, [script], { env: { ...process.env, PORT: String(port) }, stdio: 'ignore' })
  for (let i = 0; i < 100 && !(await listening(port)); i++) await sleep(50)
  return { url: `ws://127.0.0.1:${port}`, close: async () => void child.kill() }
}

async function blossomServer(dist: string, redisUrl?: string): Promise<{ url: string; close(): Promise<void> }> {
  const server = createAppServer({ host: '127.0.0.1', port: 0, distRoot: dist, ...(redisUrl ? { signaling: { cluster: { url: redisUrl } } } : {}) })
  const url = await server.listen()
  return { url: `${url.replace(/^http/, 'ws').replace(/\/$/, '')}/signal`, close: () => server.close() }
}

/** `count` Blossom servers; more than one share topics through a Redis of their own (src/server/cluster.ts). */
async function blossomServers(dist: string, count: number): Promise<{ urls: string[]; close(): Promise<void> }> {
  const redis = count > 1 ? await startRedis() : undefined
  const servers: { url: string; close(): Promise<void> }[] = []
  for (let i = 0; i < count; i++) servers.push(await blossomServer(dist, redis?.url))
  if (redis) await sleep(1_500) // the instances learn each other's counts
  return {
    urls: servers.map((s) => s.url),
    close: async () => {
      await Promise.all(servers.map((s) => s.close()))
      await redis?.stop()
    },
  }
}

class PeerProcess {
  readonly process: ChildProcess
  private readonly waiters: ((m: FromPeer) => boolean)[] = []
  /** Without `setup`, the process starts and waits for one (start()). */
  constructor(setup: PeerSetup | undefined, onMessage: (m: FromPeer) => void) {
    this.process = fork(fileURLToPath(new URL('./go-peer.ts', import.meta.url)), { execArgv: ['--import', 'tsx'], serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    if (setup) this.start(setup)
    this.process.on('message', (m: FromPeer) => {
      onMessage(m)
      for (let i = this.waiters.length - 1; i >= 0; i--) if (this.waiters[i]!(m)) this.waiters.splice(i, 1)
    })
  }
  start(setup: PeerSetup): void {
    this.send({ type: 'setup', setup })
  }
  get exited(): Promise<void> {
    return this.process.exitCode !== null ? Promise.resolve() : new Promise((r) => this.process.once('exit', () => r()))
  }
  send(m: ToPeer): void {
    this.process.send(m)
  }
  next<T extends FromPeer['type']>(type: T): Promise<Extract<FromPeer, { type: T }>> {
    return new Promise((resolve) => this.waiters.push((m) => m.type === type && (resolve(m as Extract<FromPeer, { type: T }>), true)))
  }
}

/** Is every peer reachable from every other over WebRTC connections (as either end reports them)? */
function connected(links: ReadonlyMap<string, ReadonlySet<string>>, n: number): boolean {
  if (links.size < n) return false
  const adjacent = new Map<string, Set<string>>()
  const add = (a: string, b: string): void => void (adjacent.get(a) ?? adjacent.set(a, new Set()).get(a)!).add(b)
  for (const [a, peers] of links) for (const b of peers) add(a, b), add(b, a)
  const start = links.keys().next().value!
  const seen = new Set([start])
  for (const stack = [start]; stack.length; ) for (const next of adjacent.get(stack.pop()!) ?? []) if (!seen.has(next)) seen.add(next), stack.push(next)
  return [...links.keys()].every((id) => seen.has(id))
}

/** With `instances` > 1 (Blossom only), peer i connects to instance i mod `instances`, all behind one Redis. */
export async function goRun(variant: Variant, n: number, releases: number, dist: string, settleMs = 2_000, instances = 1): Promise<GoRun> {
  const kind = variant === 'stock y-webrtc' ? 'stock' : 'blossom'
  const server = kind === 'stock' ? await stockServer().then((s) => ({ urls: [s.url], close: s.close })) : await blossomServers(dist, instances)
  const brief = briefBeforeGo(kind, releases, server.urls[0]!, variant === 'Blossom mesh + relay')
  const links = new Map<string, Set<string>>()
  const revealed = new Map<number, Map<number, number>>()
  let joinedAt = 0
  let formedAt: number | undefined
  const peers = Array.from({ length: n }, (_, i) => {
    const setup = { ...(i === 0 ? brief.core : brief.participant), signalingUrl: server.urls[i % server.urls.length]! }
    const peer: PeerProcess = new PeerProcess(setup, (m) => {
      if (m.type === 'peers') {
        links.set(m.self, new Set(m.peers))
        if (formedAt === undefined && connected(links, n)) formedAt = m.at
      } else if (m.type === 'revealed' && i > 0) {
        let at = revealed.get(m.stage)
        if (!at) revealed.set(m.stage, (at = new Map()))
        at.set(i, m.at)
      }
    })
    return peer
  })
  try {
    await inTime(Promise.all(peers.map((p) => p.next('ready'))), 120_000, `${n} peers did not start`)
    joinedAt = now()
    for (const p of peers) p.send({ type: 'join' })
    while (formedAt === undefined && now() - joinedAt < FORM_TIMEOUT_MS) await sleep(50)
    await sleep(settleMs) // let the first connections settle, as a crowd gathering at the staging point would
    const meanDegree = [...links.values()].reduce((s, l) => s + l.size, 0) / n
    const latencies: number[] = []
    for (let stage = 0; stage < releases; stage++) {
      const released = peers[0]!.next('released')
      peers[0]!.send({ type: 'release', stage })
      const { at } = await inTime(released, 10_000, 'the core did not release')
      while ((revealed.get(stage)?.size ?? 0) < n - 1 && now() - at < REVEAL_TIMEOUT_MS) await sleep(20)
      for (let i = 1; i < n; i++) latencies.push((revealed.get(stage)?.get(i) ?? Number.POSITIVE_INFINITY) - at)
      await sleep(500)
    }
    const counts = await inTime(Promise.all(peers.map((p) => (p.send({ type: 'leave' }), p.next('left')))), 10_000, 'peers did not leave')
    const total = (f: (c: SignalingCount) => number): number => counts.reduce((s, c) => s + f(c.signaling), 0) / n
    return {
      variant,
      n,
      formedMs: formedAt === undefined ? undefined : formedAt - joinedAt,
      meanDegree,
      latencies,
      signalingFramesPerPeer: total((c) => c.framesSent + c.framesReceived),
      signalingBytesPerPeer: total((c) => c.bytesSent + c.bytesReceived),
    }
  } finally {
    // Peers exit by themselves after 'leave'; any that do not are stopped.
    await Promise.race([Promise.all(peers.map((p) => p.exited)), sleep(3_000)])
    for (const p of peers) p.process.kill()
    await server.close()
  }
}

const within = (xs: readonly number[], ms: number): number => (100 * xs.filter((x) => x <= ms).length) / xs.length

/** One block of rows per N: each Blossom variant against stock y-webrtc. */
export async function goRows(dist: string, quick: boolean): Promise<Row[]> {
  const rows: Row[] = []
  const releases = quick ? 1 : 5
  for (const n of quick ? [10] : [10, 30, 50]) {
    const settleMs = quick ? 500 : 2_000
    const stock = await goRun('stock y-webrtc', n, releases, dist, settleMs)
    // The quick run measures the default (mesh + server relay) only.
    for (const variant of quick ? (['Blossom mesh + relay'] as const) : (['Blossom mesh', 'Blossom mesh + relay'] as const)) {
      const run = await goRun(variant, n, releases, dist, settleMs)
      const row = (figure: string, unit: string, f: (r: GoRun) => number): Row => ({ figure: `N=${n}, ${variant}: ${figure}`, value: f(run), unit, baseline: f(stock), baselineName: 'stock y-webrtc' })
      const samples = `${releases} release${releases > 1 ? 's' : ''} × ${n - 1} participants`
      rows.push(
        row(`go → seal opened, median of ${samples}`, 'ms', (r) => quantile(r.latencies, 0.5)),
        row('go → seal opened, p99', 'ms', (r) => quantile(r.latencies, 0.99)),
        row('go → seal opened, max', 'ms', (r) => quantile(r.latencies, 1)),
        row('opened within 1 s', '%', (r) => within(r.latencies, 1_000)),
        row('opened within 5 s', '%', (r) => within(r.latencies, 5_000)),
        row('room formed (every peer reachable over WebRTC) after joining', 'ms', (r) => r.formedMs ?? Number.POSITIVE_INFINITY),
        row('WebRTC connections per peer', '', (r) => r.meanDegree),
        row('signaling frames per peer, both ways, join to leave', '', (r) => r.signalingFramesPerPeer),
        row('signaling bytes per peer, both ways', 'KiB', (r) => r.signalingBytesPerPeer / 1024),
      )
    }
  }
  // Phones split across three instances behind Redis, against one instance (the same machine: two cores).
  if (!quick) {
    const n = 50
    const one = await goRun('Blossom mesh + relay', n, releases, dist)
    const three = await goRun('Blossom mesh + relay', n, releases, dist, 2_000, 3)
    const row = (figure: string, unit: string, f: (r: GoRun) => number): Row => ({ figure: `N=${n}, Blossom mesh + relay, phones split over three instances behind Redis: ${figure}`, value: f(three), unit, baseline: f(one), baselineName: 'one instance' })
    rows.push(
      row('go → seal opened, median', 'ms', (r) => quantile(r.latencies, 0.5)),
      row('go → seal opened, p99', 'ms', (r) => quantile(r.latencies, 0.99)),
      row('opened within 1 s', '%', (r) => within(r.latencies, 1_000)),
      row('room formed after joining', 'ms', (r) => r.formedMs ?? Number.POSITIVE_INFINITY),
    )
  }
  return rows
}

// --- Opening without the core --------------------------------------------------------------
// Every core phone gone; N participants in the brief room (real WebRTC mesh + the server relay).
// Marshals: two of three marshals release; from the k-th marshal's piece to the seal opened on
// every other phone. Time lock: the test beacon (drand-compatible, 127.0.0.1) publishes the round
// behind the app server's /drand proxy at its time; from then to the seal opened on every phone.

export type WithoutCoreWay = 'marshals (2 of 3)' | 'time lock (drand)'

export async function withoutCoreRun(way: WithoutCoreWay, n: number, dist: string, settleMs: number): Promise<{ latencies: number[]; formedMs: number | undefined }> {
  const { startTestBeacon } = await import('../tests/support/test-beacon')
  const { splitStageKey } = await import('../src/model/quorum')
  const { roundAt, roundTime, timelockStageKey } = await import('../src/model/timelock')
  const { stageKeyId } = await import('../src/model/stage')
  const beacon = way === 'time lock (drand)' ? await startTestBeacon({ period: 3 }) : undefined
  // The server shares this process with the driver, whose event loop lags under fifty peers' reports:
  // that lag is not the server's load, so its overload shedding is off here (as in the tests).
  const server = createAppServer({ host: '127.0.0.1', port: 0, distRoot: dist, signaling: { overloadLagMs: 60_000 }, ...(beacon ? { drand: { upstreams: [beacon.url], chain: beacon.chain.hash } } : {}) })
  const http = (await server.listen()).replace(/\/$/, '')
  const signalingUrl = `${http.replace(/^http/, 'ws')}/signal`
  const marshalSeeds = way === 'marshals (2 of 3)' ? [randomBytes(64), randomBytes(64), randomBytes(64)] : []
  const links = new Map<string, Set<string>>()
  const revealed = new Map<number, number>()
  let formedAt: number | undefined
  // Processes start first (booting tsx is the slow part); the brief, with its lock to a round, after.
  const peers = Array.from({ length: n }, (_, i) =>
    new PeerProcess(undefined, (m) => {
      if (m.type === 'peers') {
        links.set(m.self, new Set(m.peers))
        if (formedAt === undefined && connected(links, n)) formedAt = m.at
      } else if (m.type === 'revealed') revealed.set(i, m.at)
    }),
  )
  try {
    const core = identityFromSeed(randomBytes(64))
    const briefId = newDocId()
    const briefKey = randomKey()
    const stageKey = randomKey()
    const stage = newStageId()
    const doc = new SecureDoc({ docId: briefId, keys: new Map([[0, briefKey]]), roster: { epoch: 0, writers: [publicPart(core)] }, identity: core })
    const editor = new BriefEditor(doc.plain, briefId)
    editor.set('stagingPoint', 'The bakery on the corner of 5th and Main')
    editor.sealStage(stage, 'location', stageKey, LOCATION)
    // Go once every phone has started and joined (a crowd at the staging point well before go).
    const goAt = Date.now() + (n > 20 ? 60_000 : 25_000)
    const round = beacon ? roundAt(beacon.chain, goAt) : 0
    if (beacon) editor.setTimelock(stage, await timelockStageKey(stageKey, briefId, stage, beacon.chain, goAt), stageKeyId(stageKey))
    else editor.setQuorum(stage, await splitStageKey(stageKey, briefId, stage, 2, marshalSeeds.map((s) => publicPart(identityFromSeed(s)))))
    doc.flush()
    const initial = Y.encodeStateAsUpdate(doc.transport)
    doc.destroy()
    peers.forEach((p, i) =>
      p.start({
        kind: 'blossom',
        role: 'participant',
        signalingUrl,
        serverRelay: true,
        initial,
        stages: [stage],
        room: toBase64Url(randomBytes(16)),
        blossom: { briefId, briefKey, core: publicPart(core), withoutCore: { drand: `${http}/drand`, ...(marshalSeeds[i] ? { marshalSeed: marshalSeeds[i] } : {}) } },
      }),
    )
    await inTime(Promise.all(peers.map((p) => p.next('ready'))), 120_000, `${n} peers did not start`)
    const joinedAt = now()
    for (const p of peers) p.send({ type: 'join' })
    while (formedAt === undefined && now() - joinedAt < FORM_TIMEOUT_MS) await sleep(50)
    // A marshal's phone online all along: longer than the wait after coming online (without-core.ts SETTLE_MS, 4 s).
    await sleep(beacon ? settleMs : Math.max(settleMs, 5_000))
    let from: number
    let waitingOn: number[]
    if (beacon) {
      // drand publishes the round at its time; phones ask for it from then (each within a second).
      const at = roundTime(beacon.chain, round)
      if (Date.now() > at) throw new Error('without-core benchmark: the phones were not ready before go')
      await sleep(at - Date.now())
      beacon.publish(round)
      from = now()
      waitingOn = peers.map((_, i) => i)
    } else {
      // The first marshal releases; a moment later the second, the k-th: from its piece.
      peers[0]!.send({ type: 'offer' })
      await inTime(peers[0]!.next('released'), 10_000, 'the first marshal did not release')
      await sleep(1_000)
      const kth = peers[1]!.next('released')
      peers[1]!.send({ type: 'offer' })
      from = (await inTime(kth, 10_000, 'the second marshal did not release')).at
      waitingOn = peers.map((_, i) => i).filter((i) => i !== 1)
    }
    while (waitingOn.some((i) => !revealed.has(i)) && now() - from < REVEAL_TIMEOUT_MS * 3) await sleep(20)
    const latencies = waitingOn.map((i) => (revealed.get(i) ?? Number.POSITIVE_INFINITY) - from)
    await inTime(Promise.all(peers.map((p) => (p.send({ type: 'leave' }), p.next('left')))), 10_000, 'peers did not leave')
    return { latencies, formedMs: formedAt === undefined ? undefined : formedAt - joinedAt }
  } finally {
    await Promise.race([Promise.all(peers.map((p) => p.exited)), sleep(3_000)])
    for (const p of peers) p.process.kill()
    await server.close()
    await beacon?.close()
  }
}

export async function withoutCoreRows(dist: string, quick: boolean): Promise<Row[]> {
  const rows: Row[] = []
  const n = quick ? 10 : 50
  for (const way of ['marshals (2 of 3)', 'time lock (drand)'] as const) {
    const run = await withoutCoreRun(way, n, dist, quick ? 500 : 2_000)
    const from = way === 'time lock (drand)' ? 'beacon published' : 'k-th marshal released'
    rows.push(
      { figure: `N=${n}, ${way}: ${from} → seal opened, median of ${run.latencies.length} phones`, value: quantile(run.latencies, 0.5), unit: 'ms' },
      { figure: `N=${n}, ${way}: p99`, value: quantile(run.latencies, 0.99), unit: 'ms' },
      { figure: `N=${n}, ${way}: max`, value: quantile(run.latencies, 1), unit: 'ms' },
      { figure: `N=${n}, ${way}: opened within 5 s`, value: within(run.latencies, 5_000), unit: '%' },
    )
  }
  // One phone's own work at go, apart from the crowd sharing this machine's two cores.
  const { startTestBeacon } = await import('../tests/support/test-beacon')
  const { openTimelock, roundAt, timelockStageKey, warmUp } = await import('../src/model/timelock')
  const beacon = await startTestBeacon({ period: 3 })
  try {
    const briefId = newDocId()
    const stage = newStageId()
    const goAt = Date.now()
    const sealed = await timelockStageKey(randomKey(), briefId, stage, beacon.chain, goAt)
    const b = beacon.beacon(roundAt(beacon.chain, goAt))
    await warmUp(beacon.chain)
    const times: number[] = []
    for (let i = 0; i < 20; i++) {
      const t = now()
      await openTimelock(sealed, b, briefId, stage)
      times.push(now() - t)
    }
    rows.push({ figure: 'one phone opening a time lock with a beacon (check by opening, one pairing), this machine, median of 20', value: quantile(times, 0.5), unit: 'ms' })
  } finally {
    await beacon.close()
  }
  return rows
}
