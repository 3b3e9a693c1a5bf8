// Opening without the core (issue 15), attacked a second time: a modified marshal's early offer
// meeting two core phones that split the same key, a hold a jammed marshal never heard, a removal
// after go, and what a marshal's screen shows before go. Each attack is played as a modified client
// would: offers sent by hand on the without-core relay topic, a listener that collects whatever the
// topic carries, phones taken off the network and brought back. Real phones, real relay on 127.0.0.1.
import { afterEach, describe, expect, it } from 'vitest'
import { deriveKey, type SecretKey } from '../../src/crypto'
import { Phone, type ActionSession } from '../../src/model'
import { combineShares, makeShareOffer, readShareOffer, shareOf, type ShareOffer } from '../../src/model/quorum'
import { openStage, type StageId } from '../../src/model/stage'
import { ownSockets, releaseSockets, roomKeys, SealedTopic } from '../../src/transport'
import { startSignaling, waitFor, type Harness } from '../server/helpers'
import { newestKey, newPhone, ORIGIN, revealed, sessionOf, withoutCoreRogue, type TestPhone } from './phones'

let harness: Harness | undefined
const phones: Phone[] = []
afterEach(async () => {
  await Promise.all(phones.splice(0).map((p) => p.lock().catch(() => undefined)))
  await harness?.stop()
})

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const LOCATION = 'The old tram depot, north gate'

interface Cast {
  core: TestPhone
  a: ActionSession
  id: string
  marshals: TestPhone[]
  ana: TestPhone
  join(label: string, tier?: 'participant' | 'core'): Promise<TestPhone>
}

/** A core phone, three marshals and one participant; go an hour ahead. The quorum (2 of 3) is armed unless `arm` is false. */
async function action(arm = true): Promise<Cast> {
  harness = await startSignaling()
  const core = await newPhone(harness.url, phones)
  const id = await core.phone.createAction('Mob')
  const a = core.phone.get(id)
  a.setBrief('stagingPoint', 'Fountain')
  a.setStage({ text: LOCATION })
  a.setTimes({ goAt: Date.now() + 60 * 60_000 })
  const join = async (label: string, tier: 'participant' | 'core' = 'participant'): Promise<TestPhone> => {
    const t = await newPhone(harness!.url, phones)
    await t.phone.join(core.phone.invite(id, tier, ORIGIN, label)).done
    await waitFor(() => sessionOf(t).brief.read().stagingPoint === 'Fountain', `${label} has the brief`, 15_000)
    return t
  }
  const marshals = [await join('M1'), await join('M2'), await join('M3')]
  const ana = await join('Ana')
  if (arm) {
    a.setQuorum({ k: 2, marshals: marshalIds(a) })
    for (const m of marshals) await waitFor(() => sessionOf(m).marshal() !== undefined, 'every marshal holds its share', 15_000)
  }
  return { core, a, id, marshals, ana, join }
}

const marshalIds = (s: ActionSession): string[] => s.marshalChoices().filter((c) => /^M\d$/.test(c.label)).map((c) => c.id)

/**
 * A modified participant's phone listening on the action's without-core relay topic (it holds the
 * brief key, as every participant does): it keeps every share offer that goes by.
 */
function listener(url: string, briefKey: SecretKey) {
  const heard: Uint8Array[] = []
  const keys = roomKeys(deriveKey(briefKey, 'without-core'))
  const topic = new SealedTopic(keys.relayTopic, keys.relayKey, 1024, (m) => m[0] === 1 && heard.push(m.slice(1)), () => {}, 256)
  const sockets = ownSockets([`${url}?listener=${Math.random()}`], topic)
  for (const socket of sockets) topic.attach(socket)
  return {
    heard,
    online: () => topic.online,
    /** "Send me what you hold", as a late phone asks. */
    ask: () => topic.send(Uint8Array.of(2), undefined, false),
    close(): void {
      topic.close()
      releaseSockets(sockets, topic)
    },
  }
}

/** What a modified phone that collected these offers opens: the stage's text, or undefined. */
async function openWith(s: ActionSession, stageId: StageId, offers: readonly Uint8Array[]): Promise<string | undefined> {
  const briefId = s.access.brief.docId
  const quorum = s.brief.quorum(stageId)
  if (!quorum) return undefined
  const valid: ShareOffer[] = []
  for (const bytes of offers) {
    try {
      valid.push(readShareOffer(bytes, briefId, (id) => s.brief.quorum(id)))
    } catch {
      // not a valid offer of the split in force
    }
  }
  const key = await combineShares(quorum, valid)
  if (!key) return undefined
  const sealed = s.brief.doc.getMap<{ box: Uint8Array }>('stages').get(stageId)!
  try {
    return openStage(key, briefId, stageId, sealed.box).text
  } catch {
    return undefined
  }
}

describe('a modified marshal against two core phones that split the same key', () => {
  // Before the fix, WithoutCore.read remembered an offer's check by `offer bytes : key id` only. Two
  // core phones that split the same stage key (one offline, or racing) give two splits with one key id
  // but other pieces and commitments; an offer checked against the first split stayed "valid" under
  // the second, kept its marshal's place, and combining mixed pieces of two splits: nobody revealed.
  it('one marshal’s early offer against the first of two splits of one key does not stop the honest marshals at go', { timeout: 120_000 }, async () => {
    const cast = await action(false)
    const b = await cast.join('B', 'core')
    await waitFor(() => marshalIds(sessionOf(b)).length === 3, 'the second core phone knows the marshals', 15_000)
    const stageId = sessionOf(cast.ana).stages()[0]!.id
    // Yjs keeps the concurrent write of the higher client id: the other core phone splits first, online;
    // the winner splits later, offline (a core member setting up the quorum on the train).
    const pair = [cast.core, b].sort((x, y) => sessionOf(x).brief.doc.clientID - sessionOf(y).brief.doc.clientID)
    const [first, second] = [pair[0]!, pair[1]!]
    sessionOf(second).connect({ ...second.transport, signalingUrls: [] })
    sessionOf(first).setQuorum({ k: 2, marshals: marshalIds(sessionOf(first)) })
    for (const m of cast.marshals) await waitFor(() => sessionOf(m).marshal() !== undefined, 'every marshal holds a piece of the first split', 15_000)
    const firstSplit = sessionOf(cast.ana).brief.quorum(stageId)!
    sessionOf(second).setQuorum({ k: 2, marshals: marshalIds(sessionOf(second)) })
    await waitFor(() => sessionOf(second).brief.quorum(stageId) !== undefined, 'the offline core phone split the same key', 15_000)
    const secondSplit = sessionOf(second).brief.quorum(stageId)!
    expect(secondSplit.keyId).toBe(firstSplit.keyId)
    expect(secondSplit.shares[0]!.commit).not.toBe(firstSplit.shares[0]!.commit)
    // M3's modified app releases early, its piece of the split everyone holds now.
    const m3 = sessionOf(cast.marshals[2]!)
    const ana = sessionOf(cast.ana)
    const r = withoutCoreRogue(harness!.url, newestKey(ana), 'offer')
    await r.send(makeShareOffer(ana.access.brief.docId, stageId, shareOf(m3.me, m3.brief.quorum(stageId)!, stageId)!, m3.me))
    await waitFor(() => ana.quorumProgress()?.offered === 1 && sessionOf(cast.marshals[0]!).marshal()?.offered === 1, 'the early offer reached everyone', 10_000)
    // The second core phone comes back: its split wins everywhere.
    sessionOf(second).connect(second.transport)
    for (const t of [cast.ana, ...cast.marshals]) {
      await waitFor(() => sessionOf(t).brief.quorum(stageId)?.shares[0]!.commit === secondSplit.shares[0]!.commit, 'the second split is in force everywhere', 15_000)
    }
    // M3's offer is a piece of a split no longer in force: it should count for nothing now.
    const stale = ana.quorumProgress()?.offered
    // Go, every core phone gone: M1 and M2 release honestly, with pieces of the split in force.
    const goAt = Date.now() + 4_000
    sessionOf(first).setTimes({ goAt })
    for (const t of [...cast.marshals, cast.ana]) await waitFor(() => sessionOf(t).brief.read().goAt === goAt, 'everyone has the go time', 10_000)
    for (const c of [cast.core, b]) {
      await c.phone.lock()
      phones.splice(phones.indexOf(c.phone), 1)
    }
    await waitFor(() => sessionOf(cast.marshals[0]!).marshal()?.mine === 'offered' && sessionOf(cast.marshals[1]!).marshal()?.mine === 'offered', 'M1 and M2 released', 20_000)
    await waitFor(() => revealed(ana) === LOCATION, `Ana reveals with M1’s and M2’s pieces (before go she still counted ${stale} piece(s) of the replaced split)`, 20_000)
    expect(stale).toBe(0)
    r.close()
  })
})

describe('a hold a marshal never heard', () => {
  // Before the fix, a marshal's phone that was off the network when the core held (a jammed square)
  // made its offer at go (its carried-forward server time and its own clock agree) and sent it on the
  // relay the moment it reconnected, before the brief brought the hold; answers and the mesh passed
  // held offers on too. Honest phones did not open, but a listening participant's modified app
  // combined two offers and opened the location the core was holding back.
  it('marshals offline at the hold, back after go, do not hand a modified participant the location while the core holds', { timeout: 120_000 }, async () => {
    const cast = await action()
    const ana = sessionOf(cast.ana)
    const stageId = ana.stages()[0]!.id
    const [m1T, m2T] = [cast.marshals[0]!, cast.marshals[1]!]
    const goAt = Date.now() + 6_000
    cast.a.setTimes({ goAt })
    for (const t of [m1T, m2T, cast.ana]) await waitFor(() => sessionOf(t).brief.read().goAt === goAt, 'the go time reached the phones', 5_000)
    // Two marshals lose the network; the core holds (the police are at the location).
    for (const t of [m1T, m2T]) sessionOf(t).connect({ ...t.transport, signalingUrls: [] })
    cast.a.hold()
    await waitFor(() => ana.brief.read().state === 'held', 'the hold reached Ana', 5_000)
    const spy = listener(harness!.url, newestKey(ana))
    await waitFor(spy.online, 'the modified participant listens', 10_000)
    await waitFor(() => Date.now() > goAt + 1_000, 'go time passed', 10_000)
    // The marshals come back; their phones learn of the hold.
    for (const t of [m1T, m2T]) sessionOf(t).connect(t.transport)
    for (const t of [m1T, m2T]) await waitFor(() => sessionOf(t).brief.read().state === 'held', 'the marshal learned of the hold', 15_000)
    await sleep(3_000)
    expect(revealed(ana)).toBeUndefined()
    expect(await openWith(ana, stageId, spy.heard)).toBeUndefined()
    spy.close()
  })
})

describe('a removal after go', () => {
  // Before the fix, removing a marshal (or dropping one, turning the quorum off, removing a core
  // member) sealed every stage again under a new key, also one already released; the brief kept the
  // core's release of the old key, which still counted as "released", so no core phone released the
  // new one, and the new split's pieces would only be offered at a go that had passed. Every
  // participant's screen lost the location at once.
  it('removing a marshal once the location is out does not take the location off every participant’s screen', { timeout: 120_000 }, async () => {
    const cast = await action()
    const ana = sessionOf(cast.ana)
    const stageId = ana.stages()[0]!.id
    cast.a.goNow()
    for (const t of [cast.ana, ...cast.marshals]) await waitFor(() => revealed(sessionOf(t)) === LOCATION, 'everyone reveals at go', 20_000)
    const epoch = Math.max(...ana.access.brief.keys.keys())
    // At the location the core spots the infiltrator among the marshals and removes it.
    await cast.a.removeMember(cast.a.invites().find((i) => i.label === 'M3')!.id)
    await waitFor(() => Math.max(...sessionOf(cast.ana).access.brief.keys.keys()) > epoch, 'Ana holds the brief of the new epoch', 20_000)
    expect(ana.brief.quorum(stageId)).toBeDefined()
    await sleep(3_000)
    for (const t of [cast.ana, cast.marshals[0]!, cast.marshals[1]!]) expect(revealed(sessionOf(t))).toBe(LOCATION)
    expect(revealed(cast.a)).toBe(LOCATION)
  })
})

describe('what a marshal holds before go (regression guards: these hold on main)', () => {
  it('before go a marshal’s screen shows counts only, its code is empty, and the relay carries no offer of an honest marshal, also when its person is asked', { timeout: 90_000 }, async () => {
    const cast = await action()
    const [m1, m2] = cast.marshals.map(sessionOf)
    const spy = listener(harness!.url, newestKey(sessionOf(cast.ana)))
    await waitFor(spy.online, 'the modified participant listens', 10_000)
    // M1's clock was pushed past go by a fake tower: its person is asked; it offers nothing meanwhile.
    cast.a.setTimes({ goAt: Date.now() + 5 * 60_000 })
    await waitFor(() => m1!.brief.read().goAt! < Date.now() + 6 * 60_000, 'the go time reached M1', 10_000)
    m1!.marshalClock!.local = () => Date.now() + 10 * 60_000
    m1!.connect(cast.marshals[0]!.transport)
    await waitFor(() => m1!.marshal()?.mine === 'confirm', 'M1’s person is asked', 10_000)
    // The modified participant asks everyone for what they hold (as a late phone does), twice.
    spy.ask()
    await sleep(1_000)
    spy.ask()
    await sleep(2_000)
    for (const s of [m1!, m2!]) {
      const view = s.marshal()!
      expect(Object.keys(view).sort()).toEqual(['k', 'mine', 'n', 'offered'])
      expect(view.offered).toBe(0)
      expect(s.myShareCode()).toBeUndefined()
    }
    expect(sessionOf(cast.ana).myShareCode()).toBeUndefined()
    expect(sessionOf(cast.ana).marshal()).toBeUndefined()
    expect(spy.heard).toEqual([])
    spy.close()
  })
})
