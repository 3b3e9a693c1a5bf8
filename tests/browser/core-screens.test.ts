// The core's screens under sync, the decisive taps, and joining, as people see them at 360×640:
// two core phones and participants in Chromium, a real signaling server on 127.0.0.1.
// Run with `npm run test:browser` (private network namespace).
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AppServer } from '../../src/server/app-server'
import { launch, PhonePage, serve, WAIT_MS } from './harness'
import { t } from './words'

let browser: Browser
let server: AppServer
let url: string
const phones: PhonePage[] = []

beforeAll(async () => {
  browser = await launch()
  ;({ server, url } = await serve())
})
afterAll(async () => {
  for (const p of phones) await p.close()
  await browser?.close()
  await server?.close()
})

const SMALL = { viewport: { width: 360, height: 640 } }

/** Closed when the file is done. */
function closeLater(p: PhonePage): PhonePage {
  phones.push(p)
  return p
}

const phone = async (): Promise<PhonePage> => closeLater(await PhonePage.open(browser, url, SMALL))

/** Opens an invite link on a fresh phone and sets it up. */
async function joined(link: string): Promise<PhonePage> {
  const p = await phone()
  await p.page.goto(link)
  await p.page.locator('[data-crypto="ready"]').waitFor()
  await p.setUp()
  return p
}

/** A core phone with a new action open on its plan screen. */
const core = async (title: string): Promise<PhonePage> => closeLater(await PhonePage.withAction(browser, url, title, SMALL))

const field = (p: PhonePage, id: Parameters<typeof t>[0]) => p.page.getByLabel(t(id), { exact: true })

async function waitValue(p: PhonePage, id: Parameters<typeof t>[0], want: (v: string) => boolean, what: string): Promise<string> {
  const deadline = Date.now() + WAIT_MS
  for (;;) {
    const v = await field(p, id).inputValue()
    if (want(v)) return v
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: the field shows ${JSON.stringify(v)}`)
    await p.page.waitForTimeout(50)
  }
}

describe('a core phone that joins sees what is set, live', () => {
  it('the location and go time fields show the plan once it arrives; the first phone counts two members without reopening', async () => {
    const a = await core('Spring mob')
    await field(a, 'location').fill('the old tram depot, hall 2')
    await a.page.getByRole('button', { name: t('saveLocation') }).click()
    await field(a, 'goAt').fill('2031-05-01T12:00')
    await a.page.getByRole('button', { name: t('setTimes') }).click()
    await a.page.getByText(t('coreMembers', { n: 1 })).waitFor()
    // A core invite without a name.
    const link = await a.invite('core')

    const b = await joined(link)
    await b.notes().waitFor()
    // The screen opened before the plan arrived: its fields must fill in by themselves.
    await waitValue(b, 'location', (v) => v === 'the old tram depot, hall 2', 'the sealed location in the new core phone’s field')
    await waitValue(b, 'goAt', (v) => v === '2031-05-01T12:00', 'the go time in the new core phone’s field')
    await b.page.getByText(t('coreMembers', { n: 2 })).waitFor()
    // The first phone's count follows while its screen stays open.
    await a.page.getByText(t('coreMembers', { n: 2 })).waitFor()
    // The newcomer invited without a name is not called the phone that created the action...
    await a.page.getByText(t('unnamedCore', { n: 1 })).waitFor()
    expect(await a.page.getByText(t('founder')).count()).toBe(0)
    // ...and on the newcomer's phone, the first phone is.
    await b.page.getByRole('button', { name: t('remove', { name: t('founder') }) }).waitFor()

    // A edits the staging point while B is typing in it: B's words and cursor stay.
    await field(b, 'stagingPoint').click()
    await b.page.keyboard.type('North gate', { delay: 5 })
    await b.page.keyboard.press('ArrowLeft')
    await b.page.keyboard.press('ArrowLeft')
    await field(a, 'stagingPoint').fill('Fountain')
    await field(a, 'stagingPoint').press('Tab')
    await b.page.locator('[data-stale]').waitFor()
    expect(await field(b, 'stagingPoint').inputValue()).toBe('North gate')
    expect(await field(b, 'stagingPoint').evaluate((e: HTMLInputElement) => [e.selectionStart, e.selectionEnd])).toEqual([8, 8])
    // A field B is not editing follows A at once (and B's own draft stays as it is).
    await field(a, 'bring').fill('water')
    await field(a, 'bring').press('Tab')
    await waitValue(b, 'bring', (v) => v === 'water', 'a brief field edited on the other phone')
    await field(a, 'location').fill('the river steps')
    await a.page.getByRole('button', { name: t('saveLocation') }).click()
    await waitValue(b, 'location', (v) => v === 'the river steps', 'a new location sealed on the other phone')
    // B saves its own: it replaces A's, and both phones show it.
    await field(b, 'stagingPoint').press('Tab')
    await waitValue(a, 'stagingPoint', (v) => v === 'North gate', 'B’s staging point on A')
    expect(await b.page.locator('[data-stale]').count()).toBe(0)
    // The list of actions follows the plan's title too.
    await b.page.getByRole('button', { name: t('back') }).click()
    await a.title().fill('Spring mob, north side')
    await b.page.getByRole('button', { name: /Spring mob, north side/ }).waitFor()
    expect(a.pageErrors).toEqual([])
    expect(b.pageErrors).toEqual([])
  })
})

describe('the decisive taps', () => {
  it('Go now and Call off each need a second, separate tap; a double tap on the first reveals nothing', async () => {
    const a = await core('Careful')
    await field(a, 'location').fill('the library steps')
    await a.page.getByRole('button', { name: t('saveLocation') }).click()
    const link = await a.invite('participant', 'Ana')
    const p = await joined(link)
    await p.page.getByRole('heading', { name: t('briefTitle') }).waitFor()

    const go = a.page.getByRole('button', { name: t('goNow'), exact: true })
    await go.dblclick()
    await a.page.getByRole('alertdialog').getByText(t('goNowConfirm')).waitFor()
    // Nothing was released by the hurried double tap.
    await p.page.waitForTimeout(1500)
    expect(await a.page.locator('[data-go-state]').getAttribute('data-go-state')).toBe('scheduled')
    expect(await p.page.locator('[data-reveal]').count()).toBe(0)
    await a.page.getByRole('button', { name: t('cancel'), exact: true }).click()
    expect(await a.page.getByRole('alertdialog').count()).toBe(0)

    await a.page.getByRole('button', { name: t('callOff'), exact: true }).click()
    await a.page.getByRole('alertdialog').getByText(t('callOffConfirm')).waitFor()
    await a.page.getByRole('button', { name: t('cancel'), exact: true }).click()
    expect(await a.page.locator('[data-go-state]').getAttribute('data-go-state')).toBe('scheduled')

    await go.click()
    await a.page.getByRole('button', { name: t('goNowYes') }).click()
    await p.page.locator('[data-reveal]').filter({ hasText: 'the library steps' }).waitFor()
    expect(await a.page.locator('[data-go-state]').getAttribute('data-go-state')).toBe('released')
  })

  it('Call off, confirmed, tells participants', async () => {
    const a = await core('Maybe not')
    const p = await joined(await a.invite('participant'))
    await p.page.getByRole('heading', { name: t('briefTitle') }).waitFor()
    await a.page.getByRole('button', { name: t('callOff'), exact: true }).click()
    await a.page.getByRole('button', { name: t('callOffYes') }).click()
    await p.page.locator('[data-go-state="called-off"]').getByText(t('callOffMessage'), { exact: true }).waitFor()
  })
})

describe('joining', () => {
  it('the invite page says what the link is for, with the passphrase fields in view; a core phone online is not reported as missing', async () => {
    const a = await core('Open day')
    const participantLink = await a.invite('participant', 'Bo')
    const coreLink = await a.invite('core', 'Cy')

    for (const [link, tier] of [
      [participantLink, 'participant'],
      [coreLink, 'core'],
    ] as const) {
      const p = await phone()
      await p.page.goto(link)
      await p.page.locator('[data-crypto="ready"]').waitFor()
      await p.page.getByRole('heading', { name: tier === 'core' ? t('invitedCoreTitle') : t('invitedParticipantTitle') }).waitFor()
      await p.page.getByText(tier === 'core' ? t('invitedCore') : t('invitedParticipant')).waitFor()
      for (const label of ['passphrase', 'passphraseAgain'] as const) {
        const box = await p.page.getByLabel(t(label), { exact: true }).boundingBox()
        expect(box && box.y + box.height <= 640, `${label} field within the first screen`).toBe(true)
      }
      const steps: string[] = []
      await p.page.exposeFunction('__joinStep', (s: string) => steps.push(s))
      await p.page.evaluate(() => {
        new MutationObserver(() => {
          const s = document.querySelector('[data-join]')?.getAttribute('data-join')
          if (s) (window as unknown as { __joinStep: (s: string) => void }).__joinStep(s)
        }).observe(document.body, { subtree: true, childList: true, attributes: true })
      })
      await p.setUp()
      if (tier === 'core') await p.notes().waitFor()
      else await p.page.getByRole('heading', { name: t('briefTitle') }).waitFor()
      expect(steps).not.toContain('unanswered')
      expect(steps).not.toContain('refused')
      expect(p.pageErrors).toEqual([])
    }
  })

  it('with no core phone online the phone says so, and joins once one comes', async () => {
    const a = await core('Later')
    const link = await a.invite('participant')
    await a.page.getByRole('button', { name: t('back') }).click()
    await a.page.getByRole('button', { name: t('lock') }).click()
    const p = await joined(link)
    await p.page.getByRole('status').filter({ hasText: t('joinUnanswered') }).waitFor()
    await a.unlock()
    await p.page.getByRole('heading', { name: t('briefTitle') }).waitFor()
  })

  it('a used or broken link is announced as an error, at the top of the screen', async () => {
    const a = await core('Once')
    const link = await a.invite('participant')
    const first = await joined(link)
    await first.page.getByRole('heading', { name: t('briefTitle') }).waitFor()

    const second = await joined(link)
    const alert = second.page.getByRole('alert').filter({ hasText: t('error.join.used') })
    await alert.waitFor()
    const box = await alert.boundingBox()
    expect(box && box.y + box.height <= 640).toBe(true)

    const broken = await phone()
    await broken.page.goto(link.slice(0, -6))
    await broken.page.locator('[data-crypto="ready"]').waitFor()
    // Said before anything is asked, where the eye is.
    const early = broken.page.getByRole('alert').filter({ hasText: t('error.invite.incomplete') })
    await early.waitFor()
    const earlyBox = await early.boundingBox()
    expect(earlyBox && earlyBox.y + earlyBox.height <= 640).toBe(true)
  })

  it('a participant phone throws nothing while joining and unlocking, and its mesh is whole afterwards', async () => {
    const a = await core('Whole mesh')
    await field(a, 'location').fill('platform 9')
    await a.page.getByRole('button', { name: t('saveLocation') }).click()
    const p = await joined(await a.invite('participant'))
    await p.page.getByRole('heading', { name: t('briefTitle') }).waitFor()
    await p.waitPeers(1)
    await p.page.getByRole('button', { name: t('back') }).click()
    await p.page.getByRole('button', { name: t('lock') }).click()
    await p.unlock()
    await p.page.getByRole('button', { name: /\(participant\)/ }).click()
    await p.waitPeers(1)
    await a.goNow()
    await p.page.locator('[data-reveal]').filter({ hasText: 'platform 9' }).waitFor()
    expect(p.pageErrors).toEqual([])
  })
})

describe('smaller things people noticed', () => {
  it('the action’s time zone comes before the times it applies to', async () => {
    const a = await core('Zones')
    const order = await a.page.evaluate(
      ([zone, gather]) => {
        const z = [...document.querySelectorAll('label')].find((l) => l.textContent?.startsWith(zone!))
        const g = [...document.querySelectorAll('label')].find((l) => l.textContent?.startsWith(gather!))
        return z && g ? z.compareDocumentPosition(g) & Node.DOCUMENT_POSITION_FOLLOWING : -1
      },
      [t('timeZone'), t('gatherAt')],
    )
    expect(order).toBe(Node_DOCUMENT_POSITION_FOLLOWING)
  })
})

const Node_DOCUMENT_POSITION_FOLLOWING = 4
