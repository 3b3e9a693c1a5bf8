// Helpers of the shell tests: serve a build, a browser context that records CSP violations, and
// waits for the app shell, the service worker and the fingerprint the footer shows.
import { createServer, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll } from 'vitest'
import { IN_PROCESS_SIGNALING, launch } from '../browser/harness'
import { SECURITY_HEADERS } from '../../src/release'
import { createAppServer, type AppServer } from '../../src/server/app-server'
import { createStaticHandler } from '../../src/server/static'
import { shortFingerprint, type Fingerprint } from '../../src/release'
import { t } from '../browser/words'

export const WAIT_MS = 30_000

export interface Running {
  server: AppServer
  url: string
  port: number
}

export async function serve(dist: string, port = 0): Promise<Running> {
  const server = createAppServer({ host: '127.0.0.1', port, distRoot: dist, signaling: IN_PROCESS_SIGNALING })
  const url = await server.listen()
  return { server, url, port: Number(new URL(url).port) }
}

/** Records every CSP violation the page sees: the DOM event, and Chromium's console/log reports. */
export async function watchCsp(context: BrowserContext, page: Page): Promise<() => Promise<string[]>> {
  const reports: string[] = []
  page.on('console', (message) => {
    if (/content security policy/i.test(message.text())) reports.push(`console: ${message.text()}`)
  })
  const cdp = await context.newCDPSession(page)
  cdp.on('Log.entryAdded', ({ entry }) => {
    if (entry.source === 'security' || /content security policy/i.test(entry.text)) reports.push(`log: ${entry.text}`)
  })
  await cdp.send('Log.enable')
  return async () => {
    const events = await page
      .evaluate(() => (window as unknown as { __cspViolations?: string[] }).__cspViolations ?? [])
      .catch(() => [] as string[])
    return [...reports, ...events.map((e) => `event: ${e}`)]
  }
}

export async function newContext(browser: Browser): Promise<BrowserContext> {
  const context = await browser.newContext({ serviceWorkers: 'allow' })
  context.setDefaultTimeout(WAIT_MS)
  context.setDefaultNavigationTimeout(WAIT_MS)
  // Runs before the app's own scripts (injected by the browser, not subject to the page's CSP).
  await context.addInitScript(() => {
    const seen: string[] = []
    ;(window as unknown as { __cspViolations: string[] }).__cspViolations = seen
    document.addEventListener('securitypolicyviolation', (e) => {
      seen.push(`${e.violatedDirective} blocked ${e.blockedURI || '(inline)'} in ${e.sourceFile}:${e.lineNumber}`)
    })
  })
  return context
}

/** The shell is up: heading, libsodium loaded under the CSP, and which build is running. */
export async function expectShell(page: Page, buildId: string): Promise<void> {
  await page.locator('h1', { hasText: t('appName') }).waitFor()
  await page.locator('[data-crypto="ready"]', { hasText: t('ready') }).waitFor()
  await page.getByText(t('version', { id: buildId }), { exact: true }).waitFor()
}

export async function waitControlled(page: Page): Promise<void> {
  try {
    await page.waitForFunction(() => navigator.serviceWorker.controller !== null, undefined, { timeout: WAIT_MS })
  } catch (error) {
    const state = await page
      .evaluate(async () => {
        const r = await navigator.serviceWorker.getRegistration()
        return JSON.stringify({ registered: r !== undefined, active: r?.active?.state, installing: r?.installing?.state, waiting: r?.waiting?.state })
      })
      .catch((e: unknown) => String(e))
    throw new Error(`the service worker never controlled the page: ${state}`, { cause: error })
  }
}


/** The footer shows the fingerprint of this release (full hex, as the release command prints it). */
export async function expectFingerprint(page: Page, fingerprint: string): Promise<void> {
  await page.locator('footer').getByText(t('fingerprint', { short: shortFingerprint(fingerprint as Fingerprint) }), { exact: true }).waitFor()
}

export const EVIL_PAGE = '<!doctype html><title>EVIL</title><h1>EVIL</h1><script>globalThis.blossomTampered = true</script>'

/**
 * A server that serves a build's files like the app server, except that `evil(req)` requests get a
 * page of its own (with no CSP: it writes its own headers), and every response gets `extraHeaders`.
 */
export async function serveHostile(
  dist: string,
  port: number,
  options: { evil?: (req: IncomingMessage) => boolean; extraHeaders?: OutgoingHttpHeaders },
): Promise<{ close: () => Promise<void> }> {
  const files = createStaticHandler({ root: dist, headers: () => SECURITY_HEADERS })
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    for (const [name, value] of Object.entries(options.extraHeaders ?? {})) if (value !== undefined) res.setHeader(name, value)
    if (options.evil?.(req)) {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' })
      return void res.end(EVIL_PAGE)
    }
    files(req, res)
  })
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
  if ((server.address() as AddressInfo).port !== port) throw new Error('the hostile server did not get the port')
  return {
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

/**
 * One browser for a test file, and the contexts and servers each test opens (closed after it).
 * Call at the top of a file; `browser()` is ready inside tests.
 */
export function shellBrowser(): { browser: () => Browser; contexts: BrowserContext[]; servers: AppServer[] } {
  let browser: Browser | undefined
  const contexts: BrowserContext[] = []
  const servers: AppServer[] = []
  beforeAll(async () => {
    browser = await launch()
  })
  afterEach(async () => {
    await Promise.all(contexts.splice(0).map((c) => c.close().catch(() => undefined)))
    await Promise.all(servers.splice(0).map((s) => s.close().catch(() => undefined)))
  })
  afterAll(async () => {
    await browser?.close()
  })
  return { browser: () => browser!, contexts, servers }
}
