// Campaigns, end to end in Node: three cells (each a core phone, one with a participant and a
// remote supporter) on a real signaling server, joined through campaign invites; then the
// campaign attacked as a modified client would: frames sealed by hand with the campaign key by a
// phone that is no coordinator, orders signed by the wrong key, replayed from another campaign,
// or numbered to stay last forever, and a removed cell with its old key.
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { identityFromSeed, newIdentity, publicPart, toBase64Url, type DeviceIdentity, type SecretKey } from '../../src/crypto'
import { FrameKind, sealFrame, type SecureDoc } from '../../src/doc'
import { InviteLinkError, Phone, type ActionSession } from '../../src/model'
import { invitesOf, type InviteEntry } from '../../src/model/invites'
import { campaignTiming, giveOrder, ordersOf } from '../../src/model/campaign-order'
import { startSignaling, waitFor, type Harness } from '../server/helpers'
import { newPhone, ORIGIN, PASSPHRASE, revealed, sessionOf, type TestPhone } from './phones'

let harness: Harness | undefined
const phones: Phone[] = []
afterEach(async () => {
  await Promise.all(phones.splice(0).map((p) => p.lock().catch(() => undefined)))
  await harness?.stop()
})

const T = 20_000

/** A core phone with its own action: a staging point, a sealed location, a time zone. */
async function cell(url: string, name: string, zone: string): Promise<TestPhone & { s: () => ActionSession }> {
  const t = await newPhone(url, phones)
  const id = await t.phone.createAction(`${name} plan`)
  const s = t.phone.get(id)
  s.setBrief('stagingPoint', `${name} staging point`)
  s.setStage({ text: `${name} secret location` })
  s.setTimes({ timeZone: zone, goAt: Date.now() + 3 * 3600_000 })
  return { ...t, s: () => sessionOf(t) }
}

async function joinCell(core: TestPhone & { s: () => ActionSession }, link: string, name: string): Promise<void> {
  await core.phone.joinCampaign(core.s().id, link, name).done
}

async function participant(url: string, core: ActionSession, tier: 'participant' | 'remote' = 'participant'): Promise<TestPhone & { s: () => ActionSession }> {
  const t = await newPhone(url, phones)
  await t.phone.join(core.invite(tier, tier === 'remote' ? 'far friend' : 'friend', ORIGIN)).done
  return { ...t, s: () => sessionOf(t) }
}

/** Three cells in one campaign: Washington starts it, London and Nairobi join by invite. */
async function threeCells(url: string) {
  const dc = await cell(url, 'Washington', 'America/New_York')
  const ldn = await cell(url, 'London', 'Europe/London')
  const nbo = await cell(url, 'Nairobi', 'Africa/Nairobi')
  await dc.phone.startCampaign(dc.s().id, 'Blossom everywhere', 'DC')
  await joinCell(ldn, dc.s().campaignInvite('London', ORIGIN), 'LDN')
  await joinCell(nbo, dc.s().campaignInvite('Nairobi', ORIGIN), 'NBO')
  for (const c of [dc, ldn, nbo]) await waitFor(() => c.s().campaign()?.cells.length === 3, 'every cell sees three cells', T)
  return { dc, ldn, nbo }
}

/** A frame sealed by hand into a document, as its author (writer or not) would send it. */
function craftedFrame(doc: SecureDoc, key: SecretKey, author: DeviceIdentity, counter: number, edit: (d: Y.Doc) => void): Uint8Array {
  const copy = new Y.Doc()
  Y.applyUpdate(copy, Y.encodeStateAsUpdate(doc.plain))
  const before = Y.encodeStateVector(copy)
  edit(copy)
  return sealFrame({ kind: FrameKind.update, docId: doc.docId, epoch: doc.epoch, counter }, Y.encodeStateAsUpdate(copy, before), key, author).bytes
}

const newestCampaignKey = (s: ActionSession): SecretKey => {
  const keys = s.access.campaign!.access.keys
  return keys.get(Math.max(...keys.keys()))!
}

describe('campaigns', () => {
  it('three cells join; one go instant shows in every cell zone; Go now releases every cell and signals remote supporters', async () => {
    harness = await startSignaling()
    const { dc, ldn, nbo } = await threeCells(harness.url)
    const ana = await participant(harness.url, nbo.s())
    const far = await participant(harness.url, nbo.s(), 'remote')
    nbo.s().setRemoteTask('Share the livestream link at go; legal line: call 555-0100')
    await waitFor(() => far.s().brief.read().remoteTask.startsWith('Share the livestream'), 'the remote supporter has its task', T)

    // One instant for all: noon in Washington is 17:00 in London and 20:00 in Nairobi.
    const goAt = Date.UTC(2027, 2, 14, 17, 0)
    ldn.s().campaignOrder('schedule', goAt)
    for (const c of [dc, ldn, nbo]) await waitFor(() => c.s().brief.read().goAt === goAt, 'every cell takes the campaign go instant', T)
    await waitFor(() => far.s().brief.read().goAt === goAt, 'the remote supporter sees the go instant', T)
    const zones = Object.fromEntries(dc.s().campaign()!.cells.map((c) => [c.name, c.timeZone]))
    expect(zones).toEqual({ DC: 'America/New_York', LDN: 'Europe/London', NBO: 'Africa/Nairobi' })
    const local = (zone: string) => new Intl.DateTimeFormat('en-GB', { timeZone: zone, hour: '2-digit', minute: '2-digit' }).format(goAt)
    expect([local(zones.DC!), local(zones.LDN!), local(zones.NBO!)]).toEqual(['13:00', '17:00', '20:00'])
    expect(dc.s().campaign()!.orderedBy).toBe('LDN')

    // Go now from Nairobi's coordinator: every cell's core releases its own location.
    expect(revealed(ana.s())).toBeUndefined()
    nbo.s().campaignOrder('go')
    for (const [c, name] of [[dc, 'Washington'], [ldn, 'London'], [nbo, 'Nairobi']] as const) {
      await waitFor(() => c.s().brief.isReleased(c.s().stages()[0]!.id), `${name} released`, T)
    }
    await waitFor(() => revealed(ana.s()) === 'Nairobi secret location', 'the participant in Nairobi sees the reveal', T)
    await waitFor(() => far.s().brief.read().wentAt !== undefined, 'the remote supporter gets the go signal', T)
    // The remote supporter holds no location: its one document has no stage, no key, no staging point.
    expect(far.s().stages()).toEqual([])
    expect(far.s().brief.read().stagingPoint).toBe('')
    const farState = JSON.stringify(far.s().briefDoc.plain.toJSON())
    expect(farState).not.toContain('Nairobi secret location')
    expect(farState).not.toContain('staging point')
    expect(far.s().role).toBe('remote')
  }, 120_000)

  it('a cell learns nothing of another: the campaign document holds no plan, brief, location or participant of any cell', async () => {
    harness = await startSignaling()
    const { dc, ldn } = await threeCells(harness.url)
    await participant(harness.url, dc.s())
    dc.s().campaignMessage('DC ready')
    await waitFor(() => ldn.s().campaign()!.messages.some((m) => m.text === 'DC ready' && m.cellName === 'DC'), 'message between coordinators', T)
    const held = JSON.stringify(ldn.s().campaignDoc!.plain.toJSON())
    for (const secret of ['Washington plan', 'Washington staging point', 'Washington secret location', 'Nairobi secret location', 'friend']) expect(held).not.toContain(secret)
    // London's phone holds no key of Washington's documents.
    const dcKeys = [...dc.s().access.brief.keys.values(), ...dc.s().access.plan!.keys.values()].map(toBase64Url)
    const ldnRecord = JSON.stringify({ ...ldn.s().recordNow(), campaign: { access: [...ldn.s().access.campaign!.access.keys.values()].map(toBase64Url) } })
    for (const k of dcKeys) expect(ldnRecord).not.toContain(k)
    // A campaign invite is no way into an action.
    expect(() => ldn.phone.join(dc.s().campaignInvite('x', ORIGIN))).toThrow(InviteLinkError)
  }, 120_000)

  it('a campaign hold holds every cell except one that opted out; resume and delay move them all', async () => {
    harness = await startSignaling()
    const { dc, ldn, nbo } = await threeCells(harness.url)
    ldn.s().setIgnoreCampaignHold(true)
    const goAt = Date.now() + 3600_000
    dc.s().campaignOrder('schedule', goAt)
    for (const c of [dc, ldn, nbo]) await waitFor(() => c.s().brief.read().goAt === goAt, 'scheduled', T)
    nbo.s().campaignOrder('hold')
    await waitFor(() => dc.s().brief.read().state === 'held' && nbo.s().brief.read().state === 'held', 'held', T)
    await waitFor(() => ldn.s().campaign()!.timing.state === 'held', 'London hears the hold', T)
    expect(ldn.s().brief.read().state).toBe('scheduled')
    dc.s().campaignOrder('resume')
    await waitFor(() => dc.s().brief.read().state === 'scheduled' && nbo.s().brief.read().state === 'scheduled', 'resumed', T)
    ldn.s().campaignDelay(15)
    for (const c of [dc, ldn, nbo]) await waitFor(() => c.s().brief.read().goAt === goAt + 15 * 60_000, 'delayed 15 minutes', T)
  }, 120_000)

  it('forged orders are refused: a non-coordinator with the campaign key, a wrong signer, a replay from another campaign, a jump ahead, a removed cell', async () => {
    harness = await startSignaling()
    const { dc, ldn, nbo } = await threeCells(harness.url)
    const goAt = Date.now() + 3600_000
    dc.s().campaignOrder('schedule', goAt)
    for (const c of [dc, ldn, nbo]) await waitFor(() => c.s().brief.read().goAt === goAt, 'scheduled', T)
    const doc = ldn.s().campaignDoc!
    const key = newestCampaignKey(ldn.s())
    const campaignId = ldn.s().access.campaign!.access.docId
    const coordinators = new Set(doc.writers().map((w) => toBase64Url(w.signingPublicKey)))

    // 1. Someone holding the campaign key (a participant who saw a coordinator's phone) but no
    // coordinator: its frame, carrying its own signed Go now, is refused outright.
    const mallory = newIdentity()
    const forged = craftedFrame(doc, key, mallory, 1, (d) => giveOrder(d, campaignId, mallory, 'go', Date.now(), ldn.s().campaign()!.timing.seq + 1))
    expect(doc.receive(forged)).not.toBe('accepted')

    // 2. A coordinator's frame that carries an order signed by someone else: the frame counts, the order does not.
    const dcMe = dc.phone.get(dc.s().id)
    const dcDoc = dcMe.campaignDoc!
    dcDoc.plain.transact(() => giveOrder(dcDoc.plain, campaignId, mallory, 'go', Date.now(), dc.s().campaign()!.timing.seq + 1))
    dcDoc.flush()
    await waitFor(() => ordersOf(doc.plain).size === 2, 'the relayed order arrived', T)
    expect(ldn.s().campaign()!.timing.state).toBe('scheduled')

    // 3. An order replayed from another campaign (same coordinator, other campaign id) does not verify here.
    const other = new Y.Doc()
    const ldnId = newIdentity()
    const o = giveOrder(other, campaignId.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')) as typeof campaignId, ldnId, 'go', Date.now(), 2)
    ordersOf(doc.plain).set(`${o.seq}.${o.by}`, ordersOf(other).get(o.id)!)
    expect(campaignTiming(doc.plain, campaignId, new Set([...coordinators, o.by])).state).toBe('scheduled')
    ordersOf(doc.plain).delete(`${o.seq}.${o.by}`)

    // 4. A coordinator numbering its order far ahead (to stay last forever) is ignored; the next honest order counts.
    const nboSeat = nbo.s()
    const nboSigner = identityFromSeed(nboSeat.access.campaign!.identitySeed)
    const seqAhead = campaignTiming(doc.plain, campaignId, coordinators).seq + 50
    // Signed by a real coordinator, its counter 50 ahead.
    const fakeSeen = new Y.Doc()
    const ahead = giveOrder(fakeSeen, campaignId, nboSigner, 'hold', 0, seqAhead)
    expect(ahead.seq).toBe(seqAhead)
    const nboDoc = nboSeat.campaignDoc!
    nboDoc.plain.transact(() => ordersOf(nboDoc.plain).set(ahead.id, ordersOf(fakeSeen).get(ahead.id)!))
    nboDoc.flush()
    await waitFor(() => ordersOf(doc.plain).has(ahead.id), 'the jumped order arrived', T)
    expect(ldn.s().campaign()!.timing.state).toBe('scheduled')
    expect(ldn.s().brief.read().state).toBe('scheduled')
    dc.s().campaignOrder('hold')
    await waitFor(() => ldn.s().brief.read().state === 'held', 'an honest hold still works', T)
    dc.s().campaignOrder('resume')
    await waitFor(() => ldn.s().brief.read().state === 'scheduled', 'resumed', T)

    // 5. Nairobi removed: the campaign moves to a new epoch without it; its old key's frames and its orders count no more.
    const nboCell = dc.s().campaign()!.cells.find((c) => c.name === 'NBO')!.cell
    const oldKey = newestCampaignKey(nbo.s())
    dc.s().removeCell(nboCell)
    await waitFor(() => ldn.s().campaign()!.cells.length === 2 && ldn.s().campaignDoc!.epoch === 1, 'London sees Nairobi gone, new epoch', T)
    await waitFor(() => nbo.s().campaign()!.removed, 'Nairobi knows it was removed', T)
    const late = craftedFrame(doc, oldKey, nboSigner, 10_000, (d) => giveOrder(d, campaignId, nboSigner, 'go', Date.now(), ldn.s().campaign()!.timing.seq + 1))
    expect(ldn.s().campaignDoc!.receive(late)).not.toBe('accepted')
    expect(() => nbo.s().campaignOrder('go')).toThrow()
    await new Promise((r) => setTimeout(r, 1500))
    expect(ldn.s().brief.read().state).toBe('scheduled')
    expect(ldn.s().stages()[0]!.content).toBeUndefined()
    // The two cells left still act together.
    dc.s().campaignOrder('go')
    await waitFor(() => ldn.s().brief.isReleased(ldn.s().stages()[0]!.id), 'London goes on the campaign go', T)
    expect(nbo.s().brief.isReleased(nbo.s().stages()[0]!.id)).toBe(false)
  }, 150_000)
})

describe('campaigns, attacked by a coordinator', () => {
  it('junk in the campaign’s invites never keeps another cell’s action from opening', async () => {
    harness = await startSignaling()
    const { dc, ldn } = await threeCells(harness.url)
    const doc = dc.s().campaignDoc!
    doc.plain.transact(() => {
      invitesOf(doc.plain).set('junk', null as unknown as InviteEntry)
      invitesOf(doc.plain).set('bogus', { secret: '%%%', answerer: '%%%', tier: 'core', expiresAt: 4e12, label: 'x', createdBy: 'x' })
    })
    doc.flush()
    await waitFor(() => invitesOf(ldn.s().campaignDoc!.plain).has('bogus'), 'the junk arrived', T)
    expect(ldn.s().campaign()!.cells).toHaveLength(3)
    await ldn.phone.lock()
    phones.splice(phones.indexOf(ldn.phone), 1)
    const again = await Phone.unlock(ldn.db, PASSPHRASE, ldn.transport)
    phones.push(again)
    expect(again.unreadable).toBe(0)
    expect(again.list()).toHaveLength(1)
    await again.get(again.list()[0]!.id).campaignReady
    expect(again.get(again.list()[0]!.id).campaign()!.cells).toHaveLength(3)
  }, 120_000)

  it('a writer a coordinator slipped in shows as a cell and is removed like one; its orders then count for nothing', async () => {
    harness = await startSignaling()
    const { dc, ldn, nbo } = await threeCells(harness.url)
    const puppet = newIdentity()
    nbo.s().campaignDoc!.addWriter(publicPart(puppet))
    nbo.s().campaignDoc!.flush()
    await waitFor(() => ldn.s().campaign()!.cells.length === 4, 'the unnamed writer shows on London', T)
    const unnamed = ldn.s().campaign()!.cells.find((c) => c.name === '')!
    expect(unnamed.cell).toBe(toBase64Url(puppet.signingPublicKey))
    ldn.s().removeCell(unnamed.cell)
    await waitFor(() => dc.s().campaign()!.cells.length === 3 && dc.s().campaignDoc!.epoch === 1, 'removed everywhere, new epoch', T)
    const campaignId = dc.s().access.campaign!.access.docId
    const frame = craftedFrame(dc.s().campaignDoc!, newestCampaignKey(nbo.s()), puppet, 1, (d) => giveOrder(d, campaignId, puppet, 'go', Date.now(), dc.s().campaign()!.timing.seq + 1))
    expect(dc.s().campaignDoc!.receive(frame)).not.toBe('accepted')
    expect(dc.s().campaign()!.timing.state).not.toBe('went')
  }, 120_000)

  it('a coordinator away during a removal finds it on return, and the removed cell’s old key moves nothing', async () => {
    harness = await startSignaling()
    const { dc, ldn, nbo } = await threeCells(harness.url)
    const goAt = Date.now() + 3600_000
    dc.s().campaignOrder('schedule', goAt)
    await waitFor(() => ldn.s().brief.read().goAt === goAt, 'London scheduled', T)
    const nboKey = newestCampaignKey(nbo.s())
    const nboSigner = identityFromSeed(nbo.s().access.campaign!.identitySeed)
    // London is away, and so is Nairobi (which would otherwise hand London the closure itself).
    for (const away of [ldn, nbo]) {
      await away.phone.lock()
      phones.splice(phones.indexOf(away.phone), 1)
    }
    dc.s().removeCell(dc.s().campaign()!.cells.find((c) => c.name === 'NBO')!.cell)
    await waitFor(() => dc.s().campaignDoc!.epoch === 1, 'DC in the new epoch', T)
    const back = await Phone.unlock(ldn.db, PASSPHRASE, ldn.transport)
    phones.push(back)
    const l = back.get(back.list()[0]!.id)
    await waitFor(() => back.get(l.id).campaignDoc!.epoch === 1 && back.get(l.id).campaign()!.cells.length === 2, 'London finds the removal in the old room', 30_000)
    const s = back.get(l.id)
    const campaignId = s.access.campaign!.access.docId
    const late = craftedFrame(s.campaignDoc!, nboKey, nboSigner, 5_000, (d) => giveOrder(d, campaignId, nboSigner, 'go', Date.now(), s.campaign()!.timing.seq + 1))
    s.campaignDoc!.receive(late)
    await new Promise((r) => setTimeout(r, 1000))
    expect(back.get(l.id).campaign()!.timing.state).toBe('scheduled')
    expect(back.get(l.id).brief.isReleased(back.get(l.id).stages()[0]!.id)).toBe(false)
    dc.s().campaignOrder('go')
    await waitFor(() => back.get(l.id).brief.isReleased(back.get(l.id).stages()[0]!.id), 'London follows DC’s go in the new epoch', T)
  }, 150_000)

  it('a cell that leaves takes no other coordinator’s order with it, and the campaign stays one', async () => {
    harness = await startSignaling()
    const { dc, ldn, nbo } = await threeCells(harness.url)
    const goAt = Date.now() + 3600_000
    dc.s().campaignOrder('schedule', goAt)
    await waitFor(() => nbo.s().campaign()!.timing.seq === 1, 'Nairobi saw the schedule', T)
    nbo.s().campaignOrder('schedule', goAt + 60_000)
    await waitFor(() => ldn.s().campaign()!.timing.seq === 2, 'London saw both', T)
    ldn.s().campaignOrder('hold')
    for (const c of [dc, nbo]) await waitFor(() => c.s().campaign()!.timing.state === 'held', 'held everywhere', T)
    nbo.s().leaveCampaign()
    await waitFor(() => dc.s().campaign()!.cells.length === 2 && ldn.s().campaign()!.cells.length === 2, 'Nairobi gone', T)
    for (const c of [dc, ldn]) expect(c.s().campaign()!.timing.state).toBe('held')
    await waitFor(() => dc.s().campaignDoc!.epoch === 1 && ldn.s().campaignDoc!.epoch === 1, 'one new epoch', 40_000)
    dc.s().campaignMessage('still one campaign')
    await waitFor(() => ldn.s().campaign()!.messages.some((m) => m.text === 'still one campaign'), 'London hears DC in the new epoch', T)
    dc.s().campaignOrder('resume')
    await waitFor(() => ldn.s().brief.read().state === 'scheduled' && ldn.s().campaign()!.timing.state === 'scheduled', 'resumed', T)
  }, 150_000)

  it('a coordinator cannot rename another cell, speak in its name, or make it leave; a cell’s own hold stands against the campaign’s Go now', async () => {
    harness = await startSignaling()
    const { dc, ldn, nbo } = await threeCells(harness.url)
    const dcKey = toBase64Url(identityFromSeed(dc.s().access.campaign!.identitySeed).signingPublicKey)
    const doc = nbo.s().campaignDoc!
    doc.plain.transact(() => {
      const cells = doc.plain.getMap<unknown>('cells')
      const had = cells.get(dcKey) as Record<string, unknown>
      cells.set(dcKey, { ...had, name: 'TRAITORS', left: true })
      doc.plain.getArray<unknown>('messages').push([{ by: dcKey, at: Date.now(), text: 'DC says: go early', sig: 'AAAA' }, null, 42, { by: '%%%', at: 'x', text: 7, sig: '!' }])
      cells.set('%%%', 42)
    })
    doc.flush()
    await waitFor(() => JSON.stringify(ldn.s().campaignDoc!.plain.toJSON()).includes('TRAITORS'), 'the forgery arrived', T)
    const view = ldn.s().campaign()!
    // Washington's own signed entry no longer verifies under the forgery: it shows unnamed, never renamed, and still in.
    expect(view.cells.some((c) => c.name === 'TRAITORS')).toBe(false)
    expect(view.cells).toHaveLength(3)
    expect(view.messages.some((m) => m.text.includes('go early'))).toBe(false)

    // Washington's core holds its own action; the campaign's Go now does not overrule it.
    dc.s().hold()
    nbo.s().campaignOrder('go')
    await waitFor(() => ldn.s().brief.isReleased(ldn.s().stages()[0]!.id), 'London goes', T)
    await new Promise((r) => setTimeout(r, 1000))
    expect(dc.s().brief.read().state).toBe('held')
    expect(dc.s().brief.isReleased(dc.s().stages()[0]!.id)).toBe(false)
  }, 120_000)
})
