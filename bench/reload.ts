// Offline reload to interactive in real Chromium: a phone that has the app installed (service
// worker, a vault, one action) loses the network and reopens the app, with the CPU slowed 4× as
// on a cheap phone (CDP throttling slows the page's main thread; the service worker's thread is
// not slowed). Times are taken inside the page and reported through console messages, so neither
// Playwright's round trips nor its scripts in the page fall inside a measured span. Asserts nothing.
import type { Browser, CDPSession, Page } from 'playwright-core'
import { launch, PhonePage, serve } from '../tests/browser/harness'
import { t } from '../tests/browser/words'
import { quantile, type Row } from './table'

const TAG = 'blossom-bench'

/**
 * Runs in every page before the app. Logs `TAG ready <ms since navigation start>` once the unlock
 * screen is painted with crypto ready (a person can type), and `TAG list <ms since submit>` once
 * the actions list is painted after the passphrase was submitted. A MutationObserver sees the DOM
 * change; the time is taken after the next frame (rAF, then a task), when the screen shows it.
 * No named inner functions: tsx (esbuild keepNames) would wrap them in a __name() helper that
 * does not exist in the page, and the script would throw.
 */
function watch({ tag, actionsTitle }: { tag: string; actionsTitle: string }): void {
  const logged = new Set<string>()
  let submit: number | undefined
  addEventListener('submit', () => (submit ??= performance.now()), true)
  new MutationObserver(() => {
    const due: [string, number][] = []
    if (document.querySelector('[data-crypto="ready"]') && document.querySelector('input[type="password"]')) due.push(['ready', 0])
    if (submit !== undefined && Array.from(document.querySelectorAll('h2')).some((h) => h.textContent === actionsTitle)) due.push(['list', submit])
    for (const [name, from] of due.filter(([n]) => !logged.has(n))) {
      logged.add(name)
      requestAnimationFrame(() => {
        setTimeout(() => console.debug(`${tag} ${name} ${performance.now() - from}`))
      })
    }
  }).observe(document, { subtree: true, childList: true, attributes: true })
}

/** The time the page logs for `name` (see watch). Call before the action that leads to it. */
function mark(page: Page, name: 'ready' | 'list'): Promise<number> {
  const prefix = `${TAG} ${name} `
  return page.waitForEvent('console', { predicate: (m) => m.text().startsWith(prefix) }).then((m) => Number(m.text().slice(prefix.length)))
}

/** A phone with the app installed, a vault and one action; the server is gone when this returns. */
async function installedPhone(browser: Browser, dist: string): Promise<PhonePage> {
  const { server, url } = await serve(0, dist)
  try {
    const phone = await PhonePage.open(browser, url)
    await phone.context.addInitScript(watch, { tag: TAG, actionsTitle: t('actionsTitle') })
    await phone.goto()
    await phone.setUp()
    await phone.createAction('Bench')
    // The first install claims the page; once it controls it, the precache is complete.
    await phone.page.waitForFunction(() => navigator.serviceWorker.controller !== null)
    await phone.context.setOffline(true)
    return phone
  } finally {
    await server.close()
  }
}

interface Load {
  fcp: number // first contentful paint (the shell), ms since navigation start
  ready: number // unlock screen ready, ms since navigation start
}

interface Sample extends Load {
  unlock: number // passphrase submitted → actions list shown, ms
}

const fcpOf = (page: Page): Promise<number> =>
  page.evaluate(() => performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? Number.NaN)

/** One offline reload at the given CPU slowdown, then an unlock at the same slowdown. */
async function reloadOnce(phone: PhonePage, cdp: CDPSession, rate: number): Promise<Sample> {
  await cdp.send('Emulation.setCPUThrottlingRate', { rate })
  const readyLogged = mark(phone.page, 'ready')
  await phone.page.reload({ waitUntil: 'commit' })
  const ready = await readyLogged
  const fcp = await fcpOf(phone.page)
  const listLogged = mark(phone.page, 'list')
  await phone.unlock()
  return { fcp, ready, unlock: await listLogged }
}

/**
 * The app opened offline in a new tab, as when a phone reopens it after it was closed: a reload
 * keeps the renderer's in-memory caches (compiled scripts, decoded resources), a new tab does not.
 */
async function reopenOnce(phone: PhonePage, rate: number): Promise<Load> {
  const page = await phone.context.newPage()
  try {
    const cdp = await phone.context.newCDPSession(page)
    await cdp.send('Emulation.setCPUThrottlingRate', { rate })
    const ready = mark(page, 'ready')
    await page.goto(phone.origin, { waitUntil: 'commit' })
    return { ready: await ready, fcp: await fcpOf(page) }
  } finally {
    await page.close()
  }
}

const median = (xs: number[]): number => quantile(xs, 0.5)
const range = (xs: number[]): string => `${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)} ms`

function readyRow(figure: string, samples: Load[]): Row {
  const ready = samples.map((s) => s.ready)
  return {
    figure: `${figure}, median of ${samples.length} (${range(ready)})`,
    value: median(ready),
    unit: 'ms',
    baseline: median(samples.map((s) => s.fcp)),
    baselineName: 'first contentful paint, same runs',
  }
}

function unlockRow(figure: string, samples: Sample[]): Row {
  const unlock = samples.map((s) => s.unlock)
  return { figure: `${figure}, median of ${samples.length} (${range(unlock)})`, value: median(unlock), unit: 'ms' }
}

export async function reloadRows(dist: string, quick: boolean): Promise<Row[]> {
  const runs = quick ? 3 : 7
  const browser = await launch()
  try {
    const phone = await installedPhone(browser, dist)
    const cdp = await phone.context.newCDPSession(phone.page)
    // The kinds of run alternate, so load from elsewhere on the machine hits all alike. Every
    // run counts: the first is usually the slowest (colder caches).
    const slow: Sample[] = []
    const fast: Sample[] = []
    const reopened: Load[] = []
    for (let i = 0; i < runs; i++) {
      slow.push(await reloadOnce(phone, cdp, 4))
      fast.push(await reloadOnce(phone, cdp, 1))
      reopened.push(await reopenOnce(phone, 4))
    }
    return [
      readyRow('offline reload → unlock screen ready, 4× CPU throttle', slow),
      readyRow('offline, app opened in a new tab → unlock screen ready, 4× CPU throttle', reopened),
      unlockRow('unlock (Argon2id 64 MiB) → actions list, 4× CPU throttle', slow),
      readyRow('offline reload → unlock screen ready, no throttle', fast),
      unlockRow('unlock (Argon2id 64 MiB) → actions list, no throttle', fast),
    ]
  } finally {
    await browser.close()
  }
}
