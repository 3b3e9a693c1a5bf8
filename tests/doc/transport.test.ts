// Any peer in a room can write to the transport doc. Honest replicas remove what
// can never be valid, put back valid frames that were deleted or overwritten, and
// keep the plaintext correct.
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { newIdentity, randomKey, utf8 } from '../../src/crypto'
import { FrameKind, sealFrame, type SecureDoc } from '../../src/doc'
import { makeCore, replica, syncTransports, text, type } from './fixtures'

/** A peer that holds no key and writes straight into the shared map, as an infiltrator could. */
function attacker(honest: SecureDoc): { doc: Y.Doc; map: Y.Map<unknown>; pushTo: (d: SecureDoc) => void } {
  const doc = new Y.Doc()
  Y.applyUpdate(doc, Y.encodeStateAsUpdate(honest.transport))
  const map = doc.getMap<unknown>('frames')
  return {
    doc,
    map,
    pushTo: (d) => Y.applyUpdate(d.transport, Y.encodeStateAsUpdate(doc, Y.encodeStateVector(d.transport)), 'peer'),
  }
}

function setup() {
  const core = makeCore(2)
  const [a, b] = core.members.map((m) => replica(core, m)) as [SecureDoc, SecureDoc]
  type(a, 0, 'gather at 18:00 by the clock tower')
  const frame = a.flush()!
  syncTransports(a, b)
  expect(text(b)).toBe('gather at 18:00 by the clock tower')
  return { core, a, b, frame }
}

describe('the transport doc heals itself', () => {
  it('garbage entries are removed and counted; the plaintext is unchanged', () => {
    const { b } = setup()
    const evil = attacker(b)
    evil.map.set('junk-1', utf8('garbage'))
    evil.map.set('junk-2', 12345)
    evil.map.set('junk-3', new Y.Map())
    evil.map.set('junk-4', new Uint8Array(400).fill(7))
    evil.pushTo(b)
    expect(b.stats['garbage-removed']).toBe(4)
    expect([...b.frames.keys()].filter((k) => k.startsWith('junk'))).toEqual([])
    expect(text(b)).toBe('gather at 18:00 by the clock tower')
  })

  it('a deleted valid frame is put back, and peers that sync later still get it', () => {
    const { core, b, frame } = setup()
    const evil = attacker(b)
    evil.map.delete(frame.id)
    evil.pushTo(b)
    expect(b.stats.healed).toBe(1)
    expect(b.frames.get(frame.id)).toEqual(frame.bytes)
    // A fresh replica that syncs only with the attacker's copy plus b's repair gets the plan.
    const c = replica(core, newIdentity())
    Y.applyUpdate(c.transport, Y.encodeStateAsUpdate(evil.doc), 'peer')
    expect(text(c)).toBe('')
    syncTransports(b, c)
    expect(text(c)).toBe('gather at 18:00 by the clock tower')
  })

  it('a valid frame overwritten with garbage is restored', () => {
    const { b, frame } = setup()
    const evil = attacker(b)
    evil.map.set(frame.id, utf8('overwritten'))
    evil.pushTo(b)
    expect(b.frames.get(frame.id)).toEqual(frame.bytes)
    expect(b.stats['garbage-removed']).toBe(1)
  })

  it('a valid frame filed under the wrong key is moved to its own id', () => {
    const { core, a, b } = setup()
    type(a, 0, 'NEW ')
    const f = a.flush()!
    const evil = attacker(b)
    evil.map.set('not-its-id', f.bytes)
    evil.pushTo(b)
    expect(b.frames.has('not-its-id')).toBe(false)
    expect(b.frames.get(f.id)).toEqual(f.bytes)
    expect(text(b)).toBe(text(a))
    expect(core).toBeDefined()
  })

  it('forged and undecryptable frames are removed; an outsider\'s signed frame is kept but never applied', () => {
    const { core, b, frame } = setup()
    const evil = attacker(b)
    const forged = frame.bytes.slice()
    forged[forged.length - 1] ^= 1
    const undecryptable = sealFrame({ kind: FrameKind.update, docId: core.docId, epoch: 0, counter: 50 }, utf8('x'), randomKey(), core.members[0]!)
    const outsider = sealFrame({ kind: FrameKind.update, docId: core.docId, epoch: 0, counter: 0 }, utf8('x'), core.key, newIdentity())
    evil.map.set('forged', forged)
    evil.map.set(undecryptable.id, undecryptable.bytes)
    evil.map.set(outsider.id, outsider.bytes)
    evil.pushTo(b)
    expect(b.frames.has('forged')).toBe(false)
    expect(b.frames.has(undecryptable.id)).toBe(false)
    // Not removed: a replica that has not seen a roster entry yet must not fight one that has.
    expect(b.frames.has(outsider.id)).toBe(true)
    expect(b.stats.unauthorized).toBe(1)
    expect(text(b)).toBe('gather at 18:00 by the clock tower')
  })

  it('two honest replicas never fight: repairs settle after one round', () => {
    const { a, b, frame } = setup()
    const evil = attacker(b)
    evil.map.delete(frame.id)
    evil.map.set('junk', utf8('x'))
    evil.pushTo(a)
    evil.pushTo(b)
    syncTransports(a, b)
    const sv = [Y.encodeStateVector(a.transport), Y.encodeStateVector(b.transport)]
    syncTransports(a, b)
    expect(Y.encodeStateVector(a.transport)).toEqual(sv[0])
    expect(Y.encodeStateVector(b.transport)).toEqual(sv[1])
    expect(a.frames.get(frame.id)).toEqual(frame.bytes)
    expect([...a.frames.keys()].sort()).toEqual([...b.frames.keys()].sort())
  })
})
