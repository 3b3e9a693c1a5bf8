// Opening without the core (issue 15), attacked a second time: a modified marshal's early offer
// meeting two core phones that split the same key, a hold a jammed marshal never heard (off the
// network, or behind a blackout no socket notices), a flaky socket beside a healthy one, a removal
// after go, and what a marshal's screen shows before go. Each attack is played as a modified client
// would: offers sent by hand on the without-core relay topic, a listener that collects whatever the
// topic carries, phones taken off the network and brought back, a TCP proxy that cuts or jams the
// connection. Real phones, real relay on 127.0.0.1.
import { createServer, connect, type AddressInfo, type Socket } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { deriveKey, type SecretKey } from '../../src/crypto'
import { Phone, type ActionSession } from '../../src/model'
import { combineShares, makeShareOffer, readShareOffer, shareOf, type ShareOffer } from '../../src/model/quorum'
import { openStage, type StageId } from '../../src/model/stage'
import { ownSockets, releaseSockets, roomKeys, SealedTopic } from '../../src/transport'
import { startSignaling, waitFor, type Harness } from '../server/helpers'
import { marshalIds, marshalsCast, newestKey, revealed, sessionOf, withoutCoreRogue, type MarshalsCast } from './phones'

let harness: Harness | undefined
const phones: Phone[] = []
const cleanups: (() => void)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0)) c()
  await Promise.all(phones.splice(0).map((p) => p.lock().catch(() => undefined)))
  await harness?.stop()
})

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const LOCATION = 'The old tram depot, north gate'

/** The cast on a signaling server of its own: a core phone, three marshals and Ana; the quorum (2 of 3) is armed unless `arm` is false. */
const action = async (arm = true): Promise<MarshalsCast> => marshalsCast((harness = await startSignaling()).url, phones, LOCATION, arm)

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

/**
 * A TCP proxy in front of the relay. `closeAfterMs`: every connection is cut that long after it opens
 * (a flaky link or load balancer; lib0 reconnects at once). `jam()`: nothing passes either way until
 * `unjam()`, then everything queued is delivered in order, as TCP does after a short blackout: no
 * socket closes, so no 'connect' event follows.
 */
async function proxy(target: string, closeAfterMs?: number) {
  const u = new URL(target.replace(/^ws/, 'http'))
  const live = new Set<Socket>()
  let jammed = false
  const queued: (() => void)[] = []
  const server = createServer((a) => {
    const b = connect(Number(u.port), u.hostname)
    live.add(a).add(b)
    const forward = (from: Socket, to: Socket) =>
      from.on('data', (d) => {
        const write = () => !to.destroyed && to.write(d)
        if (jammed) queued.push(write)
        else write()
      })
    forward(a, b)
    forward(b, a)
    const end = () => {
      a.destroy()
      b.destroy()
      live.delete(a)
      live.delete(b)
    }
    for (const s of [a, b]) s.on('close', end).on('error', end)
    if (closeAfterMs !== undefined) setTimeout(end, closeAfterMs)
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const port = (server.address() as AddressInfo).port
  const close = () => {
    for (const s of live) s.destroy()
    server.close()
  }
  cleanups.push(close)
  return {
    url: `ws://127.0.0.1:${port}${u.pathname}`,
    jam: () => (jammed = true),
    unjam: () => {
      jammed = false
      for (const w of queued.splice(0)) w()
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

describe('what a marshal holds before go', () => {
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

describe('a marshal’s own offer on a flaky or jammed network', () => {
  // A first version of the wait before a marshal's own offer goes out restarted on every socket's
  // 'connect': a second socket reconnecting more often than every 4 s (a hostile server, a flaky
  // balancer) kept the offer in for good, on the healthy socket and the mesh too. Now only coming
  // back from no socket at all starts the wait again.
  it('a marshal with one healthy relay and one flaky one still offers at go, the core gone', { timeout: 120_000 }, async () => {
    const cast = await action()
    const ana = sessionOf(cast.ana)
    const flaky = await proxy(harness!.url, 1_500)
    const [m1T, m2T] = [cast.marshals[0]!, cast.marshals[1]!]
    for (const t of [m1T, m2T]) sessionOf(t).connect({ ...t.transport, signalingUrls: [...t.transport.signalingUrls, flaky.url] })
    const goAt = Date.now() + 10_000
    cast.a.setTimes({ goAt })
    for (const t of [m1T, m2T, cast.ana]) await waitFor(() => sessionOf(t).brief.read().goAt === goAt, 'the go time reached the phones', 8_000)
    await cast.core.phone.lock()
    phones.splice(phones.indexOf(cast.core.phone), 1)
    await waitFor(() => sessionOf(m1T).marshal()?.mine === 'offered' && sessionOf(m2T).marshal()?.mine === 'offered', 'M1 and M2 say they offered', 20_000)
    // Control: M3 (no flaky socket) got its offer to Ana over the same relay.
    await waitFor(() => (ana.quorumProgress()?.offered ?? 0) >= 1, 'M3’s offer reached Ana', 10_000)
    await waitFor(() => revealed(ana) === LOCATION, `Ana reveals with M1’s or M2’s piece (she holds ${ana.quorumProgress()?.offered} of 2)`, 15_000)
  })

  // A blackout shorter than lib0's message timeout (30 s) closes no socket. A first version, waiting
  // only after a reconnection, wrote the offer made at go into the still-"connected" socket, and it
  // reached the relay when the network came back, with the hold still on its way in. Now the offer
  // waits for the server's word sent after go on that socket (a pong), which comes after the hold.
  it('marshals jammed (no socket closes) at the hold, back after go, do not hand a modified participant the location', { timeout: 120_000 }, async () => {
    const cast = await action()
    const ana = sessionOf(cast.ana)
    const stageId = ana.stages()[0]!.id
    const jam = await proxy(harness!.url)
    const [m1T, m2T] = [cast.marshals[0]!, cast.marshals[1]!]
    for (const t of [m1T, m2T]) sessionOf(t).connect({ ...t.transport, signalingUrls: [jam.url] })
    const goAt = Date.now() + 12_000
    cast.a.setTimes({ goAt })
    for (const t of [m1T, m2T, cast.ana]) await waitFor(() => sessionOf(t).brief.read().goAt === goAt, 'the go time reached the phones', 8_000)
    const spy = listener(harness!.url, newestKey(ana))
    cleanups.push(() => spy.close())
    await waitFor(spy.online, 'the modified participant listens', 10_000)
    await waitFor(() => Date.now() > goAt - 4_000, 'shortly before go', 15_000)
    jam.jam()
    cast.a.hold()
    await waitFor(() => ana.brief.read().state === 'held', 'the hold reached Ana', 5_000)
    // Both marshals' phones make their offer at go (their carried-forward server time and clock agree),
    // and keep it in (their screens say so, and show its QR code) until the server has spoken since go.
    await waitFor(() => sessionOf(m1T).marshal()?.mine === 'sending' && sessionOf(m2T).marshal()?.mine === 'sending', 'M1 and M2 made their offers, jammed', 15_000)
    expect(sessionOf(m1T).myShareCode()).toBeDefined()
    await sleep(500)
    jam.unjam()
    for (const t of [m1T, m2T]) await waitFor(() => sessionOf(t).brief.read().state === 'held', 'the marshal learned of the hold', 15_000)
    await sleep(2_000)
    // Withdrawn: nothing to send, nothing to show.
    for (const t of [m1T, m2T]) expect(sessionOf(t).marshal()?.mine).toBe('waiting')
    expect(revealed(ana)).toBeUndefined()
    expect(await openWith(ana, stageId, spy.heard)).toBeUndefined()
    expect(spy.heard.length).toBe(0)
  })
})
