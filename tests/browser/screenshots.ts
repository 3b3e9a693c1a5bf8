// Screenshots of the main screens at phone size (360×640), for the README.
// Run: npm run screenshots (builds, then runs in a private network namespace).
import { mkdir } from 'node:fs/promises'
import path from 'node:path'
import { cryptoReady } from '../../src/crypto'
import { t } from './words'
import { launch, PhonePage, serve } from './harness'

const OUT = path.resolve('tests/browser/screenshots')
const phone = { viewport: { width: 360, height: 640 } }

await cryptoReady()
await mkdir(OUT, { recursive: true })
const { server, url } = await serve(0, path.resolve('dist'))
const browser = await launch()
try {
  const shot = async (p: PhonePage, name: string): Promise<void> => {
    await p.page.screenshot({ path: path.join(OUT, `${name}.png`) })
    console.info(`wrote ${path.join('tests/browser/screenshots', `${name}.png`)}`)
  }
  const core = await PhonePage.open(browser, url, phone)
  await core.goto()
  await shot(core, '1-first-run')
  await core.setUp()
  await core.createAction('Spring mob')
  await core.page.getByLabel(t('location')).fill('The old tram depot, gate 3: walk in slowly, then sit in a circle.')
  await core.page.getByRole('button', { name: t('saveLocation') }).click()
  await core.page.getByLabel(t('stagingPoint'), { exact: true }).fill('Fountain, north side')
  await core.page.getByLabel(t('stagingPoint'), { exact: true }).press('Tab')
  await core.page.getByLabel(t('bring')).fill('Water, a scarf, a charged phone')
  await core.page.getByLabel(t('bring')).press('Tab')
  await core.page.getByLabel(t('conduct')).fill('Calm and quiet; no banners until go')
  await core.page.getByLabel(t('conduct')).press('Tab')
  await core.page.getByLabel(t('goAt')).fill('2030-06-01T18:00')
  await core.page.getByRole('button', { name: t('setTimes') }).click()
  await core.page.evaluate(() => window.scrollTo(0, 0))
  await shot(core, '2-core-plan')
  const link = await core.invite('participant', 'Ana')
  await core.page.getByRole('heading', { name: t('invitesSection') }).scrollIntoViewIfNeeded()
  await shot(core, '3-invite')
  const part = await PhonePage.open(browser, url, phone)
  await part.page.goto(link)
  await part.page.locator('[data-crypto="ready"]').waitFor()
  await part.setUp()
  await part.page.getByRole('heading', { name: t('briefTitle') }).waitFor()
  await shot(part, '4-participant-brief')
  await core.goNow()
  await part.page.locator('[data-reveal]').waitFor()
  await shot(part, '5-reveal')
  await core.page.getByRole('button', { name: t('showReleaseQr') }).click()
  await core.page.locator('[data-release-code]').scrollIntoViewIfNeeded()
  await shot(core, '6-release-qr')
} finally {
  await browser.close()
  await server.close()
}
