// Whoever holds the server after a phone installed Blossom: it serves a changed asset, a changed
// sw.js, a manifest re-hashed under the old signature, no signature, or a signature by its own key.
// Each time the phone refuses the update in plain words, the changed code never runs, the version
// it had keeps working (after every tab closed, too, when a waiting worker would otherwise take
// over) and offline. Real Chromium, real service worker, a real app server on 127.0.0.1.
import type { Page } from 'playwright-core'
import { describe, expect, inject, it } from 'vitest'
import { CONTENT_SECURITY_POLICY, MANIFEST_PATH, type ReleaseErrorCode } from '../../src/release'
import { t } from '../browser/words'
import type { HostileBuilds } from './global-setup'
import { EVIL_PAGE, expectFingerprint, expectShell, newContext, serve, serveHostile, shellBrowser, waitControlled, watchCsp } from './shell'

const builds = inject('shellBuilds')

const { browser: theBrowser, contexts, servers } = shellBrowser()

/** What the page's own code and its worker ran: the hostile copies set this flag if their code ever runs. */
const tampered = (page: Page): Promise<boolean> =>
  page.evaluate(async () => {
    const inPage = (globalThis as { blossomTampered?: boolean }).blossomTampered === true
    const registration = await navigator.serviceWorker.getRegistration()
    return inPage || registration?.waiting !== null || registration?.installing !== null
  })

async function refusal(page: Page, reason: Exclude<ReleaseErrorCode, 'unreachable'>): Promise<void> {
  const alert = page.getByRole('alert').filter({ hasText: t(`updateRefused.${reason}`) })
  await alert.waitFor()
  await alert.getByText(t('updateRefusedAdvice')).waitFor()
  expect(await page.locator(`[data-refused="${reason}"]`).count()).toBe(1)
  expect(await page.getByRole('button', { name: t('updateReload') }).count()).toBe(0)
}

const attacks: [string, keyof HostileBuilds, Exclude<ReleaseErrorCode, 'unreachable'>][] = [
  ['a changed assets/*.js under the signed manifest', 'assetChanged', 'files-differ'],
  ['a changed sw.js under the signed manifest', 'swChanged', 'files-differ'],
  ['a changed asset with the manifest re-hashed to match, under the old signature', 'manifestForged', 'bad-signature'],
  ['the next version with its signature removed', 'unsigned', 'unsigned'],
  ['the next version signed by another key', 'otherKey', 'wrong-key'],
  ['an older release, genuinely signed (a rollback)', 'older', 'older'],
]

describe('a hostile server after install', () => {
  it.each(attacks)('%s: refused, and the verified version keeps working, offline too', async (_name, variant, reason) => {
    const genuine = await serve(builds.a.dist)
    servers.push(genuine.server)
    const context = await newContext(theBrowser())
    contexts.push(context)
    const page = await context.newPage()
    const violations = await watchCsp(context, page)
    await page.goto(genuine.url)
    await expectShell(page, builds.a.buildId)
    await waitControlled(page)
    await expectFingerprint(page, builds.a.fingerprint)

    // The same origin now serves the hostile copy.
    await genuine.server.close()
    const hostile = await serve(builds.hostile[variant], genuine.port)
    servers.push(hostile.server)
    await page.reload() // a navigation makes the browser fetch sw.js: the changed worker tries to install
    await expectShell(page, builds.a.buildId)
    await refusal(page, reason)
    await expectFingerprint(page, builds.a.fingerprint)

    // Every tab closes: a worker left waiting would take over now. None was left: it failed to install.
    await page.close()
    const again = await context.newPage()
    const againViolations = await watchCsp(context, again)
    const response = await again.goto(hostile.url)
    expect(response?.fromServiceWorker()).toBe(true)
    await expectShell(again, builds.a.buildId)
    await expectFingerprint(again, builds.a.fingerprint)
    await refusal(again, reason)
    expect(await tampered(again)).toBe(false)

    // And with no network at all, the verified version still starts.
    await hostile.server.close()
    await again.reload()
    await expectShell(again, builds.a.buildId)
    await expectFingerprint(again, builds.a.fingerprint)
    expect(await tampered(again)).toBe(false)
    expect([...(await violations()), ...(await againViolations())]).toEqual([])
  })
})

/** What code that ran on this origin could do (a worker of the server's own, while installing): rewrite the cached app shell. */
async function rewriteShell(page: Page): Promise<void> {
  const rewritten = await page.evaluate(async (evil) => {
    let n = 0
    for (const name of await caches.keys()) {
      const cache = await caches.open(name)
      for (const request of await cache.keys()) {
        if (new URL(request.url).pathname !== '/index.html') continue
        await cache.put(request, new Response(evil, { headers: { 'Content-Type': 'text/html' } }))
        n++
      }
    }
    return n
  }, EVIL_PAGE)
  expect(rewritten).toBeGreaterThan(0)
}

describe('a hostile server around a genuine install', () => {
  /** A phone that installed A, and the port its server listened on (now closed). */
  async function installedA(): Promise<{ page: Page; port: number; url: string }> {
    const genuine = await serve(builds.a.dist)
    const context = await newContext(theBrowser())
    contexts.push(context)
    const page = await context.newPage()
    await page.goto(genuine.url)
    await expectShell(page, builds.a.buildId)
    await waitControlled(page)
    await genuine.server.close()
    return { page, port: genuine.port, url: genuine.url }
  }

  it('never gets a page of its own shown: server paths and POST navigations get the verified app shell', async () => {
    const { page, port, url } = await installedA()
    const hostile = await serveHostile(builds.a.dist, port, { evil: (req) => req.method !== 'GET' || (req.url ?? '').startsWith('/signal') || (req.url ?? '').startsWith('/evil') })
    try {
      for (const path of ['/signal/x', '/evil.html', '/signal']) {
        const response = await page.goto(new URL(path, url).href)
        expect(response?.fromServiceWorker(), path).toBe(true)
        await expectShell(page, builds.a.buildId)
      }
      // A form on another site (here a blank page) posts to the app's origin.
      const elsewhere = await page.context().newPage()
      await elsewhere.setContent(`<form method="post" action="${new URL('/a/xyz', url).href}"><input name="x" value="1"></form>`)
      await Promise.all([elsewhere.waitForURL(new URL('/', url).href), elsewhere.evaluate(() => document.forms[0]!.submit())])
      await expectShell(elsewhere, builds.a.buildId)
      expect(await elsewhere.title()).not.toBe('EVIL')
      expect(await elsewhere.evaluate(() => (globalThis as { blossomTampered?: boolean }).blossomTampered)).toBeUndefined()
    } finally {
      await hostile.close()
    }
  })

  it('cannot make the worker serve a file other code rewrote in its cache: it fetches it again under its hash', async () => {
    const { page, port, url } = await installedA()
    await rewriteShell(page)
    // Offline, the rewritten shell is not served at all: there is no network to fetch it again from.
    const offline = await page.context().newPage()
    const served = await offline.goto(url).catch(() => null)
    expect(served === null ? '' : await served.text()).not.toContain('EVIL')
    await offline.close()
    // With the genuine server back, the worker fetches the shell again under its hash and repairs its cache.
    const genuine = await serve(builds.a.dist, port)
    servers.push(genuine.server)
    await page.goto(url)
    await expectShell(page, builds.a.buildId)
    expect(await page.title()).not.toBe('EVIL')
    await genuine.server.close()
    await page.reload()
    await expectShell(page, builds.a.buildId)
    expect(await page.evaluate(() => (globalThis as { blossomTampered?: boolean }).blossomTampered)).toBeUndefined()
  })

  it('cannot attach headers of its own to a genuine update: the worker serves it with the release headers', async () => {
    const { page, port } = await installedA()
    // The genuine, signed B, but every response asks the browser to go elsewhere and drops the CSP.
    const hostile = await serveHostile(builds.b.dist, port, { extraHeaders: { Refresh: '0; url=/evil', 'Content-Security-Policy': "default-src *" } })
    try {
      await page.reload()
      await page.getByRole('status').getByRole('button', { name: t('updateReload') }).click()
      await expectShell(page, builds.b.buildId)
      const response = await page.reload()
      expect(response?.fromServiceWorker()).toBe(true)
      expect(response?.headers()['refresh']).toBeUndefined()
      expect(response?.headers()['content-security-policy']).toBe(CONTENT_SECURITY_POLICY)
      await expectShell(page, builds.b.buildId)
      expect(new URL(page.url()).pathname).toBe('/')
    } finally {
      await hostile.close()
    }
  })
})

describe("a worker of the server's own, served alike to everyone", () => {
  it('is never offered or activated by the page, which says why', async () => {
    const genuine = await serve(builds.a.dist)
    servers.push(genuine.server)
    const context = await newContext(theBrowser())
    contexts.push(context)
    const page = await context.newPage()
    await page.goto(genuine.url)
    await expectShell(page, builds.a.buildId)
    await waitControlled(page)
    await genuine.server.close()
    const hostile = await serve(builds.hostile.swReplaced, genuine.port)
    servers.push(hostile.server)

    // This worker runs none of Blossom's checks, so it installs and waits. The page, still the
    // verified version, checks what the server serves and refuses: no "Reload" that would activate it.
    await page.reload()
    await expectShell(page, builds.a.buildId)
    await page.waitForFunction(async () => (await navigator.serviceWorker.getRegistration())?.waiting != null)
    await refusal(page, 'files-differ')
    await expectFingerprint(page, builds.a.fingerprint)
    expect(await page.evaluate(() => (globalThis as { blossomTampered?: boolean }).blossomTampered)).toBeUndefined()
    // What no web page can stop: once every tab is closed, the browser activates the waiting worker.
    // WEBCAT closes that gap (it checks sw.js before the browser runs it): SECURITY.md.
  })
})

describe('the running build', () => {
  it("shows the manifest's fingerprint on the unlock screen and in Settings, signed", async () => {
    const running = await serve(builds.a.dist)
    servers.push(running.server)
    const context = await newContext(theBrowser())
    contexts.push(context)
    const page = await context.newPage()
    await page.goto(running.url)
    await expectShell(page, builds.a.buildId)
    await waitControlled(page)
    // First run: choose a passphrase (the footer shows the fingerprint on this screen already).
    await expectFingerprint(page, builds.a.fingerprint)
    const passphrase = 'correct horse battery staple'
    await page.getByLabel(t('passphrase'), { exact: true }).fill(passphrase)
    await page.getByLabel(t('passphraseAgain'), { exact: true }).fill(passphrase)
    await page.getByRole('button', { name: t('setUp'), exact: true }).click()
    await page.getByRole('button', { name: t('settings'), exact: true }).click()
    const section = page.getByRole('region', { name: t('buildTitle') })
    await section.getByText(builds.a.fingerprint.slice(0, 4), { exact: false }).waitFor()
    await section.getByText(t('buildStanding.signed'), { exact: true }).waitFor()
    // Locked again, the unlock screen shows it too.
    await page.reload()
    await page.getByRole('heading', { name: t('unlockTitle') }).waitFor()
    await expectFingerprint(page, builds.a.fingerprint)
  })
})

describe('what the HTML and the manifest pin', () => {
  it("compiles only WebAssembly the manifest's wasm list names (what WEBCAT enforces)", async () => {
    const running = await serve(builds.a.dist)
    servers.push(running.server)
    const context = await newContext(theBrowser())
    contexts.push(context)
    await context.addInitScript(() => {
      const seen: Promise<string>[] = []
      ;(window as unknown as { __wasm: Promise<string>[] }).__wasm = seen
      const hash = (bytes: BufferSource): Promise<string> =>
        crypto.subtle.digest('SHA-256', bytes).then((d) => btoa(String.fromCharCode(...new Uint8Array(d))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, ''))
      const instantiate = WebAssembly.instantiate.bind(WebAssembly)
      const compile = WebAssembly.compile.bind(WebAssembly)
      WebAssembly.instantiate = ((source: BufferSource | WebAssembly.Module, imports?: WebAssembly.Imports) => {
        if (!(source instanceof WebAssembly.Module)) seen.push(hash(source))
        return instantiate(source as BufferSource, imports)
      }) as typeof WebAssembly.instantiate
      WebAssembly.compile = (source: BufferSource) => {
        seen.push(hash(source))
        return compile(source)
      }
      WebAssembly.instantiateStreaming = undefined as unknown as typeof WebAssembly.instantiateStreaming
      WebAssembly.compileStreaming = undefined as unknown as typeof WebAssembly.compileStreaming
    })
    const page = await context.newPage()
    await page.goto(running.url)
    await expectShell(page, builds.a.buildId)
    const compiled = await page.evaluate(() => Promise.all((window as unknown as { __wasm: Promise<string>[] }).__wasm))
    expect(compiled.length).toBeGreaterThan(0)
    const manifest = (await (await fetch(new URL(MANIFEST_PATH, running.url))).json()) as { manifest: { wasm: string[]; default_csp: string } }
    for (const hash of compiled) expect(manifest.manifest.wasm).toContain(hash)
  })

  it('serves the CSP the manifest names, byte for byte, and a first visit runs no script that differs from the HTML', async () => {
    const running = await serve(builds.a.dist)
    servers.push(running.server)
    const manifest = (await (await fetch(new URL(MANIFEST_PATH, running.url))).json()) as { manifest: { default_csp: string } }
    for (const p of ['/', '/index.html', '/sw.js', '/a/deep-link']) {
      expect((await fetch(new URL(p, running.url))).headers.get('content-security-policy'), p).toBe(manifest.manifest.default_csp)
    }
    // Subresource integrity: index.html names the entry script by hash, so a changed one never runs.
    const changed = await serve(builds.hostile.assetChanged)
    servers.push(changed.server)
    const context = await newContext(theBrowser())
    contexts.push(context)
    const page = await context.newPage()
    const errors: string[] = []
    page.on('console', (m) => void (m.type() === 'error' && errors.push(m.text())))
    await page.goto(changed.url)
    await expect.poll(() => errors.join('\n')).toMatch(/integrity/i)
    expect(await page.evaluate(() => (globalThis as { blossomTampered?: boolean }).blossomTampered)).toBeUndefined()
    expect(await page.locator('[data-crypto]').count()).toBe(0) // the app never started
  })
})

