// Recruiting through trusted people: the core lets a participant pass on invites; a friend joins
// with one; the core sees who vouched for whom, and removes a whole branch in one step. Attacked
// as a participant would: another participant trying to read the links, a link used twice, the
// removed voucher's unused link, a removed branch reading on.
import { afterEach, describe, expect, it } from 'vitest'
import { JoinError, type ActionSession, type Phone } from '../../src/model'
import { startSignaling, waitFor, type Harness } from '../server/helpers'
import { newPhone, ORIGIN, sessionOf, type TestPhone } from './phones'

let harness: Harness | undefined
const phones: Phone[] = []
afterEach(async () => {
  await Promise.all(phones.splice(0).map((p) => p.lock().catch(() => undefined)))
  await harness?.stop()
})

const T = 20_000
type Joined = TestPhone & { s: () => ActionSession }

async function joinWith(url: string, link: string): Promise<Joined> {
  const t = await newPhone(url, phones)
  await t.phone.join(link).done
  return { ...t, s: () => sessionOf(t) }
}

describe('vouching', () => {
  it('a participant passes on an invite; the core sees who vouched; removing the voucher’s branch removes everyone it brought in, in one rotation', async () => {
    harness = await startSignaling()
    const url = harness.url
    const core = await newPhone(url, phones)
    const id = await core.phone.createAction('Seeds')
    const c = core.phone.get(id)
    c.setBrief('stagingPoint', 'the old market')
    const ana = await joinWith(url, c.invite('participant', 'Ana', ORIGIN))
    const bo = await joinWith(url, c.invite('participant', 'Bo', ORIGIN))
    const anaInvite = c.invites().find((i) => i.label === 'Ana')!.id

    c.allowVouching(anaInvite, 2)
    await waitFor(() => ana.s().vouchLinks(ORIGIN).length === 2, 'Ana holds two links to pass on', T)
    // Bo holds the same brief, and cannot open Ana's box.
    expect(bo.s().vouchLinks(ORIGIN)).toEqual([])
    expect(c.vouchesOpen(anaInvite)).toBe(2)

    const [first, second] = ana.s().vouchLinks(ORIGIN)
    const friend = await joinWith(url, first!)
    await waitFor(() => friend.s().brief.read().stagingPoint === 'the old market', 'the friend has the brief', T)
    // One-time, as the core's own invites: a second phone with the same link is told it is used.
    const thief = await newPhone(url, phones)
    await expect(thief.phone.join(first!).done).rejects.toMatchObject({ problem: 'used' })
    // The core sees who vouched for whom.
    const friendInvite = c.invites().find((i) => i.vouchedBy === anaInvite && i.state === 'used')!
    expect(friendInvite).toBeDefined()
    expect(c.vouchesOpen(anaInvite)).toBe(1)

    // The friend vouches in turn: a second generation.
    c.allowVouching(friendInvite.id, 1)
    await waitFor(() => friend.s().vouchLinks(ORIGIN).length === 1, 'the friend holds a link', T)
    const cousin = await joinWith(url, friend.s().vouchLinks(ORIGIN)[0]!)
    await waitFor(() => cousin.s().brief.read().stagingPoint === 'the old market', 'the cousin has the brief', T)

    // One step removes Ana, her friend and the friend's cousin: one new epoch of the brief.
    const epoch = c.briefDoc.epoch
    expect(await c.removeBranch(anaInvite)).toBe(3)
    expect(c.briefDoc.epoch).toBe(epoch + 1)
    c.setBrief('stagingPoint', 'the new place')
    await waitFor(() => bo.s().brief.read().stagingPoint === 'the new place', 'Bo, outside the branch, reads on', T)
    await new Promise((r) => setTimeout(r, 1500))
    for (const gone of [ana, friend, cousin]) expect(gone.s().brief.read().stagingPoint).toBe('the old market')
    for (const gone of [ana, friend, cousin]) await waitFor(() => gone.s().removed(), 'the removed phone knows', T)
    // Ana's unused link was withdrawn with her.
    const late = await newPhone(url, phones)
    const refused = await late.phone.join(second!).done.catch((e: unknown) => e)
    expect(refused).toBeInstanceOf(JoinError)
    expect((refused as JoinError).problem).toBe('revoked')
    expect(c.invites().filter((i) => i.state === 'removed')).toHaveLength(3)
  }, 150_000)

  it('vouching is for admitted participants only, and bounded', async () => {
    harness = await startSignaling()
    const core = await newPhone(harness.url, phones)
    const id = await core.phone.createAction('Seeds')
    const c = core.phone.get(id)
    c.invite('participant', 'not yet', ORIGIN)
    const open = c.invites()[0]!.id
    expect(() => c.allowVouching(open, 1)).toThrow(/participant who joined/)
    const ana = await joinWith(harness.url, c.invite('participant', 'Ana', ORIGIN))
    void ana
    const anaInvite = c.invites().find((i) => i.label === 'Ana')!.id
    expect(() => c.allowVouching(anaInvite, 11)).toThrow(/at most 10/)
    expect(() => c.allowVouching(anaInvite, 0)).toThrow()
    c.allowVouching(anaInvite, 10)
    expect(() => c.allowVouching(anaInvite, 1)).toThrow(/at most 10/)
  }, 60_000)
})
