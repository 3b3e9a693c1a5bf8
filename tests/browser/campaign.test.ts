// Blossom everywhere, in real browsers: three cells in three time zones (each a core phone and two
// participants, each phone its own Chromium context in its cell's zone) and one remote supporter,
// over the real signaling server and real WebRTC. A campaign invite joins the cells; the go instant
// shows in each cell's zone; a campaign Go now reveals in every cell; no phone of one cell holds
// anything of another's brief or location (page, storage, wire). A participant turned attacker (a
// modified client in this process, holding its cell's brief key) sends a forged go on the wire and
// is refused. A vouched invite admits a friend; removing the voucher's branch removes both.
// Run with `npm run test:browser` (private network namespace).
import 'fake-indexeddb/auto'
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { WebSocket } from 'ws'
import { concat, cryptoReady, type SecretKey } from '../../src/crypto'
import { FrameKind, sealFrame } from '../../src/doc'
import { Phone, type ActionSession } from '../../src/model'
import { BriefEditor } from '../../src/model/brief'
import { giveOrder } from '../../src/model/campaign-order'
import { openBlossomDB } from '../../src/store'
import type { AppServer } from '../../src/server/app-server'
import { ownSockets, releaseSockets, roomKeys, SealedTopic } from '../../src/transport'
import { Wiretap } from '../transport/wiretap'
import { launch, PhonePage, serve, WAIT_MS } from './harness'
import { t } from './words'

;(globalThis as { WebSocket?: unknown }).WebSocket ??= WebSocket

let browser: Browser
let server: AppServer
let url: string

beforeAll(async () => {
  browser = await launch()
  ;({ server, url } = await serve())
})

afterAll(async () => {
  await browser?.close()
  await server?.close()
})

interface Cell {
  readonly name: string
  readonly zone: string
  /** 12:00 in Washington on 1 June 2030, in this cell's zone. */
  readonly localGo: string
  core: PhonePage
  participants: PhonePage[]
}

const CELLS: readonly Omit<Cell, 'core' | 'participants'>[] = [
  { name: 'DC', zone: 'America/New_York', localGo: '12:00' },
  { name: 'LDN', zone: 'Europe/London', localGo: '17:00' },
  { name: 'NBO', zone: 'Africa/Nairobi', localGo: '19:00' },
]

const location = (name: string) => `MARKER-${name}-LOCATION behind the library`
const staging = (name: string) => `MARKER-${name}-STAGING by the clock`

async function openLink(link: string, zone: string): Promise<PhonePage> {
  const p = await PhonePage.open(browser, url, { timezoneId: zone })
  await p.page.goto(link)
  await p.page.locator('[data-crypto="ready"]').waitFor()
  await p.setUp()
  return p
}

/** A cell: its core phone with a sealed location, staging point and go time in its own zone; two participants. */
async function makeCell(c: (typeof CELLS)[number]): Promise<Cell> {
  const core = await PhonePage.withAction(browser, url, `${c.name} plan`, { timezoneId: c.zone })
  const page = core.page
  await page.getByLabel(t('location')).fill(location(c.name))
  await page.getByRole('button', { name: t('saveLocation') }).click()
  await page.getByText(t('locationSealed')).waitFor()
  await page.getByLabel(t('stagingPoint'), { exact: true }).fill(staging(c.name))
  await page.getByLabel(t('stagingPoint'), { exact: true }).press('Tab')
  await page.getByLabel(t('goAt')).fill('2030-06-01T20:00')
  await page.getByRole('button', { name: t('setTimes') }).click()
  const participants: PhonePage[] = []
  for (const who of ['one', 'two']) {
    const p = await openLink(await core.invite('participant', `${c.name} ${who}`), c.zone)
    await p.page.getByText(staging(c.name)).waitFor()
    participants.push(p)
  }
  return { ...c, core, participants }
}

/** The campaign section of a core phone (it loads when the plan screen shows). */
const campaignOf = (p: PhonePage) => p.page.getByRole('region', { name: t('campaignSection') })

async function cellTimes(p: PhonePage): Promise<Record<string, string>> {
  const items = campaignOf(p).getByRole('list', { name: t('campaignCells') }).getByRole('listitem')
  const out: Record<string, string> = {}
  for (const item of await items.all()) out[(await item.getAttribute('data-cell-zone'))!] = await item.innerText()
  return out
}

/** A modified client in this process: a participant of one cell, holding its brief key, speaking on its brief room's relay. */
async function participantAttacker(link: string): Promise<{ session: ActionSession; phone: Phone }> {
  await cryptoReady()
  const signal = `${url.replace(/^http/, 'ws')}/signal?attacker=1`
  const phone = await Phone.setUp(await openBlossomDB(`attacker-${Date.now()}`), 'a long passphrase', { signalingUrls: [signal], iceServers: [], relayOnly: false, mesh: false })
  const id = await phone.join(link).done
  return { session: phone.get(id), phone }
}

/** Sends one frame, sealed by hand, on a document's relay topic: what any holder of its key can do. */
async function sendOnRelay(docKey: SecretKey, frame: Uint8Array): Promise<void> {
  const keys = roomKeys(docKey)
  const topic = new SealedTopic(keys.relayTopic, keys.relayKey, 1 << 20, () => {}, () => {}, 256)
  const sockets = ownSockets([`${url.replace(/^http/, 'ws')}/signal?rogue=${Math.random()}`], topic)
  for (const s of sockets) topic.attach(s)
  const deadline = Date.now() + WAIT_MS
  while (!topic.online && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
  topic.send(concat(Uint8Array.of(1), frame))
  await new Promise((r) => setTimeout(r, 500))
  topic.close()
  releaseSockets(sockets, topic)
}

describe('Blossom everywhere', () => {
  it('three cells in three zones join a campaign; the go instant shows in each zone; a forged go is refused; Go now reveals in every cell and signals the remote supporter; no cell holds another’s brief', async () => {
    const tap = new Wiretap(server.http)
    const cells: Cell[] = []
    for (const c of CELLS) cells.push(await makeCell(c))
    const [dc, ldn, nbo] = cells as [Cell, Cell, Cell]

    // Washington starts the campaign; London and Nairobi join with one-time campaign invites.
    const start = campaignOf(dc.core)
    await start.getByLabel(t('cellName')).fill(dc.name)
    await start.getByLabel(t('campaignName')).fill('Blossom everywhere')
    await start.getByRole('button', { name: t('startCampaign') }).click()
    for (const c of [ldn, nbo]) {
      const from = campaignOf(dc.core)
      await from.getByLabel(t('campaignInviteLabel')).fill(c.name)
      await from.getByRole('button', { name: t('campaignInvite') }).click()
      const link = await from.getByRole('textbox', { name: t('campaignInviteLink') }).inputValue()
      const to = campaignOf(c.core)
      await to.getByLabel(t('cellName')).fill(c.name)
      await to.getByLabel(t('campaignJoinLink')).fill(link)
      await to.getByRole('button', { name: t('joinCampaign') }).click()
    }
    for (const c of cells) await expect.poll(async () => Object.keys(await cellTimes(c.core)).length, { timeout: WAIT_MS }).toBe(3)

    // One go instant, set in Washington's zone: each cell's line shows it in that cell's own zone, on every core phone.
    await campaignOf(dc.core).getByLabel(t('campaignGoAt')).fill('2030-06-01T12:00')
    await campaignOf(dc.core).getByRole('button', { name: t('campaignSchedule') }).click()
    for (const c of cells) {
      await expect.poll(async () => (await cellTimes(c.core))['Europe/London'] ?? '', { timeout: WAIT_MS }).toContain('17:00')
      const times = await cellTimes(c.core)
      for (const other of cells) expect(times[other.zone]).toContain(other.localGo)
    }

    // A remote supporter of Nairobi: its task, never the location.
    await nbo.core.page.getByLabel(t('inviteLabel')).fill('far friend')
    await nbo.core.page.getByRole('button', { name: t('inviteRemote') }).click()
    const remoteLink = await nbo.core.page.getByRole('textbox', { name: t('inviteLinkLabel') }).inputValue()
    await nbo.core.page.getByLabel(t('remoteTask')).fill('MARKER-REMOTE-TASK: share the stream, legal line 555-0100')
    await nbo.core.page.getByLabel(t('remoteTask')).press('Tab')
    const remote = await openLink(remoteLink, 'Asia/Tokyo')
    await remote.page.getByText('MARKER-REMOTE-TASK', { exact: false }).waitFor()

    // A participant of London turns attacker: with London's brief key it sends, on the wire, a
    // frame of its own making that holds the brief's go (a release it signed) and a campaign Go now
    // order signed by itself. Every London phone refuses it: nothing is revealed, nothing goes.
    const attacker = await participantAttacker(await ldn.core.invite('participant', 'LDN attacker'))
    const s = attacker.session
    await expect.poll(() => s.brief.read().stagingPoint, { timeout: WAIT_MS }).toBe(staging('LDN'))
    const briefKey = s.access.brief.keys.get(Math.max(...s.access.brief.keys.keys()))!
    const copy = new Y.Doc()
    Y.applyUpdate(copy, Y.encodeStateAsUpdate(s.briefDoc.plain))
    const before = Y.encodeStateVector(copy)
    const editor = new BriefEditor(copy, s.access.brief.docId)
    editor.setTimes({ goAt: Date.now() })
    editor.setState('scheduled')
    // It has no stage key: it "releases" with a key of its own, signed by itself.
    const stageId = s.stages()[0]!.id
    editor.release(stageId, briefKey, s.me)
    giveOrder(copy, s.access.brief.docId, s.me, 'go', Date.now(), 1)
    const forged = sealFrame({ kind: FrameKind.update, docId: s.briefDoc.docId, epoch: s.briefDoc.epoch, counter: 1 }, Y.encodeStateAsUpdate(copy, before), briefKey, s.me).bytes
    await sendOnRelay(briefKey, forged)
    await ldn.core.page.waitForTimeout(2_000)
    for (const p of [ldn.core, ...ldn.participants]) expect(await p.page.locator('body').innerText()).not.toContain(location('LDN'))
    for (const p of ldn.participants) expect(await p.page.locator('[data-reveal]').count()).toBe(0)
    await attacker.phone.lock()

    // Go now from London's coordinator: every cell's core releases its own location, every participant sees its own cell's.
    await campaignOf(ldn.core).getByRole('button', { name: t('campaignGoNow') }).click()
    await campaignOf(ldn.core).getByRole('button', { name: t('campaignGoNowYes') }).click()
    for (const c of cells) for (const p of c.participants) await p.page.getByText(location(c.name)).waitFor({ timeout: WAIT_MS })
    await remote.page.locator('[data-went]').waitFor({ timeout: WAIT_MS })

    // Need to know, across cells: no phone of one cell shows, stores or received another cell's brief or location.
    for (const c of cells) {
      for (const p of [c.core, ...c.participants]) {
        const seen = await p.page.locator('body').innerText()
        const stored = await p.storedBytes()
        const wire = (await p.channels()).bytes
        for (const other of cells.filter((o) => o !== c)) {
          for (const marker of [location(other.name), staging(other.name), `${other.name} plan`]) {
            expect(seen, `${c.name} page`).not.toContain(marker)
            expect(stored, `${c.name} storage`).not.toContain(marker)
            expect(wire, `${c.name} WebRTC`).not.toContain(marker)
          }
        }
      }
    }
    // The remote supporter: the go signal and its task, never a location or a staging point.
    const remoteSeen = await remote.page.locator('body').innerText()
    const remoteStored = await remote.storedBytes()
    for (const c of cells) for (const marker of [location(c.name), staging(c.name)]) {
      expect(remoteSeen).not.toContain(marker)
      expect(remoteStored).not.toContain(marker)
    }
    // The server saw only ciphertext.
    for (const c of cells) for (const marker of [location(c.name), staging(c.name), 'Blossom everywhere', 'MARKER-REMOTE-TASK']) expect(tap.all().includes(Buffer.from(marker))).toBe(false)
    for (const c of cells) for (const p of [c.core, ...c.participants]) expect(p.pageErrors).toEqual([])
    for (const p of [remote, ...cells.flatMap((c) => [c.core, ...c.participants])]) await p.close()
  }, 420_000)

  it('a participant passes on a vouched invite; a friend joins; removing the voucher’s branch removes both', async () => {
    const core = await PhonePage.withAction(browser, url, 'Seeds')
    await core.page.getByLabel(t('stagingPoint'), { exact: true }).fill('the old market')
    await core.page.getByLabel(t('stagingPoint'), { exact: true }).press('Tab')
    const ana = await openLink(await core.invite('participant', 'Ana'), 'UTC')
    const bo = await openLink(await core.invite('participant', 'Bo'), 'UTC')
    await ana.page.getByText('the old market').waitFor()

    await core.page.getByRole('button', { name: t('allowVouching', { name: 'Ana' }) }).click()
    const anaLinks = ana.page.getByRole('textbox', { name: t('vouchLink', { n: 1 }) })
    await anaLinks.waitFor()
    // Bo holds the same brief and sees no invites to pass on.
    await bo.page.waitForTimeout(1_000)
    expect(await bo.page.getByRole('heading', { name: t('vouchSection') }).count()).toBe(0)

    const friend = await openLink(await anaLinks.inputValue(), 'UTC')
    await friend.page.getByText('the old market').waitFor()
    await core.page.getByText(t('vouchedVia', { name: 'Ana' })).first().waitFor()

    await core.page.getByRole('button', { name: t('removeBranch', { name: 'Ana' }) }).click()
    await core.page.getByRole('button', { name: t('removeBranchConfirm', { name: 'Ana' }) }).click()
    await core.page.getByLabel(t('stagingPoint'), { exact: true }).fill('the new place')
    await core.page.getByLabel(t('stagingPoint'), { exact: true }).press('Tab')
    await bo.page.getByText('the new place').waitFor()
    await ana.page.waitForTimeout(2_000)
    for (const gone of [ana, friend]) expect(await gone.page.locator('body').innerText()).not.toContain('the new place')
    for (const p of [core, ana, bo, friend]) await p.close()
  }, 240_000)
})
