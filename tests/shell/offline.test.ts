// The offline shell in a real browser (Debian's Chromium through playwright-core): after one visit
// the app starts, and deep links open, with the server gone; the CSP holds (no violations, libsodium's
// wasm loads under it); a new version waits until the user presses "Reload".
// Run with `npm run test:browser` (private network namespace: Chromium reaches only loopback).
import { readdir, readFile } from 'node:fs/promises'
import path from 'node:path'
import { describe, expect, inject, it } from 'vitest'
import { shortFingerprint, type Fingerprint } from '../../src/release'
import { t } from '../browser/words'
import { expectFingerprint, expectShell, newContext, serve, shellBrowser, WAIT_MS, waitControlled, watchCsp } from './shell'

const builds = inject('shellBuilds')

const { browser: theBrowser, contexts, servers } = shellBrowser()

describe('built bundle', () => {
  it('never needs eval (the CSP has no unsafe-eval)', async () => {
    const assets = path.join(builds.a.dist, 'assets')
    const files = [
      ...(await readdir(assets)).filter((f) => f.endsWith('.js')).map((f) => path.join(assets, f)),
      path.join(builds.a.dist, 'sw.js'),
    ]
    expect(files.length).toBeGreaterThan(1)
    for (const file of files) {
      const code = await readFile(file, 'utf8')
      expect(code, file).not.toMatch(/(?<![\w$.])eval\s*\(/)
      expect(code, file).not.toMatch(/(?<![\w$.])Function\s*\(/)
    }
    const html = await readFile(path.join(builds.a.dist, 'index.html'), 'utf8')
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/) // no inline script
    expect(html).not.toMatch(/<style|\sstyle=/) // no inline style
  })
})

describe('offline shell', () => {
  it('starts and opens deep links with no network after one visit, under the CSP', async () => {
    const first = await serve(builds.a.dist)
    servers.push(first.server)
    const context = await newContext(theBrowser())
    contexts.push(context)
    const page = await context.newPage()
    const violations = await watchCsp(context, page)

    const response = await page.goto(first.url)
    expect(response?.status()).toBe(200)
    const csp = response?.headers()['content-security-policy'] ?? ''
    expect(csp).toContain("script-src 'self' 'wasm-unsafe-eval'")
    expect(csp).not.toContain("'unsafe-eval'") // only 'wasm-unsafe-eval'
    expect(csp).not.toContain("'unsafe-inline'")
    await expectShell(page, builds.a.buildId)
    await waitControlled(page)

    // No network from here on: the only server is gone.
    await first.server.close()
    await expect(fetch(first.url)).rejects.toThrow()

    const reloaded = await page.reload()
    expect(reloaded?.fromServiceWorker()).toBe(true)
    expect(reloaded?.headers()['content-security-policy']).toBe(csp) // the cached page keeps its CSP
    await expectShell(page, builds.a.buildId)

    const deep = await context.newPage()
    const deepViolations = await watchCsp(context, deep)
    const deepResponse = await deep.goto(new URL('/a/some-action', first.url).href)
    expect(deepResponse?.fromServiceWorker()).toBe(true)
    await expectShell(deep, builds.a.buildId)
    expect(new URL(deep.url()).pathname).toBe('/a/some-action')

    // Nothing but the precache is served, and nothing else is fetched: the worker answers 404 itself.
    const offlineFetch = (p: string): Promise<string> =>
      deep.evaluate((u) => fetch(u).then((r) => `status ${r.status}`, () => 'network error'), p)
    expect(await offlineFetch('/signal')).toBe('status 404')
    expect(await offlineFetch('/not-precached.json')).toBe('status 404')

    expect(await violations()).toEqual([])
    expect(await deepViolations()).toEqual([])
  })
})

describe('update prompt', () => {
  it('shows when a new version waits, and Reload activates it', async () => {
    const v1 = await serve(builds.a.dist)
    servers.push(v1.server)
    const context = await newContext(theBrowser())
    contexts.push(context)
    const page = await context.newPage()
    const violations = await watchCsp(context, page)
    await page.goto(v1.url)
    await expectShell(page, builds.a.buildId)
    await waitControlled(page)
    const reload = page.getByRole('status').getByRole('button', { name: t('updateReload') })
    expect(await reload.count()).toBe(0)

    // Deploy version B on the same origin.
    await v1.server.close()
    const v2 = await serve(builds.b.dist, v1.port)
    servers.push(v2.server)

    // A navigation makes the browser check sw.js; B installs and waits. The page still runs A.
    await page.reload()
    await expectShell(page, builds.a.buildId)
    await reload.waitFor()
    await page.getByRole('status').getByText(t('updateReady')).waitFor()
    // What is offered is what the release command signed, by its fingerprint.
    await page.getByRole('status').getByText(t('updateReadyFingerprint', { fingerprint: shortFingerprint(builds.b.fingerprint as Fingerprint) })).waitFor()
    await expectFingerprint(page, builds.a.fingerprint)

    // It does not take over by itself: another page of the same browser still gets A.
    const other = await context.newPage()
    await other.goto(v1.url)
    await expectShell(other, builds.a.buildId)
    await other.close()

    await Promise.all([page.waitForEvent('load', { timeout: WAIT_MS }), reload.click()])
    await expectShell(page, builds.b.buildId)
    await waitControlled(page)
    await expectFingerprint(page, builds.b.fingerprint)
    expect(await page.getByRole('button', { name: t('updateReload') }).count()).toBe(0)
    expect(await violations()).toEqual([])
  })
})
