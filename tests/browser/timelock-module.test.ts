// Timelock in real Chromium with no network: src/model/timelock.ts (tlock-js, @noble/curves) built
// by Vite into a tiny page, served by the app's own server (createAppServer: the release's CSP,
// connect-src 'self'), whose /drand/ proxy is in front of the test beacon on 127.0.0.1. The page
// seals a stage key to a round, waits for it through fetchBeacon (asking only 'latest' until the
// round is history), refuses an early and a forged beacon, and opens with the real one. Boxes made
// in Node open in the browser and the other way round. tlock-js and the curves load lazily: the
// entry chunk holds none of them, and their chunks are fetched only when a time lock is used.
//
// The app does not use time locks yet, so the test builds its own page, as qr.test.ts does.
// Run with `npm run test:browser` (private network namespace; only loopback exists).
import { randomBytes } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { gzipSync } from 'node:zlib'
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cryptoReady, type DocId, type SecretKey } from '../../src/crypto'
import type { StageId } from '../../src/model/stage'
import { openTimelock, timelockStageKey, type Beacon, type DrandChain, type SealedTimelock } from '../../src/model/timelock'
import { createAppServer, type AppServer } from '../../src/server/app-server'
import { startTestBeacon, type TestBeacon } from '../support/test-beacon'
import { buildTestPage, relativeTo, removeTestPage, type TestPage } from '../support/vite'
import { IN_PROCESS_SIGNALING } from './harness'

const WAIT_MS = 30_000
const BUILD_TIMEOUT_MS = 90_000

// What the test page (main.ts below) puts on window.
interface TimelockTestApi {
  ready: Promise<void>
  violations: string[]
  seal(keyHex: string, brief: string, stage: string, chain: DrandChain, goAt: number): Promise<SealedTimelock>
  /** The key as hex, or the TimelockError's problem (or 'raw: …' for anything else). */
  open(sealed: SealedTimelock, beacon: Beacon, brief: string, stage: string): Promise<string>
  fetch(chain: DrandChain, round: number): Promise<Beacon | null | string>
  verify(chain: DrandChain, beacon: Beacon): Promise<boolean>
}
type TestWindow = Window & { tl: TimelockTestApi }

const MAIN_TS = (src: string): string => `
import { cryptoReady, fromHex, toHex } from '${src}/crypto'
import { fetchBeacon, openTimelock, timelockStageKey, TimelockError, verifyBeacon } from '${src}/model/timelock'

const violations = []
document.addEventListener('securitypolicyviolation', (e) => violations.push(e.violatedDirective + ' ' + e.blockedURI))
const problem = (e) => (e instanceof TimelockError ? e.problem : 'raw: ' + String(e))
window.tl = {
  ready: cryptoReady(),
  violations,
  seal: (keyHex, brief, stage, chain, goAt) => timelockStageKey(fromHex(keyHex), brief, stage, chain, goAt),
  open: (sealed, beacon, brief, stage) => openTimelock(sealed, beacon, brief, stage).then((k) => toHex(k), problem),
  fetch: (chain, round) => fetchBeacon('/drand', chain, round).then((b) => b ?? null, problem),
  verify: (chain, beacon) => verifyBeacon(chain, beacon),
}
await window.tl.ready
document.body.dataset['ready'] = 'yes'
`

const INDEX_HTML = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>Timelock test page</title>
  </head>
  <body>
    <script type="module" src="./main.ts"></script>
  </body>
</html>
`

const VITE_CONFIG = `
export default {
  root: import.meta.dirname,
  cacheDir: import.meta.dirname + '/.vite-cache',
  logLevel: 'warn',
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', manifest: true },
}
`


type Chunk = { file: string; src?: string; isEntry?: boolean; imports?: string[]; dynamicImports?: string[] }

/** The entry chunk with its static imports, and every other JS chunk of the page (the lazy ones). */
async function chunks(dist: string): Promise<{ firstLoad: string[]; lazy: string[] }> {
  const manifest = JSON.parse(await readFile(path.join(dist, '.vite', 'manifest.json'), 'utf8')) as Record<string, Chunk>
  const entryKey = Object.keys(manifest).find((k) => manifest[k]!.isEntry)!
  const firstLoad = new Set<string>()
  const walk = (key: string): void => {
    const chunk = manifest[key]!
    if (firstLoad.has(chunk.file)) return
    firstLoad.add(chunk.file)
    for (const i of chunk.imports ?? []) walk(i)
  }
  walk(entryKey)
  const lazy = [...new Set(Object.values(manifest).map((c) => c.file))].filter((f) => f.endsWith('.js') && !firstLoad.has(f))
  return { firstLoad: [...firstLoad], lazy }
}

// ---------------------------------------------------------------------------------------------

let page: TestPage
let beacon: TestBeacon
let server: AppServer
let origin: string
let browser: Browser

beforeAll(async () => {
  await cryptoReady()
  page = await buildTestPage('the time lock test page', (dir) => ({ 'index.html': INDEX_HTML, 'main.ts': MAIN_TS(relativeTo(dir, 'src')), 'vite.config.mjs': VITE_CONFIG }), BUILD_TIMEOUT_MS)
  beacon = await startTestBeacon()
  server = createAppServer({ host: '127.0.0.1', port: 0, distRoot: page.dist, signaling: IN_PROCESS_SIGNALING, drand: { upstreams: [beacon.url] } })
  origin = (await server.listen()).replace(/\/$/, '')
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    timeout: WAIT_MS,
  })
})

afterAll(async () => {
  await browser?.close().catch(() => undefined)
  await server?.close().catch(() => undefined)
  await beacon?.close().catch(() => undefined)
  if (page) await removeTestPage(page.dir)
})

async function open(): Promise<{ context: BrowserContext; tab: Page; requests: string[]; errors: string[] }> {
  const context = await browser.newContext()
  context.setDefaultTimeout(WAIT_MS)
  const requests: string[] = []
  const errors: string[] = []
  context.on('request', (r) => requests.push(r.url()))
  const tab = await context.newPage()
  tab.on('pageerror', (e) => errors.push(String(e)))
  await tab.goto(origin + '/')
  await tab.locator('body[data-ready="yes"]').waitFor({ state: 'attached' })
  return { context, tab, requests, errors }
}

// The page's functions, called in the page (playwright passes the arguments as JSON).
const tl = (tab: Page) => ({
  seal: (keyHex: string, brief: string, stage: string, chain: DrandChain, goAt: number) =>
    tab.evaluate(([k, b, s, c, g]) => (window as unknown as TestWindow).tl.seal(k, b, s, c, g), [keyHex, brief, stage, chain, goAt] as const),
  open: (sealed: SealedTimelock, b: Beacon, brief: string, stage: string) =>
    tab.evaluate(([s, bc, br, st]) => (window as unknown as TestWindow).tl.open(s, bc, br, st), [sealed, b, brief, stage] as const),
  fetch: (chain: DrandChain, round: number) => tab.evaluate(([c, r]) => (window as unknown as TestWindow).tl.fetch(c, r), [chain, round] as const),
  verify: (chain: DrandChain, b: Beacon) => tab.evaluate(([c, bc]) => (window as unknown as TestWindow).tl.verify(c, bc), [chain, b] as const),
})

const ids = (): { brief: DocId; stage: StageId } => ({ brief: randomBytes(32).toString('base64url') as DocId, stage: randomBytes(16).toString('base64url') as StageId })

describe('timelock in Chromium', () => {
  it('seals to go time, opens only with the round’s real beacon fetched through /drand, and loads tlock-js lazily', async () => {
    const { firstLoad, lazy } = await chunks(page.dist)
    const read = async (files: string[]): Promise<Buffer> => Buffer.concat(await Promise.all(files.map((f) => readFile(path.join(page.dist, f)))))
    const entryCode = (await read(firstLoad)).toString('utf8')
    // The entry holds neither tlock-js nor the curves (their code names the IBE hashes and DSTs).
    expect(entryCode).not.toContain('IBE-H3')
    expect(entryCode).not.toContain('BLS12381G2_XMD')
    const lazyCode = await read(lazy)
    expect(lazyCode.toString('utf8')).toContain('IBE-H3')
    console.log(`timelock lazy chunks: ${lazy.length} files, ${(lazyCode.length / 1024).toFixed(1)} KiB, ${(gzipSync(lazyCode).length / 1024).toFixed(1)} KiB gzip`)

    const phone = await open()
    const { tab, requests } = phone
    const inPage = tl(tab)
    expect(lazy.some((f) => requests.some((u) => u.endsWith(f)))).toBe(false)

    const { brief, stage } = ids()
    const keyHex = randomBytes(32).toString('hex')
    const chain = beacon.chain
    const sealed = await inPage.seal(keyHex, brief, stage, chain, Date.now() + 60_000)
    expect(sealed.box).toContain('BEGIN AGE ENCRYPTED FILE')
    expect(lazy.some((f) => requests.some((u) => u.endsWith(f)))).toBe(true)

    // Before go: the chain is at the round before. The page learns nothing, and never names the round.
    beacon.publish(sealed.round - 1)
    const asked = beacon.requests.length
    expect(await inPage.fetch(chain, sealed.round)).toBeNull()
    expect(beacon.requests.slice(asked)).toEqual([`/${chain.hash}/public/latest`])
    expect(requests.filter((u) => u.includes('/drand/'))).toEqual([`${origin}/drand/${chain.hash}/public/latest`])
    expect(await inPage.open(sealed, beacon.beacon(sealed.round - 1), brief, stage)).toBe('wrong-round')
    expect(await inPage.open(sealed, beacon.forge(sealed.round), brief, stage)).toBe('forged-beacon')
    expect(await inPage.verify(chain, beacon.forge(sealed.round))).toBe(false)

    // After go.
    beacon.publish(sealed.round + 2)
    await new Promise((resolve) => setTimeout(resolve, 1_100)) // the proxy keeps 'latest' for a second
    const got = await inPage.fetch(chain, sealed.round)
    expect(got).toEqual(beacon.beacon(sealed.round))
    expect(await inPage.verify(chain, got as Beacon)).toBe(true)
    expect(await inPage.open(sealed, got as Beacon, brief, stage)).toBe(keyHex)
    expect(await inPage.open(sealed, got as Beacon, brief, ids().stage)).toBe('wrong-key')

    // Made in the browser, opened in Node; made in Node, opened in the browser.
    const inNode = await openTimelock(sealed, beacon.beacon(sealed.round), brief, stage)
    expect(Buffer.from(inNode).toString('hex')).toBe(keyHex)
    const nodeKey = randomBytes(32)
    const fromNode = await timelockStageKey(new Uint8Array(nodeKey) as SecretKey, brief, stage, chain, Date.now() + 30_000)
    beacon.publish(fromNode.round)
    expect(await inPage.open(fromNode, beacon.beacon(fromNode.round), brief, stage)).toBe(nodeKey.toString('hex'))

    // Everything stayed on the app's origin, under its CSP, with no page error.
    expect(requests.filter((u) => new URL(u).origin !== origin)).toEqual([])
    expect(await tab.evaluate(() => (window as unknown as TestWindow).tl.violations)).toEqual([])
    expect(phone.errors).toEqual([])
    await phone.context.close()
  })
})
