// Remote supporters: take part from afar with the remote brief (the task, go time, the go signal),
// never the brief or the location. Attacked as a remote supporter would: a frame of its own making
// into the remote brief, and reading on after removal.
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { FrameKind, sealFrame } from '../../src/doc'
import { BriefEditor } from '../../src/model/brief'
import type { Phone } from '../../src/model'
import { startSignaling, waitFor, type Harness } from '../server/helpers'
import { newPhone, ORIGIN, sessionOf } from './phones'

let harness: Harness | undefined
const phones: Phone[] = []
afterEach(async () => {
  await Promise.all(phones.splice(0).map((p) => p.lock().catch(() => undefined)))
  await harness?.stop()
})

const T = 20_000

describe('remote supporters', () => {
  it('get the task, the go time and the go signal, never the brief or the location; cannot write; removal ends their reading', async () => {
    harness = await startSignaling()
    const core = await newPhone(harness.url, phones)
    const id = await core.phone.createAction('Far and near')
    const c = core.phone.get(id)
    c.setBrief('stagingPoint', 'MARKER staging')
    c.setStage({ text: 'MARKER location' })
    c.setRemoteTask('call the legal line at go')
    // A second core member joins after the remote brief exists: it writes the remote task too.
    const second = await newPhone(harness.url, phones)
    await second.phone.join(c.invite('core', 'B', ORIGIN)).done
    const b = sessionOf(second)
    await waitFor(() => b.remoteBrief()?.remoteTask === 'call the legal line at go', 'the second core phone reads the remote brief', T)

    const far = await newPhone(harness.url, phones)
    await far.phone.join(c.invite('remote', 'far', ORIGIN)).done
    const r = sessionOf(far)
    expect(r.role).toBe('remote')
    expect(r.access.brief.docId).toBe(c.access.remote!.docId)
    expect(r.access.plan).toBeUndefined()
    await waitFor(() => r.brief.read().remoteTask === 'call the legal line at go', 'the task arrives', T)
    b.setRemoteTask('call the legal line at go, then share the stream')
    await waitFor(() => r.brief.read().remoteTask.endsWith('share the stream'), 'an edit from the other core phone arrives', T)
    c.setTimes({ goAt: Date.now() + 3600_000, timeZone: 'Europe/Madrid' })
    await waitFor(() => r.brief.read().timeZone === 'Europe/Madrid' && r.brief.read().goAt !== undefined, 'the go time follows', T)

    // Its own frame into the remote brief (an earlier go signal, a new task) is refused by the core.
    const key = r.access.brief.keys.get(0)!
    const copy = new Y.Doc()
    Y.applyUpdate(copy, Y.encodeStateAsUpdate(r.briefDoc.plain))
    const before = Y.encodeStateVector(copy)
    new BriefEditor(copy, r.access.brief.docId).setRemote({ remoteTask: 'go to the palace', wentAt: Date.now() })
    const forged = sealFrame({ kind: FrameKind.update, docId: r.briefDoc.docId, epoch: 0, counter: 1 }, Y.encodeStateAsUpdate(copy, before), key, r.me).bytes
    expect(c.remoteDoc!.receive(forged)).not.toBe('accepted')
    expect(c.remoteBrief()!.wentAt).toBeUndefined()

    c.goNow()
    await waitFor(() => r.brief.read().wentAt !== undefined, 'the go signal', T)
    const held = JSON.stringify(r.briefDoc.plain.toJSON()) + JSON.stringify(r.recordNow())
    expect(held).not.toContain('MARKER')
    expect(r.stages()).toEqual([])

    // Removed: a new epoch of the remote brief only; the participants' brief is untouched.
    const briefEpoch = c.briefDoc.epoch
    await c.removeMember(c.invites().find((i) => i.tier === 'remote')!.id)
    expect(c.remoteDoc!.epoch).toBe(1)
    expect(c.briefDoc.epoch).toBe(briefEpoch)
    c.setRemoteTask('new task after removal')
    await waitFor(() => b.remoteBrief()?.remoteTask === 'new task after removal', 'the other core phone reads on', T)
    await new Promise((r) => setTimeout(r, 1500))
    expect(r.brief.read().remoteTask).not.toBe('new task after removal')
  }, 120_000)
})
