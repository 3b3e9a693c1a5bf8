// Phones against an insider who turns hostile, written as a modified client would run it.
import { afterEach, describe, expect, it } from 'vitest'
import { newIdentity, type BoxPublicKey } from '../../src/crypto'
import { checkinMessage } from '../../src/model/checkin'
import type { ActionSession, Phone } from '../../src/model'
import type { SealedTopic } from '../../src/transport'
import { startSignaling, waitFor, type Harness } from '../server/helpers'
import { newPhone, ORIGIN } from './phones'

let harness: Harness | undefined
const phones: Phone[] = []
afterEach(async () => {
  await Promise.all(phones.splice(0).map((p) => p.lock().catch(() => undefined)))
  await harness?.stop()
})

/** What a modified participant app reaches inside its own session. */
const insides = (s: ActionSession) =>
  s as unknown as { checkins: SealedTopic; record: { brief: { docId: Parameters<typeof checkinMessage>[0] } } }

describe('check-ins', () => {
  it('a participant checking in 40 identities no invite admitted adds nothing; its own check-in counts once', async () => {
    harness = await startSignaling()
    const core = await newPhone(harness.url, phones)
    const coreId = await core.phone.createAction('Spring mob')
    const c = core.phone.get(coreId)
    c.setBrief('stagingPoint', 'Fountain')
    c.setShowCheckins(true)
    const attacker = await newPhone(harness.url, phones)
    const partId = await attacker.phone.join(core.phone.invite(coreId, 'participant', ORIGIN, 'Mallory')).done
    const p = attacker.phone.get(partId)
    await waitFor(() => p.brief.read().stagingPoint === 'Fountain' && p.brief.checkinKey() !== undefined, 'brief arrived', 10_000)

    // Forty made-up identities, each check-in correctly signed and sealed to the core's check-in key.
    const to = p.brief.checkinKey() as BoxPublicKey
    for (let i = 0; i < 40; i++) insides(p).checkins.send(checkinMessage(insides(p).record.brief.docId, newIdentity(), to))
    // Its own, twice.
    p.checkIn()
    await waitFor(() => p.checkin === 'confirmed', 'own check-in confirmed', 10_000)
    insides(p).checkins.send(checkinMessage(insides(p).record.brief.docId, p.me, to))
    await waitFor(() => c.checkinList().length >= 1, 'core sees the real check-in', 10_000)
    await new Promise((r) => setTimeout(r, 500)) // let every forged message arrive
    expect(c.checkinList().map((x) => x.label)).toEqual(['Mallory'])
    await waitFor(() => p.brief.read().checkins === 1, 'the shown count is 1', 10_000)
    expect(p.brief.read().checkins).toBe(1)
  })
})

describe('go time and a core phone whose clock was pushed forward', () => {
  it('does not release early: it goes by the server, tells its person, and releases at the real go time', async () => {
    harness = await startSignaling()
    const core = await newPhone(harness.url, phones)
    const coreId = await core.phone.createAction('Spring mob')
    const c = core.phone.get(coreId)
    // A fake cell tower pushed this phone's clock ten minutes forward.
    c.clock.local = () => Date.now() + 10 * 60_000
    c.setBrief('stagingPoint', 'Fountain')
    c.setStage({ text: 'the old tram depot' })
    const part = await newPhone(harness.url, phones)
    const partId = await part.phone.join(core.phone.invite(coreId, 'participant', ORIGIN, 'Ana')).done
    const p = part.phone.get(partId)
    await waitFor(() => p.stages().length === 1, 'sealed stage arrived', 10_000)
    await waitFor(() => c.clock.verdict().kind === 'off', 'the server told it the time', 10_000)
    expect(c.clockNote()).toMatchObject({ kind: 'off' })
    expect((c.clockNote() as { byMs: number }).byMs).toBeGreaterThan(9 * 60_000)

    // Go in five minutes: by this phone's own clock it is long past.
    c.setTimes({ goAt: Date.now() + 5 * 60_000 })
    await new Promise((r) => setTimeout(r, 1500))
    expect(c.stages()[0]!.releasedAt).toBeUndefined()
    expect(p.stages()[0]!.content).toBeUndefined()

    // At the real go time it releases.
    const goAt = Date.now() + 1000
    c.setTimes({ goAt })
    await waitFor(() => p.stages()[0]?.content !== undefined, 'revealed at the real go time', 10_000)
    expect(Date.now()).toBeGreaterThanOrEqual(goAt)
  })

  it('whose clock jumps after the last reference holds, says why, and a person can still Go now', async () => {
    harness = await startSignaling()
    const core = await newPhone(harness.url, phones)
    const coreId = await core.phone.createAction('Spring mob')
    const c = core.phone.get(coreId)
    c.setStage({ text: 'the old tram depot' })
    await waitFor(() => c.clock.verdict().kind === 'agrees', 'the server confirmed its clock', 10_000)
    c.setTimes({ goAt: Date.now() + 5 * 60_000 })
    c.clock.local = () => Date.now() + 10 * 60_000 // the jump, before the next probe
    ;(c as unknown as { armGo: () => void }).armGo()
    expect(c.clockNote()).toEqual({ kind: 'holding' })
    await new Promise((r) => setTimeout(r, 500))
    expect(c.stages()[0]!.releasedAt).toBeUndefined()
    c.goNow()
    expect(c.stages()[0]!.releasedAt).toBeDefined()
  })
})
