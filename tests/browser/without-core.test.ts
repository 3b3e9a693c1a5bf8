// The reveal with every core phone gone (issue 15), in real browsers through the UI. Two actions
// share one go minute: in one the core arms marshals (2 of 3), in the other a time lock (drand,
// a test beacon on 127.0.0.1 behind the app server's /drand proxy). Every core phone is closed
// before go. With the quorum, two marshals release and every participant reveals; with the time
// lock, nothing opens until the test beacon publishes the round, then every participant reveals,
// one whose /drand requests are blocked too (another phone passes the beacon on). No marshal there.
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AppServer } from '../../src/server/app-server'
import { roundAt } from '../../src/model/timelock'
import { startTestBeacon, type TestBeacon } from '../support/test-beacon'
import { t } from './words'
import { launch, PhonePage, serve, WAIT_MS } from './harness'

let browser: Browser
let server: AppServer
let url: string
let beacon: TestBeacon

beforeAll(async () => {
  beacon = await startTestBeacon({ period: 3 })
  browser = await launch()
  ;({ server, url } = await serve(0, undefined, { upstreams: [beacon.url], chain: beacon.chain.hash }))
})

afterAll(async () => {
  await browser?.close()
  await server?.close()
  await beacon?.close()
})

/** `YYYY-MM-DDTHH:mm` on the phone's own clock face (the plan starts in the phone's zone), for the go field. */
const minuteInput = (p: PhonePage, at: number): Promise<string> =>
  p.page.evaluate((ms) => {
    const d = new Date(ms)
    const pad = (n: number): string => String(n).padStart(2, '0')
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`
  }, at)

async function coreWith(title: string, location: string, goAt: number): Promise<PhonePage> {
  const a = await PhonePage.withAction(browser, url, title)
  await a.page.getByLabel(t('location')).fill(location)
  await a.page.getByRole('button', { name: t('saveLocation') }).click()
  await a.page.getByText(t('locationSealed')).waitFor()
  await a.page.getByLabel(t('goAt')).fill(await minuteInput(a, goAt))
  await a.page.getByRole('button', { name: t('setTimes') }).click()
  return a
}

async function join(core: PhonePage, name: string): Promise<PhonePage> {
  const link = await core.invite('participant', name)
  const p = await PhonePage.open(browser, url)
  await p.page.goto(link)
  await p.page.locator('[data-crypto="ready"]').waitFor()
  await p.setUp()
  await p.page.getByRole('heading', { name: t('briefTitle') }).waitFor()
  return p
}

const revealed = (p: PhonePage, text: string) =>
  p.page.waitForFunction((s) => document.querySelector('[data-reveal]')?.textContent?.includes(s) === true, text, { polling: 'raf', timeout: WAIT_MS })

describe('the location opens at go with every core phone gone', () => {
  it('2 of 3 marshals release and everyone reveals; the time lock opens only once drand publishes the round', { timeout: 400_000 }, async () => {
    // Go on a whole minute at least 100 s away: time to set both actions up through the UI.
    const goAt = Math.ceil((Date.now() + 100_000) / 60_000) * 60_000

    // Action 1: marshals.
    const q = await coreWith('Quorum mob', 'MARKER-Q: the old tram depot', goAt)
    const marshals = [await join(q, 'M1'), await join(q, 'M2'), await join(q, 'M3')]
    const ana = await join(q, 'Ana')
    for (const name of ['M1', 'M2', 'M3']) await q.page.getByRole('checkbox', { name }).check()
    await q.page.getByLabel(t('marshalsHowMany')).selectOption('2')
    await q.page.getByRole('button', { name: t('marshalsArm') }).click()
    await q.page.locator('[data-quorum="2/3"]').waitFor()
    for (const m of marshals) await m.page.locator('[data-marshal="waiting"]').waitFor()
    await ana.page.locator('[data-opens-without-organizers]').waitFor()
    expect(await ana.page.locator('[data-marshal]').count()).toBe(0)
    await q.page.getByText(t('opensBy', { ways: 'a core phone or 2 of 3 marshals together' })).first().waitFor()

    // Action 2: the time lock.
    const tl = await coreWith('Timelock mob', 'MARKER-T: the library steps', goAt)
    const ben = await join(tl, 'Ben')
    const cam = await join(tl, 'Cam')
    await tl.page.getByRole('button', { name: t('timelockArm') }).click()
    // The test beacon is not drand's public network: the core is told, and decides.
    await tl.page.getByText(t('timelockUnknownNetwork')).waitFor()
    await tl.page.getByRole('button', { name: t('timelockUseAnyway') }).click()
    await tl.page.locator('[data-timelock-state="armed"]').waitFor()
    for (const p of [ben, cam]) await p.page.locator('[data-opens-without-organizers]').waitFor()
    // Cam cannot reach the drand proxy: only other phones can hand it the beacon.
    let blocked = 0
    await cam.context.route('**/drand/**', (route) => {
      blocked++
      return route.abort()
    })
    expect(Date.now()).toBeLessThan(goAt - 5_000)

    // Every core phone is gone before go; so is the third marshal.
    await q.close()
    await tl.close()
    await marshals[2]!.close()

    // The quorum: two marshals release at go; every participant still here reveals.
    await new Promise((r) => setTimeout(r, Math.max(0, goAt - Date.now())))
    for (const p of [marshals[0]!, marshals[1]!, ana]) await revealed(p, 'MARKER-Q')
    expect(await marshals[0]!.page.locator('[data-reveal]').count()).toBe(1)

    // The time lock: go has passed, but drand has not published the round: nothing opens.
    const round = roundAt(beacon.chain, goAt)
    await ben.page.waitForTimeout(4_000)
    for (const p of [ben, cam]) expect(await p.page.locator('[data-reveal]').count()).toBe(0)
    beacon.publish(round)
    for (const p of [ben, cam]) await revealed(p, 'MARKER-T')
    expect(blocked).toBeGreaterThan(0)
    for (const p of [...marshals.slice(0, 2), ana, ben, cam]) expect(p.pageErrors).toEqual([])
  })
})
