// Installable: Chromium's own installability check (the one Lighthouse reports) finds
// nothing missing, in a normal (not incognito) profile, once the service worker runs.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { chromium } from 'playwright-core'
import { describe, expect, it } from 'vitest'
import { ARGS, serve } from './harness'

describe('installable PWA', () => {
  it('has no installability errors and a complete manifest', async () => {
    const { server, url } = await serve()
    const profile = await mkdtemp(path.join(tmpdir(), 'blossom-profile-'))
    const context = await chromium.launchPersistentContext(profile, { executablePath: '/usr/bin/chromium', headless: true, args: ARGS })
    try {
      const page = await context.newPage()
      await page.goto(url)
      await page.locator('[data-crypto="ready"]').waitFor()
      await page.waitForFunction(() => navigator.serviceWorker.controller !== null)
      const cdp = await context.newCDPSession(page)
      const { installabilityErrors } = (await cdp.send('Page.getInstallabilityErrors')) as { installabilityErrors: { errorId: string }[] }
      expect(installabilityErrors.map((e) => e.errorId)).toEqual([])
      const manifest = (await (await page.request.get(`${url}/manifest.webmanifest`)).json()) as Record<string, unknown>
      expect(manifest).toMatchObject({ name: 'Blossom', display: 'standalone', start_url: '/' })
      const icons = manifest.icons as { sizes: string; purpose?: string }[]
      expect(icons.some((i) => i.sizes === '512x512' && i.purpose?.includes('maskable'))).toBe(true)
      expect(icons.some((i) => i.sizes === '192x192')).toBe(true)
    } finally {
      await context.close()
      await server.close()
      await rm(profile, { recursive: true, force: true })
    }
  })
})
