// QR codes, shown and scanned, in real Chromium with no network: a page renders <QrCode> for a
// release-sized text, the test reads the drawn modules back from the SVG as an image, writes them
// into a Y4M video, and a second Chromium plays that video as its camera while <QrScanner> reads
// it. Also: the camera is denied, the camera is missing, unmounting stops the camera, and the
// decoder is a separate chunk fetched only when scanning starts.
//
// The built app does not mount these components yet, so the test builds its own tiny page with
// Vite (a temp folder: index.html + main.tsx mounting the components and exposing results on
// window), served by the app's own server (createAppServer: same CSP and headers as the app).
// Run with `npm run test:browser` (private network namespace; only loopback exists).
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createAppServer, type AppServer } from '../../src/server/app-server'
import { qrStrings } from '../../src/ui/qr/strings'
import { buildTestPage, relativeTo, removeTestPage, ROOT, type TestPage } from '../support/vite'
import { writeQrY4m } from './qr-video'
import { IN_PROCESS_SIGNALING } from './harness'

const WAIT_MS = 30_000
const BUILD_TIMEOUT_MS = 60_000

/** The size of a real release code: a prefix and 141 random bytes in base64url (199 characters). */
const RELEASE_TEXT = `blossom1:r:${randomBytes(141).toString('base64url')}`
const CODE_LABEL = 'Release code for the test'
const SCANNER_LABEL = 'Scan the release code'

// What the test page (main.tsx below) puts on window.
interface QrTestState {
  codes: string[]
  errors: string[]
  violations: string[]
}
interface QrTestApi {
  state: QrTestState
  matrix(text: string): boolean[][]
  show(text: string, label: string): void
  scan(label: string): void
  clear(): void
  liveTracks(): number
  streams(): number
}
type TestWindow = Window & { qrTest: QrTestApi }

const BASE_ARGS = [
  '--headless=new',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

const launch = (extra: string[]): Promise<Browser> =>
  chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: [...BASE_ARGS, ...extra], timeout: WAIT_MS })

// ---------------------------------------------------------------------------------------------
// The test page

const MAIN_TSX = (qr: string): string => `
import { render } from 'preact'
import { QrCode, qrMatrix } from '${qr}/QrCode'
import { QrScanner } from '${qr}/QrScanner'

const root = document.getElementById('root')
const state = { codes: [], errors: [], violations: [] }
const streams = []
document.addEventListener('securitypolicyviolation', (e) => state.violations.push(e.violatedDirective + ' ' + e.blockedURI))
// Remember every camera stream the page opens, to check that unmounting stops it.
const media = navigator.mediaDevices
if (media) {
  const open = media.getUserMedia.bind(media)
  media.getUserMedia = async (constraints) => {
    const stream = await open(constraints)
    streams.push(stream)
    return stream
  }
}
window.qrTest = {
  state,
  matrix: (text) => qrMatrix(text),
  show: (text, label) => render(<QrCode text={text} label={label} />, root),
  scan: (label) => render(<QrScanner label={label} onCode={(t) => state.codes.push(t)} onError={(m) => state.errors.push(m)} />, root),
  clear: () => render(null, root),
  liveTracks: () => streams.flatMap((s) => s.getTracks()).filter((t) => t.readyState === 'live').length,
  streams: () => streams.length,
}
document.body.dataset['ready'] = 'yes'
`

const INDEX_HTML = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>QR test page</title>
  </head>
  <body>
    <main id="root"></main>
    <script type="module" src="./main.tsx"></script>
  </body>
</html>
`

// The components take their words from the app's catalogs (compiled by scripts/catalogs.ts).
const VITE_CONFIG = `
import preact from '@preact/preset-vite'
import { catalogs } from ${JSON.stringify(path.join(ROOT, 'scripts', 'catalogs.ts'))}
export default {
  root: import.meta.dirname,
  cacheDir: import.meta.dirname + '/.vite-cache',
  logLevel: 'warn',
  plugins: [catalogs(), preact()],
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', manifest: true },
}
`


// ---------------------------------------------------------------------------------------------

let page: TestPage
let server: AppServer
let origin: string
const browsers: Browser[] = []

beforeAll(async () => {
  page = await buildTestPage('the QR test page', (dir) => ({ 'index.html': INDEX_HTML, 'main.tsx': MAIN_TSX(relativeTo(dir, 'src', 'ui', 'qr')), 'vite.config.mjs': VITE_CONFIG }), BUILD_TIMEOUT_MS)
  server = createAppServer({ host: '127.0.0.1', port: 0, distRoot: page.dist, signaling: IN_PROCESS_SIGNALING })
  origin = (await server.listen()).replace(/\/$/, '')
})

afterAll(async () => {
  await Promise.all(browsers.splice(0).map((b) => b.close().catch(() => undefined)))
  await server?.close().catch(() => undefined)
  if (page) await removeTestPage(page.dir)
})

async function browser(extra: string[]): Promise<Browser> {
  const b = await launch(extra)
  browsers.push(b)
  return b
}

/** A phone-sized page of the test page; every request it makes is recorded. */
async function open(b: Browser, options: { camera: boolean; init?: () => void }): Promise<{ context: BrowserContext; tab: Page; requests: string[] }> {
  const context = await b.newContext({ viewport: { width: 390, height: 844 } })
  context.setDefaultTimeout(WAIT_MS)
  if (options.init) await context.addInitScript(options.init)
  if (options.camera) await context.grantPermissions(['camera'], { origin })
  const requests: string[] = []
  context.on('request', (r) => requests.push(r.url()))
  const tab = await context.newPage()
  await tab.goto(origin + '/')
  await tab.locator('body[data-ready="yes"]').waitFor({ state: 'attached' })
  return { context, tab, requests }
}

const state = (tab: Page): Promise<QrTestState> => tab.evaluate(() => (window as unknown as TestWindow).qrTest.state)

/** The entry chunk and the decoder's chunk of the test page, from Vite's manifest. */
async function chunks(): Promise<{ entry: string; decoder: string }> {
  type Chunk = { file: string; src?: string; isEntry?: boolean; dynamicImports?: string[] }
  const manifest = JSON.parse(await readFile(path.join(page.dist, '.vite', 'manifest.json'), 'utf8')) as Record<string, Chunk>
  const decoderKey = Object.keys(manifest).find((key) => key.endsWith('node_modules/qr/decode.js'))
  const entry = Object.values(manifest).find((c) => c.isEntry)
  if (!decoderKey || !entry) throw new Error(`no decoder chunk in the manifest: ${JSON.stringify(manifest)}`)
  expect(entry.dynamicImports).toContain(decoderKey)
  return { entry: entry.file, decoder: manifest[decoderKey]!.file }
}

/**
 * Reads the modules back from the rendered <svg> as a browser draws it: the SVG as an image on a
 * canvas, `scale` pixels per module, sampled at each module's center. Also counts pixels that are
 * neither black nor white (crisp edges: there should be none).
 */
function readRenderedMatrix(tab: Page, scale: number): Promise<{ matrix: boolean[][]; grey: number }> {
  return tab.evaluate(async (scale) => {
    const svg = document.querySelector<SVGSVGElement>('svg[role="img"]')
    if (!svg) throw new Error('no svg')
    const n = svg.viewBox.baseVal.width
    const url = URL.createObjectURL(new Blob([new XMLSerializer().serializeToString(svg)], { type: 'image/svg+xml' }))
    const image = new Image()
    image.src = url
    await image.decode()
    URL.revokeObjectURL(url)
    const canvas = document.createElement('canvas')
    canvas.width = canvas.height = n * scale
    const context = canvas.getContext('2d', { willReadFrequently: true })!
    context.drawImage(image, 0, 0, n * scale, n * scale)
    const { data } = context.getImageData(0, 0, n * scale, n * scale)
    let grey = 0
    for (let i = 0; i < data.length; i += 4) {
      const v = data[i]!
      if (!(v === 0 || v === 255) || data[i + 1] !== v || data[i + 2] !== v) grey++
    }
    const matrix: boolean[][] = []
    for (let y = 0; y < n; y++) {
      const row: boolean[] = []
      for (let x = 0; x < n; x++) {
        const i = (((y * scale + scale / 2) | 0) * n * scale + ((x * scale + scale / 2) | 0)) * 4
        row.push(data[i]! < 128)
      }
      matrix.push(row)
    }
    return { matrix, grey }
  }, scale)
}

const foreign = (requests: string[]): string[] => requests.filter((url) => new URL(url).origin !== origin)

describe('QR codes, fully offline', () => {
  it('a shown code is read back by the camera scanner, exactly once', async () => {
    // 1. Show the code on one phone and read back what the browser draws.
    const shower = await open(await browser([]), { camera: false })
    await shower.tab.evaluate(([text, label]) => (window as unknown as TestWindow).qrTest.show(text, label), [RELEASE_TEXT, CODE_LABEL] as const)
    const svg = shower.tab.getByRole('img', { name: CODE_LABEL })
    await svg.waitFor()
    expect(await svg.getAttribute('shape-rendering')).toBe('crispEdges')
    // Big enough to scan from another phone: most of a 390 px wide phone screen.
    const box = await svg.boundingBox()
    expect(box?.width).toBeGreaterThanOrEqual(300)
    expect(Math.abs((box?.width ?? 0) - (box?.height ?? 0))).toBeLessThan(1)
    // The text itself is never in the page, only its modules.
    expect(await shower.tab.content()).not.toContain(RELEASE_TEXT.slice(11, 40))
    expect(await shower.tab.locator('[style]').count()).toBe(0)

    const expected = await shower.tab.evaluate((text) => (window as unknown as TestWindow).qrTest.matrix(text), RELEASE_TEXT)
    const { matrix, grey } = await readRenderedMatrix(shower.tab, 8)
    expect(grey).toBe(0)
    expect(matrix).toEqual(expected)
    // Version 10 (57 modules) at level M holds up to 213 bytes; plus a quiet zone of 4 on each side.
    expect(matrix.length).toBe(57 + 8)
    const quiet = [...matrix.slice(0, 4), ...matrix.slice(-4)].flat().concat(matrix.flatMap((row) => [...row.slice(0, 4), ...row.slice(-4)]))
    expect(quiet.every((dark) => !dark)).toBe(true)
    expect((await state(shower.tab)).violations).toEqual([])
    expect(foreign(shower.requests)).toEqual([])
    await shower.context.close()

    // 2. That drawing becomes the other phone's camera.
    const video = path.join(page.dir, 'release.y4m')
    await writeQrY4m(video, matrix)
    const camera = await browser(['--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', `--use-file-for-fake-video-capture=${video}`])
    const scanner = await open(camera, { camera: true })
    const { entry, decoder } = await chunks()
    expect(scanner.requests.some((url) => url.endsWith(entry))).toBe(true)
    // The decoder is a separate chunk, fetched only when scanning starts.
    expect(scanner.requests.some((url) => url.endsWith(decoder))).toBe(false)

    await scanner.tab.evaluate((label) => (window as unknown as TestWindow).qrTest.scan(label), SCANNER_LABEL)
    const view = scanner.tab.getByRole('group', { name: SCANNER_LABEL })
    await view.waitFor()
    await scanner.tab.waitForFunction(() => (window as unknown as TestWindow).qrTest.state.codes.length > 0 || (window as unknown as TestWindow).qrTest.state.errors.length > 0, undefined, { timeout: WAIT_MS })
    // The fake camera loops the same picture: still one call a while later.
    await scanner.tab.waitForTimeout(1500)
    const after = await state(scanner.tab)
    expect(after.errors).toEqual([])
    expect(after.codes).toEqual([RELEASE_TEXT])
    expect(after.violations).toEqual([])
    expect(await view.getAttribute('data-state')).toBe('scanning')
    // Chromium on Linux has no QR BarcodeDetector: there this run proves the library decoder.
    const kind = await view.getAttribute('data-decoder')
    expect(kind).toBe(process.platform === 'linux' ? 'library' : kind)
    if (kind === 'library') expect(scanner.requests.some((url) => url.endsWith(decoder))).toBe(true)
    const videoElement = view.locator('video')
    expect(await videoElement.evaluate((v: HTMLVideoElement) => ({ muted: v.muted, playsInline: v.playsInline, live: v.srcObject !== null }))).toEqual({ muted: true, playsInline: true, live: true })

    // 3. Unmounting stops the camera.
    expect(await scanner.tab.evaluate(() => (window as unknown as TestWindow).qrTest.liveTracks())).toBeGreaterThan(0)
    await scanner.tab.evaluate(() => (window as unknown as TestWindow).qrTest.clear())
    // Effect clean-ups may run a frame after the unmount: wait (bounded) for the tracks to stop.
    await scanner.tab.waitForFunction(() => (window as unknown as TestWindow).qrTest.liveTracks() === 0, undefined, { timeout: WAIT_MS })
    expect(foreign(scanner.requests)).toEqual([])
    await scanner.context.close()
  })

  it('falls back to the library when the native BarcodeDetector fails', async () => {
    const text = 'blossom1:r:fallback-ÄÖÜ-✓'
    const plain = await open(await browser([]), { camera: false })
    const matrix = await plain.tab.evaluate((t) => (window as unknown as TestWindow).qrTest.matrix(t), text)
    await plain.context.close()
    const video = path.join(page.dir, 'fallback.y4m')
    await writeQrY4m(video, matrix, { frames: 3 })
    const camera = await browser(['--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', `--use-file-for-fake-video-capture=${video}`])
    const { context, tab } = await open(camera, {
      camera: true,
      // A native detector that claims QR support and then throws, as a broken platform one might.
      init: () => {
        ;(window as unknown as { BarcodeDetector: unknown }).BarcodeDetector = class {
          static getSupportedFormats(): Promise<string[]> {
            return Promise.resolve(['qr_code'])
          }
          detect(): Promise<never> {
            return Promise.reject(new DOMException('detector broke', 'NotSupportedError'))
          }
        }
      },
    })
    await tab.evaluate((label) => (window as unknown as TestWindow).qrTest.scan(label), SCANNER_LABEL)
    await tab.waitForFunction(() => (window as unknown as TestWindow).qrTest.state.codes.length > 0, undefined, { timeout: WAIT_MS })
    expect((await state(tab)).codes).toEqual([text])
    expect(await tab.getByRole('group', { name: SCANNER_LABEL }).getAttribute('data-decoder')).toBe('native')
    await context.close()
  })

  it('says so when the camera is denied', async () => {
    // A camera exists, but no fake UI: --use-fake-ui-for-media-stream would accept every prompt,
    // even one the browser is told to deny. Without a grant, headless Chromium denies.
    const denying = await browser(['--use-fake-device-for-media-stream'])
    const { context, tab, requests } = await open(denying, { camera: false })
    await tab.evaluate((label) => (window as unknown as TestWindow).qrTest.scan(label), SCANNER_LABEL)
    await tab.waitForFunction(() => (window as unknown as TestWindow).qrTest.state.errors.length > 0, undefined, { timeout: WAIT_MS })
    const { errors, codes } = await state(tab)
    expect(errors).toEqual([qrStrings().cameraDenied])
    expect(codes).toEqual([])
    expect(await tab.getByRole('group', { name: SCANNER_LABEL }).getAttribute('data-state')).toBe('error')
    expect(foreign(requests)).toEqual([])
    await context.close()
  })

  it.skipIf(existsSync('/dev/video0'))('says so when there is no camera', async () => {
    const cameraless = await browser([])
    const { context, tab } = await open(cameraless, { camera: true })
    await tab.evaluate((label) => (window as unknown as TestWindow).qrTest.scan(label), SCANNER_LABEL)
    await tab.waitForFunction(() => (window as unknown as TestWindow).qrTest.state.errors.length > 0, undefined, { timeout: WAIT_MS })
    expect((await state(tab)).errors).toEqual([qrStrings().cameraMissing])
    expect(await tab.evaluate(() => (window as unknown as TestWindow).qrTest.liveTracks())).toBe(0)
    await context.close()
  })
})
