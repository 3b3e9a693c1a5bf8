// Go now in a campaign: one coordinator gives the order; every other coordinator's phone gets it
// through the campaign's room, checks it and releases its own cell's location in its brief; every
// participant's phone gets that release through its cell's room and opens the location. From the
// order written to each participant's reveal, in two hops: the campaign hop (order → each
// coordinator released) and the cell hop (its coordinator's release → seal opened).
//
// Simulated (20 cells × 100 participants): every phone runs the real code (bench/campaign-cell.ts:
// the campaign document and the model's Campaign seat folding the signed orders; each brief a real
// SecureDoc; each participant a real SecureDoc and BriefView) over go-sim's simulated network, in
// virtual time, each phone's CPU busy 4× as long as its real processing took here. Nothing is
// shared or estimated: 20 coordinators and 2,000 participants each process every message they get.
//
// Real (3 cells): Chromium pages (Debian's, through playwright-core) over real WebRTC and the app's
// own signaling server and relay on 127.0.0.1, each phone in a browser context of its own.
// Asserts nothing.
import path from 'node:path'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import * as Y from 'yjs'
import { fromBase64Url, newIdentity } from '../src/crypto'
import { SecureDoc } from '../src/doc'
import { accessFromJson } from '../src/model/access'
import type { StageId } from '../src/model/stage'
import { createAppServer } from '../src/server/app-server'
import { IN_PROCESS_SIGNALING, launch } from '../tests/browser/harness'
import { buildTestPage, relativeTo, removeTestPage, ROOT, type TestPage } from '../tests/support/vite'
import { campaignBeforeGo, settled } from './campaign-cell'
import type { CampaignPage, PageTransport } from './campaign-page'
import { Agenda, arrivals, CROWDED, mesh, participantPhone, prng, spread, type SimNetwork } from './go-sim'
import { quantile, type Row } from './table'

export interface CampaignRun {
  /** Go now → seal opened, per participant of every cell, ms; Infinity where it never opened. */
  readonly reveals: readonly number[]
  /** Go now → each other coordinator released its cell's location (the campaign hop), ms. */
  readonly released: readonly number[]
  /** Its own coordinator's release → seal opened, per participant (the cell hop), ms. */
  readonly cellHop: readonly number[]
}

// --- Simulated ---------------------------------------------------------------------------------

/**
 * Coordinator 0 gives Go now at virtual time 0. The campaign's room is a mesh of the coordinators,
 * each cell's a mesh of its coordinator and participants, all with `network`'s links and CPUs.
 */
export async function simulateCampaignGo(cells: number, participants: number, network: SimNetwork, seed = 1): Promise<CampaignRun> {
  const coordinators = await campaignBeforeGo(cells)
  const before = coordinators.map((c) => c.participant())
  const random = prng(seed)
  const links = mesh(cells, network.degree, random)
  const arrival = arrivals(network, random)
  const busyUntil = new Float64Array(cells)
  const releasedAt = new Float64Array(cells).fill(Number.POSITIVE_INFINITY)
  const releases: (Uint8Array | undefined)[] = []
  const isNew = coordinators.map((c) => {
    const seen = { yes: false }
    c.campaignDoc.transport.on('update', () => (seen.yes = true))
    return seen
  })
  /**
   * One coordinator's turn on its one CPU from `start`: `work` (the order, or a message from the
   * campaign's room), forwarded once done; then its seat acts on the campaign (a microtask, as in
   * the app), and what that wrote to the brief goes to the cell once done.
   */
  const turn = async (i: number, start: number, work: () => boolean): Promise<{ forward: boolean; at: number }> => {
    const t = performance.now()
    const forward = work()
    const at = start + network.cpuFactor * (performance.now() - t)
    await settled()
    busyUntil[i] = start + network.cpuFactor * (performance.now() - t)
    const release = coordinators[i]!.takeWritten()
    if (release && releases[i] === undefined) {
      releases[i] = release
      releasedAt[i] = busyUntil[i]!
    }
    return { forward, at }
  }
  const agenda = new Agenda<{ to: number; from: number; update: Uint8Array }>()
  let order: Uint8Array = new Uint8Array(0)
  const given = await turn(0, 0, () => {
    const doc = coordinators[0]!.campaignDoc.transport
    const written: Uint8Array[] = []
    const keep = (u: Uint8Array): number => written.push(u)
    doc.on('update', keep)
    coordinators[0]!.campaign.order('go')
    doc.off('update', keep)
    order = Y.mergeUpdates(written)
    return true
  })
  for (const to of links[0]!) agenda.push(arrival(0, to, given.at), { to, from: 0, update: order })
  while (agenda.size) {
    const { at, item } = agenda.pop()
    if (item.to === 0) continue // the order's own phone
    const { forward, at: sentAt } = await turn(item.to, Math.max(at, busyUntil[item.to]!), () => {
      isNew[item.to]!.yes = false
      Y.applyUpdate(coordinators[item.to]!.campaignDoc.transport, item.update)
      return isNew[item.to]!.yes
    })
    if (forward) for (const to of links[item.to]!) if (to !== item.from) agenda.push(arrival(item.to, to, sentAt), { to, from: item.to, update: item.update })
  }
  await Promise.all(coordinators.map((c) => c.close()))

  // Each cell on its own: its coordinator (phone 0 of the cell) sends its release when it made it.
  const reveals: number[] = []
  const cellHop: number[] = []
  for (let c = 0; c < cells; c++) {
    const cellRandom = prng(seed * 7919 + c + 1)
    const cellLinks = mesh(participants + 1, network.degree, cellRandom)
    const access = accessFromJson(before[c]!.brief)
    const initial = fromBase64Url(before[c]!.briefDoc)
    const phones = Array.from({ length: participants }, () =>
      participantPhone(new SecureDoc({ docId: access.docId, keys: access.keys, roster: access.roster, identity: newIdentity() }), access.docId, before[c]!.stage as StageId, initial),
    )
    const release = releases[c]
    const revealedAt = release ? spread(phones, cellLinks, network, cellRandom, releasedAt[c]!, release) : new Float64Array(participants + 1).fill(Number.POSITIVE_INFINITY)
    for (let i = 1; i <= participants; i++) {
      reveals.push(revealedAt[i]!)
      cellHop.push(revealedAt[i]! - releasedAt[c]!)
    }
  }
  return { reveals, released: Array.from(releasedAt.subarray(1)), cellHop }
}

const opened = (xs: readonly number[]): number => xs.filter(Number.isFinite).length

/** The reveal rows of a run: Go now → seal opened against the cell hop alone (what one cell sees of its own go). */
function campaignRows(label: string, run: CampaignRun): Row[] {
  const against = (figure: string, q: number): Row => ({ figure: `${label}: ${figure}`, value: quantile(run.reveals, q), unit: 'ms', baseline: quantile(run.cellHop, q), baselineName: "cell hop alone: coordinator's release → seal opened" })
  const coordinators = run.released.length
  return [
    against(`Go now → seal opened, median of ${run.reveals.length} participants`, 0.5),
    against('Go now → seal opened, p99', 0.99),
    against('Go now → seal opened, max', 1),
    { figure: `${label}: campaign hop, Go now → coordinator released its cell, median of ${coordinators}`, value: quantile(run.released, 0.5), unit: 'ms' },
    { figure: `${label}: campaign hop, max`, value: quantile(run.released, 1), unit: 'ms' },
    { figure: `${label}: participants who opened the seal, of ${run.reveals.length}`, value: (100 * opened(run.reveals)) / run.reveals.length, unit: '%' },
  ]
}

export async function campaignSimRows(quick: boolean): Promise<Row[]> {
  const rows: Row[] = []
  // y-webrtc's own mesh shape, and Blossom's bounded one (targetConns 6, maxConns 20), as in go-sim.
  for (const degree of quick ? ([[6, 20]] as const) : ([[20, 34], [6, 20]] as const)) {
    const run = await simulateCampaignGo(20, 100, { ...CROWDED, degree })
    rows.push(...campaignRows(`20 cells × 100 participants, ${degree[0]}–${degree[1]} connections per phone`, run))
  }
  return rows
}

// --- Real WebRTC, Chromium -----------------------------------------------------------------------

const FORM_TIMEOUT_MS = 30_000
const REVEAL_TIMEOUT_MS = 10_000
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

const MAIN_TS = (bench: string): string => `import '${bench}/campaign-page.ts'\n`
const INDEX_HTML = `<!doctype html>
<html lang="en">
  <head><meta charset="utf-8" /><title>Campaign benchmark phone</title></head>
  <body><script type="module" src="./main.ts"></script></body>
</html>
`
/** As vite.config.ts: y-webrtc over the app's simple-peer stand-in. */
const VITE_CONFIG = (peer: string): string => `
export default {
  root: import.meta.dirname,
  cacheDir: import.meta.dirname + '/.vite-cache',
  logLevel: 'warn',
  resolve: { alias: { 'simple-peer/simplepeer.min.js': ${JSON.stringify(peer)} } },
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', chunkSizeWarningLimit: 4096 },
}
`

interface Phone {
  readonly context: BrowserContext
  readonly page: Page
}

async function openPhone(browser: Browser, origin: string): Promise<Phone> {
  const context = await browser.newContext()
  context.setDefaultTimeout(FORM_TIMEOUT_MS)
  // Chromium gathers usable host candidates for loopback only with a media permission (as tests/browser/harness.ts).
  await context.grantPermissions(['microphone', 'camera'], { origin })
  const page = await context.newPage()
  await page.goto(`${origin}/`)
  await page.locator('body[data-ready="yes"]').waitFor({ state: 'attached' })
  return { context, page }
}

type Query = 'peers' | 'go' | 'releasedAt' | 'revealedAt' | 'errors' | 'leave'
/** Calls one of the page's own functions (campaign-page.ts) in the page. */
const call = <K extends Query>(phone: Phone, name: K): Promise<ReturnType<CampaignPage[K]>> =>
  phone.page.evaluate((n) => (window as unknown as { campaign: Record<string, () => unknown> }).campaign[n]!(), name) as Promise<ReturnType<CampaignPage[K]>>

/**
 * `reps` times: a new campaign of `cells` cells (one coordinator page and `participants`
 * participant pages each) joins its rooms; once every room is fully connected and has settled a
 * second, one coordinator (in turn) gives Go now.
 */
export async function campaignWebrtcRun(cells: number, participants: number, reps: number, serverRelay: boolean, page: TestPage): Promise<CampaignRun & { formedMs: number[] }> {
  const server = createAppServer({ host: '127.0.0.1', port: 0, distRoot: page.dist, signaling: IN_PROCESS_SIGNALING })
  const origin = (await server.listen()).replace(/\/$/, '')
  const transport: PageTransport = { signalingUrl: `${origin.replace(/^http/, 'ws')}/signal`, serverRelay }
  const browser = await launch()
  const reveals: number[] = []
  const released: number[] = []
  const cellHop: number[] = []
  const formedMs: number[] = []
  try {
    const coordinators: Phone[] = []
    const members: Phone[][] = []
    for (let c = 0; c < cells; c++) {
      coordinators.push(await openPhone(browser, origin))
      const cell: Phone[] = []
      for (let p = 0; p < participants; p++) cell.push(await openPhone(browser, origin))
      members.push(cell)
    }
    const everyone = [...coordinators, ...members.flat()]
    for (let rep = 0; rep < reps; rep++) {
      const campaign = await campaignBeforeGo(cells)
      const states = campaign.map((c) => ({ coordinator: c.save(), participant: c.participant() }))
      await Promise.all(campaign.map((c) => c.close()))
      const joined = Date.now()
      await Promise.all(states.map((s, c) => coordinators[c]!.page.evaluate(([s, t]) => (window as unknown as { campaign: CampaignPage }).campaign.coordinator(s, t), [s.coordinator, transport] as const)))
      await Promise.all(members.flatMap((cell, c) => cell.map((p) => p.page.evaluate(([s, t]) => (window as unknown as { campaign: CampaignPage }).campaign.participant(s, t), [states[c]!.participant, transport] as const))))
      // Formed: every coordinator connected to every other, and each cell's phones to each other (rooms this small are full meshes).
      const full = async (): Promise<boolean> => {
        const peers = await Promise.all(everyone.map((p) => call(p, 'peers')))
        return peers.every((ps, i) => (i < cells ? ps[0] === cells - 1 && ps[1] === participants : ps[0] === participants))
      }
      while (!(await full()) && Date.now() - joined < FORM_TIMEOUT_MS) await sleep(50)
      formedMs.push((await full()) ? Date.now() - joined : Number.POSITIVE_INFINITY)
      await sleep(1_000)
      const giver = coordinators[rep % cells]!
      const goAt = await call(giver, 'go')
      const revealedAt = (p: Phone): Promise<number | undefined> => call(p, 'revealedAt')
      while ((await Promise.all(members.flat().map(revealedAt))).some((at) => at === undefined) && Date.now() - goAt < REVEAL_TIMEOUT_MS) await sleep(50)
      for (let c = 0; c < cells; c++) {
        const releasedAt = (await call(coordinators[c]!, 'releasedAt')) ?? Number.POSITIVE_INFINITY
        if (coordinators[c] !== giver) released.push(releasedAt - goAt)
        for (const p of members[c]!) {
          const at = (await revealedAt(p)) ?? Number.POSITIVE_INFINITY
          reveals.push(at - goAt)
          cellHop.push(at - releasedAt)
        }
      }
      const errors = (await Promise.all(everyone.map((p) => call(p, 'errors')))).flat()
      if (errors.length) throw new Error(`campaign benchmark: a phone failed: ${errors[0]}`)
      await Promise.all(everyone.map((p) => call(p, 'leave')))
      await sleep(500)
    }
    return { reveals, released, cellHop, formedMs }
  } finally {
    await browser.close()
    await server.close()
  }
}

/** Builds the phones' page (Vite) once, for every real run. */
async function campaignPage(): Promise<TestPage> {
  return buildTestPage(
    'the campaign benchmark page',
    (dir) => ({ 'index.html': INDEX_HTML, 'main.ts': MAIN_TS(relativeTo(dir, 'bench')), 'vite.config.mjs': VITE_CONFIG(path.join(ROOT, 'src', 'transport', 'peer.ts')) }),
    120_000,
  )
}

export async function campaignWebrtcRows(quick: boolean): Promise<Row[]> {
  const cells = 3
  const participants = 3
  const reps = quick ? 2 : 5
  const page = await campaignPage()
  try {
    const rows: Row[] = []
    for (const serverRelay of quick ? [true] : [true, false]) {
      const run = await campaignWebrtcRun(cells, participants, reps, serverRelay, page)
      const label = `${cells} cells × ${participants} participants, ${serverRelay ? 'mesh + relay' : 'mesh only'}, ${reps} campaigns`
      rows.push(...campaignRows(label, run), { figure: `${label}: rooms formed after joining, median`, value: quantile(run.formedMs, 0.5), unit: 'ms' })
    }
    return rows
  } finally {
    await removeTestPage(page.dir)
  }
}
