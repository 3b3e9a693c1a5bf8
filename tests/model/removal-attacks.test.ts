// Removal, attacked. Each test plays a removed member (or a core phone racing another)
// as a modified client would: crafted lobby messages, frames sealed by hand with old
// keys and reused counters, old stage keys, restarts and late joiners. Ordinary calls
// from an honest client would prove nothing here.
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { toBase64Url, type DeviceIdentity, type SecretKey } from '../../src/crypto'
import { FrameKind, sealFrame, type SecureDoc } from '../../src/doc'
import { JoinError, Phone, decodeInvite, type ActionSession } from '../../src/model'
import { isFromCore, joinRequest, lobbyTopic, readLobbyMessage } from '../../src/model/lobby'
import { openStage, type StageId } from '../../src/model/stage'
import { ownSockets, releaseSockets } from '../../src/transport'
import { startSignaling, waitFor, type Harness } from '../server/helpers'
import { newPhone, ORIGIN, PASSPHRASE, type TestPhone } from './phones'

let harness: Harness | undefined
const phones: Phone[] = []
afterEach(async () => {
  await Promise.all(phones.splice(0).map((p) => p.lock().catch(() => undefined)))
  await harness?.stop()
})

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const inviteIdOf = (s: ActionSession, label: string): string => s.invites().find((i) => i.label === label)!.id
const oldestKey = (s: ActionSession, tier: 'plan' | 'brief'): SecretKey => s.access[tier]!.keys.get(Math.min(...s.access[tier]!.keys.keys()))!
const stagingPoint = (s: ActionSession) => s.brief.read().stagingPoint

/** A frame sealed by hand: `edit` applied to a copy of what the attacker's phone holds. */
function craftedFrame(doc: SecureDoc, key: SecretKey, author: DeviceIdentity, epoch: number, counter: number, edit: (d: Y.Doc) => void): Uint8Array {
  const copy = new Y.Doc()
  Y.applyUpdate(copy, Y.encodeStateAsUpdate(doc.plain))
  const before = Y.encodeStateVector(copy)
  edit(copy)
  const update = Y.encodeStateAsUpdate(copy, before)
  return sealFrame({ kind: FrameKind.update, docId: doc.docId, epoch, counter }, update, key, author).bytes
}

/** Sends a join request by hand into an invite's lobby; resolves with the core's first answer to `me`. */
function askLobby(url: string, link: string, me: DeviceIdentity): Promise<{ t: 'welcome' | 'refused'; why?: string }> {
  const invite = decodeInvite(link)
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => done(() => reject(new Error('no answer in the lobby'))), 20_000)
    const lobby = lobbyTopic(invite.secret, (bytes) => {
      let m
      try {
        m = readLobbyMessage(invite.secret, bytes)
      } catch {
        return
      }
      if (m.t === 'join' || toBase64Url(m.to) !== toBase64Url(me.signingPublicKey) || !isFromCore(invite.secret, invite.answerKey, m)) return
      done(() => resolve(m.t === 'refused' ? { t: 'refused', why: m.why } : { t: 'welcome' }))
    }, () => lobby.send(joinRequest(invite.secret, me)))
    const sockets = ownSockets([`${url}?attacker=${Math.random()}`], lobby)
    for (const s of sockets) lobby.attach(s)
    const retry = setInterval(() => lobby.send(joinRequest(invite.secret, me)), 1_000)
    function done(settle: () => void): void {
      clearTimeout(timer)
      clearInterval(retry)
      lobby.close()
      releaseSockets(sockets, lobby)
      settle()
    }
  })
}

interface Cast {
  core: TestPhone
  id: string
  a: ActionSession
  join(tier: 'core' | 'participant', label: string): Promise<{ t: TestPhone; s: ActionSession; link: string }>
}

async function action(): Promise<Cast> {
  harness = await startSignaling()
  const core = await newPhone(harness.url, phones)
  const id = await core.phone.createAction('Mob')
  const a = core.phone.get(id)
  a.setBrief('stagingPoint', 'Fountain')
  a.setStage({ text: 'The old bank, main hall' })
  a.briefDoc.flush()
  return {
    core,
    id,
    a,
    async join(tier, label) {
      const t = await newPhone(harness!.url, phones)
      const link = core.phone.invite(id as never, tier, ORIGIN, label)
      const joined = await t.phone.join(link).done
      const s = t.phone.get(joined)
      await waitFor(() => stagingPoint(s) === 'Fountain', `${label} has the brief`, 15_000)
      return { t, s, link }
    },
  }
}

describe('a removed member cannot rejoin', () => {
  it('a removed participant re-sending its join request (same identity) is refused, not welcomed', async () => {
    const cast = await action()
    const eve = await cast.join('participant', 'Eve')
    await cast.a.removeMember(inviteIdOf(cast.a, 'Eve'))
    const answer = await askLobby(harness!.url, eve.link, eve.s.me)
    expect(answer).toEqual({ t: 'refused', why: 'removed' })
    // Remove stays idempotent: the entry stays removed, nothing rotates again.
    const epoch = cast.a.briefDoc.epoch
    await cast.a.removeMember(inviteIdOf(cast.a, 'Eve'))
    expect(cast.a.briefDoc.epoch).toBe(epoch)
  })

  it('a core phone that was away, and has heard of the removal only through the brief, refuses the removed participant too', { timeout: 90_000 }, async () => {
    const cast = await action()
    const bobT = await cast.join('core', 'Bob')
    const ana = await cast.join('participant', 'Ana')
    const eve = await cast.join('participant', 'Eve')
    const bob = () => bobT.t.phone.get(bobT.t.phone.list()[0]!.id)
    await waitFor(() => bob().invites().length === 3, 'Bob sees every invite', 15_000)
    // Bob is away while the first core phone removes Eve, then that phone goes dark.
    bob().connect({ ...bobT.t.transport, signalingUrls: [] })
    await cast.a.removeMember(inviteIdOf(cast.a, 'Eve'))
    await waitFor(() => ana.t.phone.get(ana.t.phone.list()[0]!.id).briefDoc.epoch === 1, 'Ana took up the new key', 15_000)
    await sleep(500)
    await cast.core.phone.lock()
    phones.splice(phones.indexOf(cast.core.phone), 1)
    // Bob comes back: only participants are around, so only the brief's closure reaches him.
    bob().connect(bobT.t.transport)
    await waitFor(() => bob().briefDoc.epoch === 1, 'Bob got the brief closure from a participant', 20_000)
    expect(await askLobby(harness!.url, eve.link, eve.s.me)).toEqual({ t: 'refused', why: 'removed' })
  })

  it('a removed core member who opens its own invite again is told it was removed', async () => {
    const cast = await action()
    const mallory = await cast.join('core', 'Mallory')
    await cast.a.removeMember(inviteIdOf(cast.a, 'Mallory'))
    await waitFor(() => mallory.s.removed(), 'Mallory sees she was removed', 15_000)
    const again = mallory.t.phone.join(mallory.link)
    const error = await again.done.then(() => undefined, (e: unknown) => e)
    expect(error).toBeInstanceOf(JoinError)
    expect((error as JoinError).problem).toBe('removed')
    expect((error as JoinError).message).toMatch(/removed/i)
    expect(cast.a.coreMembers()).toHaveLength(1)
  })
})

describe('the closed epoch stays closed', () => {
  it('a removed core member’s frame in the old epoch, with a reused counter, is refused: live, after a restart, and by a late joiner', async () => {
    const cast = await action()
    const mallory = await cast.join('core', 'Mallory')
    const ana = await cast.join('participant', 'Ana')
    await cast.a.removeMember(inviteIdOf(cast.a, 'Mallory'))
    await waitFor(() => ana.s.briefDoc.epoch === 1, 'Ana adopted the new brief key', 15_000)
    // Mallory, with the old brief key she still holds, rewrites the staging point in epoch 0.
    const fake = craftedFrame(mallory.s.briefDoc, oldestKey(mallory.s, 'brief'), mallory.s.me, 0, 0, (d) => d.getMap('brief').set('stagingPoint', 'FAKE: the police station'))
    expect(cast.a.briefDoc.receive(fake)).not.toBe('accepted')
    expect(ana.s.briefDoc.receive(fake)).not.toBe('accepted')
    expect(stagingPoint(cast.a)).toBe('Fountain')
    expect(stagingPoint(ana.s)).toBe('Fountain')

    // After a restart the refusal holds.
    await ana.t.phone.lock()
    phones.splice(phones.indexOf(ana.t.phone), 1)
    const back = await Phone.unlock(ana.t.db, PASSPHRASE, ana.t.transport)
    phones.push(back)
    const anaAgain = back.get(back.list()[0]!.id)
    expect(anaAgain.briefDoc.receive(fake)).not.toBe('accepted')
    expect(stagingPoint(anaAgain)).toBe('Fountain')

    // A participant who joins after the rotation refuses it too.
    const late = await cast.join('participant', 'Late')
    expect(late.s.briefDoc.receive(fake)).not.toBe('accepted')
    await sleep(300)
    expect(stagingPoint(late.s)).toBe('Fountain')
  })
})

describe('removal rotates every secret the removed member held', () => {
  it('a moved location does not open with the removed core member’s old stage key', async () => {
    const cast = await action()
    const mallory = await cast.join('core', 'Mallory')
    const ana = await cast.join('participant', 'Ana')
    const stage = cast.a.plan!.stages()[0]!
    const oldKey = mallory.s.plan!.stageKey(stage.id)!
    await cast.a.removeMember(inviteIdOf(cast.a, 'Mallory'))
    cast.a.setStage({ text: 'NEW: the river bridge' })
    const box = () => ana.s.briefDoc.plain.getMap<{ box: Uint8Array }>('stages').get(stage.id)?.box
    await waitFor(() => ana.s.briefDoc.epoch === 1, 'Ana adopted the new key', 15_000)
    await sleep(1_000)
    expect(() => openStage(oldKey, ana.s.brief.briefId, stage.id as StageId, box()!)).toThrow()
  })

  it('the check-in key changes when a core member is removed', async () => {
    const cast = await action()
    await cast.join('core', 'Mallory')
    const before = toBase64Url(cast.a.brief.checkinKey()!)
    await cast.a.removeMember(inviteIdOf(cast.a, 'Mallory'))
    expect(toBase64Url(cast.a.brief.checkinKey()!)).not.toBe(before)
  })
})

describe('each version of a sealed location has its own key', () => {
  it('the release opens only the version in force, and sealed boxes do not show the text length', async () => {
    const cast = await action()
    const box = () => cast.a.briefDoc.plain.getMap<{ box: Uint8Array }>('stages').get(cast.a.plan!.stages()[0]!.id)!.box
    const planA = box()
    cast.a.setStage({ text: 'A' })
    const short = box()
    cast.a.setStage({ text: 'Plan B: the long way round, past the market, then the old tram depot on the left side of the square' })
    const long = box()
    expect(short.length).toBe(long.length)
    cast.a.goNow()
    const stageId = cast.a.plan!.stages()[0]!.id as StageId
    const released = cast.a.plan!.stageKey(stageId)!
    expect(() => openStage(released, cast.a.brief.briefId, stageId, short)).toThrow()
    expect(() => openStage(released, cast.a.brief.briefId, stageId, planA)).toThrow()
    expect(openStage(released, cast.a.brief.briefId, stageId, long).text).toMatch(/^Plan B/)
  })
})

describe('core members sign with an identity of each action', () => {
  it('one phone in two actions is two unrelated signers', async () => {
    harness = await startSignaling()
    const core = await newPhone(harness.url, phones)
    const one = core.phone.get(await core.phone.createAction('One'))
    const two = core.phone.get(await core.phone.createAction('Two'))
    const signer = (s: ActionSession) => toBase64Url(s.briefDoc.writers()[0]!.signingPublicKey)
    expect(signer(one)).not.toBe(signer(two))
    expect(signer(one)).not.toBe(toBase64Url(core.phone.identity.signingPublicKey))
  })
})

describe('two core phones removing at once', () => {
  it('both removals hold, every phone ends on one epoch, and no edit is lost', { timeout: 120_000 }, async () => {
    const cast = await action()
    const bobT = await cast.join('core', 'Bob')
    const carolT = await cast.join('core', 'Carol')
    const anaT = await cast.join('participant', 'Ana')
    const eveT = await cast.join('participant', 'Eve')
    // Sessions can be opened anew (a closure that rewinds what was shown): ask each phone every time.
    const now = (t: TestPhone): ActionSession => t.phone.get(t.phone.list()[0]!.id)
    const [a, bob, ana, carol, eve] = [() => now(cast.core), () => now(bobT.t), () => now(anaT.t), () => now(carolT.t), () => now(eveT.t)]
    await waitFor(() => bob().invites().length === 4, 'Bob sees every invite', 15_000)
    // Bob goes offline, removes Carol; meanwhile the first core phone removes Eve.
    bob().connect({ ...bobT.t.transport, signalingUrls: [] })
    await Promise.all([bob().removeMember(inviteIdOf(bob(), 'Carol')), a().removeMember(inviteIdOf(a(), 'Eve'))])
    bob().plan!.set('notes', 'Bob wrote this offline')
    bob().planDoc!.flush()
    a().setBrief('bring', 'water')
    a().briefDoc.flush()
    await sleep(1_000)
    bob().connect(bobT.t.transport)
    const settled = () =>
      carol().removed() &&
      carol().planDoc!.removedHere &&
      eve().removed() &&
      a().briefDoc.epoch === bob().briefDoc.epoch &&
      ana().briefDoc.epoch === a().briefDoc.epoch &&
      a().planDoc!.epoch === bob().planDoc!.epoch &&
      a().plan!.read().notes === 'Bob wrote this offline' &&
      bob().brief.read().bring === 'water' &&
      ana().brief.read().bring === 'water'
    await waitFor(settled, 'both removed, every remaining phone on one epoch with both edits', 60_000)
    // Every remaining phone holds the same key: an edit from either core phone reaches everyone, neither removed phone.
    a().setBrief('conduct', 'after both removals')
    a().briefDoc.flush()
    bob().plan!.set('title', 'Mob, after both removals')
    bob().planDoc!.flush()
    await waitFor(() => ana().brief.read().conduct === 'after both removals' && bob().brief.read().conduct === 'after both removals', 'everyone reads on', 15_000)
    await waitFor(() => a().plan!.read().title === 'Mob, after both removals', 'Bob writes on', 15_000)
    await sleep(1_000)
    expect(carol().brief.read().conduct).not.toBe('after both removals')
    expect(carol().plan!.read().title).not.toBe('Mob, after both removals')
    expect(eve().brief.read().conduct).not.toBe('after both removals')
    // No delete/restore fight: the transport docs stand still.
    const churn = () => [a(), bob(), ana()].map((s) => s.briefDoc.stats.healed + s.briefDoc.stats['garbage-removed'])
    const before = churn()
    await sleep(2_000)
    expect(churn()).toEqual(before)
  })
})
