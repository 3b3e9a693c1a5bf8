// Two phones in real Chromium, real WebRTC, the real signaling server on 127.0.0.1:
// how long until they are connected, and how long an edit takes to show on the other
// phone (mesh only, and mesh with the server relay). Prints a table; asserts nothing.
// Part of npm run bench (builds first, runs in a private network namespace).
import { launch, PhonePage, serve } from '../tests/browser/harness'
import { t } from '../tests/browser/words'
import { quantile, type Row } from './table'


async function run(serverRelay: boolean, dist: string, edits: number) {
  const { server, url } = await serve(0, dist)
  const browser = await launch()
  try {
    const a = await PhonePage.open(browser, url)
    await a.goto()
    await a.setUp()
    if (!serverRelay) await a.setServerRelay(false)
    await a.createAction('Bench')
    const link = await a.invite()
    const b = await PhonePage.open(browser, url)
    await b.page.goto(link)
    await b.setUp()
    await b.notes().waitFor()
    await b.page.getByRole('button', { name: t('back') }).click()
    if (!serverRelay) await b.setServerRelay(false)
    await b.page.getByRole('button', { name: /Bench/ }).click()
    await b.waitPeers(1)
    // What a person sees: reopen the app, unlock (Argon2id), open the plan, wait for the peer.
    await b.page.reload()
    await b.page.locator('[data-crypto="ready"]').waitFor()
    const unlockStart = Date.now()
    await b.unlock()
    await b.page.getByRole('button', { name: /Bench/ }).waitFor()
    const unlockMs = Date.now() - unlockStart
    await b.page.getByRole('button', { name: /Bench/ }).click()
    await b.waitPeers(1)
    const connectMs = Date.now() - unlockStart - unlockMs
    const latencies: number[] = []
    for (let i = 0; i < edits; i++) {
      const token = `t${i}x${Math.random().toString(36).slice(2, 8)} `
      const start = Date.now()
      await a.notes().press('Control+End')
      await a.page.keyboard.insertText(token)
      await b.page.waitForFunction((t) => (document.querySelector('textarea') as HTMLTextAreaElement).value.includes(t), token, { polling: 5, timeout: 30_000 })
      latencies.push(Date.now() - start)
    }
    return { unlockMs, connectMs, median: quantile(latencies, 0.5), p90: quantile(latencies, 0.9) }
  } finally {
    await browser.close()
    await server.close()
  }
}

export async function syncRows(dist: string, quick: boolean): Promise<Row[]> {
  const edits = quick ? 5 : 15
  // The quick run measures the default (mesh + server relay) only.
  const relay = await run(true, dist, edits)
  const rows: Row[] = [
    { figure: 'unlock (Argon2id 64 MiB, 3 passes, Chromium wasm) and open every action', value: relay.unlockMs, unit: 'ms' },
    { figure: 'then WebRTC connected (mesh + server relay)', value: relay.connectMs, unit: 'ms' },
    { figure: `edit → visible on the other phone, median of ${edits} (300 ms batch included), mesh + relay`, value: relay.median, unit: 'ms' },
    { figure: 'same, p90, mesh + relay', value: relay.p90, unit: 'ms' },
  ]
  if (quick) return rows
  const mesh = await run(false, dist, edits)
  return [
    ...rows,
    { figure: 'then WebRTC connected (mesh only)', value: mesh.connectMs, unit: 'ms' },
    { figure: 'edit → visible, median, mesh only', value: mesh.median, unit: 'ms' },
    { figure: 'same, p90, mesh only', value: mesh.p90, unit: 'ms' },
  ]
}
