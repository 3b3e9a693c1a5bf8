// Marshals' quorum between phones (issue 15): every core phone gone at go, k marshals open the
// stage for everyone. Each attack is played as a modified client would: offers crafted and sent
// by hand on the relay, a marshal releasing early, a removed marshal replaying its old share, a
// hold, a marshal phone whose clock was pushed forward. Real phones, real relay on 127.0.0.1.
import { afterEach, describe, expect, it } from 'vitest'
import { concat, framed, fromBase64Url, newIdentity, randomBytes, utf8, type DeviceIdentity, type DocId } from '../../src/crypto'
import { lib } from '../../src/crypto/sodium'
import { Phone } from '../../src/model'
import { makeShareOffer, shareOf } from '../../src/model/quorum'
import { startSignaling, waitFor, type Harness } from '../server/helpers'
import { marshalsCast, newestKey, revealed, sessionOf, withoutCoreRogue, type MarshalsCast } from './phones'

let harness: Harness | undefined
const phones: Phone[] = []
afterEach(async () => {
  await Promise.all(phones.splice(0).map((p) => p.lock().catch(() => undefined)))
  await harness?.stop()
})

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const LOCATION = 'The old tram depot, north gate'

/** The cast on a signaling server of its own: a core phone, three marshals and Ana; the core arms 2 of 3. */
const action = async (): Promise<MarshalsCast> => marshalsCast((harness = await startSignaling()).url, phones, LOCATION)

/**
 * The same share offer, signed again with a fresh random nonce: a valid Ed25519 signature, and new
 * bytes every time (libsodium signs deterministically; a modified client need not). Real libsodium
 * scalar arithmetic: R = rB, S = r + H(R, A, M)a.
 */
function resigned(briefId: DocId, stageId: string, share: Uint8Array, m: DeviceIdentity): Uint8Array {
  const s = lib()
  const h = s.crypto_hash_sha512(m.seed.subarray(0, 32))
  const a = h.slice(0, 32)
  a[0]! &= 248
  a[31]! &= 127
  a[31]! |= 64
  const wide = new Uint8Array(64)
  wide.set(a)
  const scalar = s.crypto_core_ed25519_scalar_reduce(wide)
  const r = s.crypto_core_ed25519_scalar_random()
  const R = s.crypto_scalarmult_ed25519_base_noclamp(r)
  const message = concat(framed(utf8('blossom/v1/sign/share-offer')), fromBase64Url(briefId), fromBase64Url(stageId), share)
  const k = s.crypto_core_ed25519_scalar_reduce(s.crypto_hash_sha512(concat(R, m.signingPublicKey, message)))
  const S = s.crypto_core_ed25519_scalar_add(r, s.crypto_core_ed25519_scalar_mul(k, scalar))
  return concat(Uint8Array.of(1), fromBase64Url(stageId), share, m.signingPublicKey, R, S)
}


describe('marshals open the stage with every core phone gone', () => {
  it('2 of 3 marshals release at go; every participant reveals, a late one too, and a restart keeps it', { timeout: 90_000 }, async () => {
    const cast = await action()
    expect(cast.a.armed().quorum).toEqual({ k: 2, n: 3 })
    expect(sessionOf(cast.ana).armed().quorum).toEqual({ k: 2, n: 3 })
    // An ordinary participant holds no share and is no marshal; before go nothing is offered.
    expect(sessionOf(cast.ana).marshal()).toBeUndefined()
    expect(sessionOf(cast.marshals[0]!).marshal()).toMatchObject({ k: 2, n: 3, offered: 0, mine: 'waiting' })
    // Go is moved close; then every core phone is gone, and the third marshal and Ana are offline at go.
    cast.a.setTimes({ goAt: Date.now() + 4_000 })
    for (const m of cast.marshals) await waitFor(() => sessionOf(m).brief.read().goAt! < Date.now() + 5_000, 'the marshals have the new go time', 10_000)
    await cast.core.phone.lock()
    phones.splice(phones.indexOf(cast.core.phone), 1)
    sessionOf(cast.marshals[2]!).connect({ ...cast.marshals[2]!.transport, signalingUrls: [] })
    sessionOf(cast.ana).connect({ ...cast.ana.transport, signalingUrls: [] })
    expect(revealed(sessionOf(cast.marshals[0]!))).toBeUndefined()
    for (const m of cast.marshals.slice(0, 2)) await waitFor(() => revealed(sessionOf(m)) === LOCATION, 'the two marshals online reveal', 20_000)
    expect(sessionOf(cast.marshals[0]!).marshal()).toMatchObject({ offered: 2, mine: 'offered' })
    // The late ones come back: they ask, and get the offers.
    sessionOf(cast.ana).connect(cast.ana.transport)
    sessionOf(cast.marshals[2]!).connect(cast.marshals[2]!.transport)
    await waitFor(() => revealed(sessionOf(cast.ana)) === LOCATION, 'Ana, late, reveals', 20_000)
    await waitFor(() => revealed(sessionOf(cast.marshals[2]!)) === LOCATION, 'the late marshal reveals', 20_000)
    // A restart with no network keeps the reveal: the offers are in the action's record.
    await cast.ana.phone.lock()
    const again = await Phone.unlock(cast.ana.db, 'a long passphrase', { ...cast.ana.transport, signalingUrls: [] })
    phones.push(again)
    await waitFor(() => revealed(again.get(again.list()[0]!.id)) === LOCATION, 'Ana still sees it after a restart', 10_000)
  })
})

describe('marshals, attacked', () => {
  it('a participant’s crafted offers (its own shares, a marshal’s key, replays of one marshal) open nothing', { timeout: 90_000 }, async () => {
    const cast = await action()
    const ana = sessionOf(cast.ana)
    const briefId = ana.access.brief.docId
    const stageId = ana.stages()[0]!.id
    const r = withoutCoreRogue(harness!.url, newestKey(ana), 'offer')
    // Ana signs random shares with her own key, and one claiming to be a marshal (her signature, its key).
    await r.send(makeShareOffer(briefId, stageId, randomBytes(33), ana.me))
    const claimed = makeShareOffer(briefId, stageId, randomBytes(33), newIdentity())
    claimed.set(sessionOf(cast.marshals[0]!).me.signingPublicKey, 1 + 16 + 33)
    await r.send(claimed)
    // One marshal's modified client releases early, and Ana replays its offer three times: one marshal, not two.
    const m1 = sessionOf(cast.marshals[0]!)
    const early = makeShareOffer(briefId, stageId, shareOf(m1.me, m1.brief.quorum(stageId)!, stageId)!, m1.me)
    for (let i = 0; i < 3; i++) await r.send(early)
    // A marshal poisoning the combination: its own signature over a share it made up.
    const m2 = sessionOf(cast.marshals[1]!)
    await r.send(makeShareOffer(briefId, stageId, randomBytes(33), m2.me))
    await waitFor(() => m2.marshal()?.offered === 1, 'the early offer reached the second marshal', 10_000)
    await sleep(1_000)
    for (const s of [ana, m1, m2, sessionOf(cast.marshals[2]!), cast.a]) {
      if (s !== cast.a) expect(revealed(s)).toBeUndefined()
      expect(s.marshal()?.offered ?? 1).toBe(1)
    }
    r.close()
  })

  it('a marshal signing its piece anew 200 times before go takes one place: the honest marshals still open at go', { timeout: 90_000 }, async () => {
    const cast = await action()
    const [m1, m2, m3] = cast.marshals.map(sessionOf)
    const briefId = m1!.access.brief.docId
    const stageId = m1!.stages()[0]!.id
    const share = shareOf(m3!.me, m3!.brief.quorum(stageId)!, stageId)!
    const variants = Array.from({ length: 200 }, () => resigned(briefId, stageId, share, m3!.me))
    expect(new Set(variants.map((v) => v.join())).size).toBe(200)
    const r = withoutCoreRogue(harness!.url, newestKey(m1!), 'offer')
    for (const v of variants) await r.send(v)
    await waitFor(() => m1!.marshal()?.offered === 1, 'M1 counts M3 once', 10_000)
    await sleep(1_000)
    expect(m1!.marshal()?.offered).toBe(1)
    expect(revealed(m1!)).toBeUndefined()
    // Go, with every core phone gone (so only the marshals can open it): M1 and M2 release, M3's one
    // piece counts once, and every participant reveals.
    const goAt = Date.now() + 4_000
    cast.a.setTimes({ goAt })
    for (const t of [...cast.marshals, cast.ana]) await waitFor(() => sessionOf(t).brief.read().goAt === goAt, 'everyone has the go time', 10_000)
    await cast.core.phone.lock()
    phones.splice(phones.indexOf(cast.core.phone), 1)
    for (const t of [...cast.marshals, cast.ana]) await waitFor(() => revealed(sessionOf(t)) === LOCATION, 'everyone reveals at go', 20_000)
    expect(m2!.marshal()?.offered).toBeGreaterThanOrEqual(2)
    r.close()
  })

  it('a marshal whose phone clock was pushed forward does not release before go by the server’s time (its person is asked); nor does one while the core holds', { timeout: 90_000 }, async () => {
    const cast = await action()
    const [m1, m2] = cast.marshals.map(sessionOf)
    // A fake tower pushed M1's clock ten minutes ahead; go is five minutes away by the server.
    cast.a.setTimes({ goAt: Date.now() + 5 * 60_000 })
    await waitFor(() => m1!.brief.read().goAt! < Date.now() + 6 * 60_000, 'the new go time reached M1', 10_000)
    m1!.marshalClock!.local = () => Date.now() + 10 * 60_000
    m1!.connect(cast.marshals[0]!.transport) // probes the server again at once
    await sleep(3_000)
    // Its clock and the server's disagree: it does not release by itself; its person is asked.
    expect(m1!.marshal()?.mine).toBe('confirm')
    expect(m2!.marshal()?.offered).toBe(0)
    // The core holds; go time comes; nobody offers.
    cast.a.hold()
    cast.a.setTimes({ goAt: Date.now() + 1_000 })
    await waitFor(() => m2!.brief.read().state === 'held', 'the hold reached M2', 10_000)
    await sleep(3_000)
    expect(m2!.marshal()).toMatchObject({ offered: 0, mine: 'waiting' })
    expect(revealed(sessionOf(cast.ana))).toBeUndefined()
  })

  it('a removed marshal’s share is useless: the key is new, the split is among the others, its replay is refused', { timeout: 90_000 }, async () => {
    const cast = await action()
    const m3 = sessionOf(cast.marshals[2]!)
    const stageId = m3.stages()[0]!.id
    const briefId = m3.access.brief.docId
    const oldQuorum = m3.brief.quorum(stageId)!
    const oldShare = shareOf(m3.me, oldQuorum, stageId)!
    const oldKey = newestKey(m3)
    const m3Invite = cast.a.invites().find((i) => i.label === 'M3')!.id
    await cast.a.removeMember(m3Invite)
    const ana = sessionOf(cast.ana)
    await waitFor(() => ana.brief.quorum(stageId)?.shares.length === 2, 'Ana holds the new split among two', 15_000)
    expect(ana.brief.quorum(stageId)!.keyId).not.toBe(oldQuorum.keyId)
    // M3 replays its old share (on the old topic, and into the new one through a friend's key).
    for (const key of [oldKey, newestKey(ana)]) {
      const r = withoutCoreRogue(harness!.url, key, 'offer')
      await r.send(makeShareOffer(briefId, stageId, oldShare, m3.me))
      r.close()
    }
    // M1 releases early with its new share: with M3's replay that would be two, were M3's counted.
    const m1 = sessionOf(cast.marshals[0]!)
    await waitFor(() => m1.brief.quorum(stageId)?.shares.length === 2, 'M1 holds the new split', 15_000)
    const r = withoutCoreRogue(harness!.url, newestKey(ana), 'offer')
    await r.send(makeShareOffer(briefId, stageId, shareOf(m1.me, m1.brief.quorum(stageId)!, stageId)!, m1.me))
    await waitFor(() => ana.marshal() === undefined && sessionOf(cast.marshals[1]!).marshal()?.offered === 1, 'M2 counts M1 only', 10_000)
    await sleep(500)
    expect(revealed(ana)).toBeUndefined()
    r.close()
  })

  it('dropping a marshal, or turning the quorum off, gives the stage a new key: pieces of the old split open nothing', { timeout: 90_000 }, async () => {
    const cast = await action()
    const [m1, , m3] = cast.marshals.map(sessionOf)
    const ana = sessionOf(cast.ana)
    const stageId = ana.stages()[0]!.id
    const briefId = ana.access.brief.docId
    const old = ana.brief.quorum(stageId)!
    const oldOffers = [m1!, m3!].map((m) => makeShareOffer(briefId, stageId, shareOf(m.me, old, stageId)!, m.me))
    const keep = cast.a.marshalChoices().filter((c) => c.label !== 'M3').filter((c) => c.label.startsWith('M')).map((c) => c.id)
    cast.a.setQuorum({ k: 2, marshals: keep })
    await waitFor(() => ana.brief.quorum(stageId)?.shares.length === 2 && ana.brief.quorum(stageId)!.keyId !== old.keyId, 'Ana holds a split of a new key', 15_000)
    const r = withoutCoreRogue(harness!.url, newestKey(ana), 'offer')
    for (const o of oldOffers) await r.send(o)
    await sleep(1_500)
    expect(revealed(ana)).toBeUndefined()
    expect(ana.quorumProgress()).toEqual({ offered: 0, k: 2 })
    // Off: the marshals' pieces of the key in force are out, so the key changes again.
    const armed = ana.brief.quorum(stageId)!
    cast.a.setQuorum(undefined)
    await waitFor(() => ana.brief.quorum(stageId) === undefined && ana.brief.sealedKeyId(stageId) !== armed.keyId, 'a new key once the quorum is off', 15_000)
    r.close()
  })

  it('with no network, a participant scanning two marshals’ QR codes reveals; anything else scanned is refused with a reason', { timeout: 90_000 }, async () => {
    const cast = await action()
    const ana = sessionOf(cast.ana)
    ana.connect({ ...cast.ana.transport, signalingUrls: [] })
    cast.a.setTimes({ goAt: Date.now() + 3_000 })
    const [m1, m2] = cast.marshals.map(sessionOf)
    for (const m of [m1!, m2!]) await waitFor(() => m.marshal()?.mine === 'offered' && m.myShareCode() !== undefined, 'the marshal released and shows its code', 20_000)
    expect(revealed(ana)).toBeUndefined()
    await expect(ana.acceptReleaseCode('BLOSSOM-SHARE:not-a-piece')).rejects.toMatchObject({ name: 'QuorumError', problem: 'malformed' })
    const forged = makeShareOffer(ana.access.brief.docId, ana.stages()[0]!.id, randomBytes(33), ana.me)
    await expect(ana.acceptReleaseCode(`BLOSSOM-SHARE:${Buffer.from(forged).toString('base64url')}`)).rejects.toMatchObject({ problem: 'not-marshal' })
    expect(await ana.acceptReleaseCode(m1!.myShareCode()!)).toBeUndefined()
    expect(ana.quorumProgress()).toEqual({ offered: 1, k: 2 })
    const opened = await ana.acceptReleaseCode(m2!.myShareCode()!)
    expect(opened?.content?.text).toBe(LOCATION)
    expect(revealed(ana)).toBe(LOCATION)
  })
})
