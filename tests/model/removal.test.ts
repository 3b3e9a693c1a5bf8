// Removal with key rotation: the removed phone cannot read what is written after, its
// new frames are refused, and everyone who remains (also those offline at the time)
// moves to the new keys.
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { FrameKind, sealFrame } from '../../src/doc'
import type { ActionSession, Phone } from '../../src/model'
import { startSignaling, waitFor, type Harness } from '../server/helpers'
import { newPhone, ORIGIN, PASSPHRASE } from './phones'

let harness: Harness | undefined
const phones: Phone[] = []
afterEach(async () => {
  await Promise.all(phones.splice(0).map((p) => p.lock().catch(() => undefined)))
  await harness?.stop()
})

const inviteIdOf = (s: ActionSession, label: string): string => s.invites().find((i) => i.label === label)!.id

describe('removing a participant', () => {
  it('rotates the brief: the removed phone reads nothing new; the others do, also one that was offline', async () => {
    harness = await startSignaling()
    const core = await newPhone(harness.url, phones)
    const id = await core.phone.createAction('Mob')
    const c = core.phone.get(id)
    c.setBrief('stagingPoint', 'Fountain')
    c.briefDoc.flush()
    const join = async (label: string) => {
      const t = await newPhone(harness!.url, phones)
      const pid = await t.phone.join(core.phone.invite(id, 'participant', ORIGIN, label)).done
      const s = t.phone.get(pid)
      await waitFor(() => s.brief.read().stagingPoint === 'Fountain', `${label} has the brief`, 10_000)
      return { t, s }
    }
    const eve = await join('Eve')
    const ana = await join('Ana')
    const ben = await join('Ben')
    // Ben is offline while Eve is removed.
    await ben.t.phone.lock()
    phones.splice(phones.indexOf(ben.t.phone), 1)

    await c.removeMember(inviteIdOf(c, 'Eve'))
    c.setBrief('stagingPoint', 'MOVED: the east gate')
    c.briefDoc.flush()
    await waitFor(() => ana.s.brief.read().stagingPoint === 'MOVED: the east gate', 'Ana reads the new brief', 10_000)
    await waitFor(() => eve.s.removed(), 'Eve sees she was removed', 10_000)
    await new Promise((r) => setTimeout(r, 500))
    expect(eve.s.brief.read().stagingPoint).toBe('Fountain')
    expect(eve.s.briefDoc.stats.accepted).toBeGreaterThan(0)

    // Ben comes back: he finds the rotation (in the previous room) and moves on.
    const { Phone } = await import('../../src/model')
    const back = await Phone.unlock(ben.t.db, PASSPHRASE, ben.t.transport)
    phones.push(back)
    const bs = back.get(back.list()[0]!.id)
    await waitFor(() => bs.brief.read().stagingPoint === 'MOVED: the east gate', 'Ben caught up after being offline', 15_000)
  })
})

describe('removing a core member', () => {
  it('rotates plan and brief; frames the removed member writes afterwards are refused', async () => {
    harness = await startSignaling()
    const a = await newPhone(harness.url, phones)
    const id = await a.phone.createAction('Mob')
    const sa = a.phone.get(id)
    sa.plan!.set('notes', 'original notes')
    sa.planDoc!.flush()
    const joinCore = async (label: string) => {
      const t = await newPhone(harness!.url, phones)
      const cid = await t.phone.join(a.phone.invite(id, 'core', ORIGIN, label)).done
      const s = t.phone.get(cid)
      await waitFor(() => s.plan!.read().notes === 'original notes', `${label} synced`, 10_000)
      return s
    }
    const mallory = await joinCore('Mallory')
    const bob = await joinCore('Bob')
    await sa.removeMember(inviteIdOf(sa, 'Mallory'))
    await waitFor(() => bob.planDoc!.epoch === 1 && bob.briefDoc.epoch === 1, 'Bob adopted the new keys', 10_000)

    // Mallory, cut off, writes into the old epoch with her old key: refused everywhere.
    const doc = new Y.Doc()
    Y.applyUpdate(doc, Y.encodeStateAsUpdate(mallory.planDoc!.plain))
    doc.getText('notes').insert(0, 'TRAP ')
    const update = Y.encodeStateAsUpdate(doc, Y.encodeStateVector(mallory.planDoc!.plain))
    const key = (mallory as unknown as { record: { plan: { keys: Map<number, never> } } }).record.plan.keys.get(0)!
    const late = sealFrame({ kind: FrameKind.update, docId: mallory.planDoc!.docId, epoch: 0, counter: 999 }, update, key, mallory.me)
    expect(sa.planDoc!.receive(late.bytes)).toBe('closed')
    expect(bob.planDoc!.receive(late.bytes)).toBe('closed')
    expect(sa.plan!.read().notes).toBe('original notes')

    // Edits after the removal reach Bob, not Mallory.
    sa.plan!.set('notes', 'original notes, now secret')
    sa.planDoc!.flush()
    await waitFor(() => bob.plan!.read().notes === 'original notes, now secret', 'Bob reads the new plan', 20_000)
    await new Promise((r) => setTimeout(r, 500))
    expect(mallory.plan!.read().notes).toBe('original notes')
    expect(mallory.removed()).toBe(true)
    // Bob, who remains, can still write.
    bob.plan!.set('notes', 'Bob was here')
    bob.planDoc!.flush()
    await waitFor(() => sa.plan!.read().notes === 'Bob was here', 'Bob writes in the new epoch', 10_000)
  })
})

describe('any one core member can remove', () => {
  it('also the first member, who joined without an invite (say, a seized phone)', async () => {
    harness = await startSignaling()
    const a = await newPhone(harness.url, phones)
    const id = await a.phone.createAction('Mob')
    const t = await newPhone(harness.url, phones)
    const bid = await t.phone.join(a.phone.invite(id, 'core', ORIGIN, 'Bob')).done
    const bob = t.phone.get(bid)
    await waitFor(() => bob.coreMembers().length === 2 && bob.briefDoc.canWrite, 'Bob sees two core members and may write the brief', 10_000)
    const founder = bob.coreMembers().find((m) => !m.me && m.label === '')!
    await bob.removeCoreMember(founder.id)
    bob.plan!.set('notes', 'after the founder was removed')
    bob.planDoc!.flush()
    // (The session may have been opened anew meanwhile: ask the phone for it each time.)
    await waitFor(() => a.phone.get(id).removed(), 'the first member sees it was removed', 10_000)
    await new Promise((r) => setTimeout(r, 500))
    expect(a.phone.get(id).plan!.read().notes).not.toContain('after the founder was removed')
    expect(bob.coreMembers().map((m) => m.me)).toEqual([true])
  })
})
