// Three replicas, random concurrent edits, frames delivered in random order with
// duplicates, drops and late resends, snapshots taken at random: every run ends
// with the same plaintext everywhere.
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import * as Y from 'yjs'
import { newIdentity } from '../../src/crypto'
import { FrameKind, openFrame, parseFrame, type SecureDoc } from '../../src/doc'
import { makeCore, replica, syncTransports, type Core } from './fixtures'

type Op =
  | { kind: 'insert'; r: number; pos: number; s: string }
  | { kind: 'delete'; r: number; pos: number; len: number }
  | { kind: 'set'; r: number; key: string; value: number }
  | { kind: 'flush'; r: number }
  | { kind: 'compact'; r: number }
  | { kind: 'deliver'; frame: number; to: number } // may repeat: duplicates
  | { kind: 'sync'; a: number; b: number }

const replicaIx = fc.integer({ min: 0, max: 2 })
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('insert' as const), r: replicaIx, pos: fc.nat(60), s: fc.string({ minLength: 1, maxLength: 6 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), r: replicaIx, pos: fc.nat(60), len: fc.integer({ min: 1, max: 4 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('set' as const), r: replicaIx, key: fc.constantFrom('go', 'staging', 'bring'), value: fc.nat(99) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('flush' as const), r: replicaIx }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('compact' as const), r: replicaIx }) },
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('deliver' as const), frame: fc.nat(200), to: replicaIx }) },
)

function snapshotOf(doc: SecureDoc) {
  return { text: doc.plain.getText('notes').toString(), map: doc.plain.getMap('brief').toJSON() }
}

/** What every replica must end with: all updates ever written, applied to a plain Y.Doc. */
function reference(core: Core, sent: Uint8Array[]) {
  const doc = new Y.Doc()
  for (const bytes of sent) {
    const parsed = parseFrame(bytes, core.docId)
    if (!parsed.ok) throw new Error('a replica sent an invalid frame')
    if (parsed.frame.kind === FrameKind.update) Y.applyUpdate(doc, openFrame(parsed.frame, core.key))
  }
  return { text: doc.getText('notes').toString(), map: doc.getMap('brief').toJSON() }
}

// fast-check keeps arrays short by default; long runs are where gaps and races happen.
const ops = (arb: fc.Arbitrary<Op>) => fc.array(arb, { minLength: 10, maxLength: 80, size: 'max' })

function run(doc: SecureDoc, o: Op): void {
  const t = doc.plain.getText('notes')
  if (o.kind === 'insert') t.insert(Math.min(o.pos, t.length), o.s)
  else if (o.kind === 'delete' && t.length > 0) {
    const pos = Math.min(o.pos, t.length - 1)
    t.delete(pos, Math.min(o.len, t.length - pos))
  } else if (o.kind === 'set') doc.plain.getMap('brief').set(o.key, o.value)
  else if (o.kind === 'flush') doc.flush()
  else if (o.kind === 'compact') doc.compact()
}

describe('convergence', () => {
  it('frames in any order, with duplicates, drops and resends, give one plaintext', () => {
    fc.assert(
      fc.property(ops(op), fc.array(fc.nat(), { minLength: 3, maxLength: 3 }), (script, seeds) => {
        const core = makeCore(3)
        const replicas = core.members.map((m) => replica(core, m))
        const sent: Uint8Array[] = []
        replicas.forEach((r) => r.on('frame', (f, local) => local && sent.push(f.bytes)))
        for (const o of script) {
          if (o.kind === 'deliver') {
            if (sent.length > 0) replicas[o.to]!.receive(sent[o.frame % sent.length])
          } else if (o.kind !== 'sync') run(replicas[o.r]!, o)
        }
        for (const r of replicas) r.flush()
        // Everything that was dropped is resent, each replica in its own random order.
        replicas.forEach((r, i) => {
          const order = sent.map((_, k) => k)
          let s = seeds[i]! + 1
          for (let k = order.length - 1; k > 0; k--) {
            s = (s * 1103515245 + 12345) % 2 ** 31
            const j = s % (k + 1)
            ;[order[k], order[j]] = [order[j]!, order[k]!]
          }
          for (const k of order) r.receive(sent[k])
        })
        const [first, ...rest] = replicas.map(snapshotOf)
        for (const other of rest) expect(other).toEqual(first)
        // Converged, and nothing lost.
        const expected = reference(core, sent)
        expect(first).toEqual(expected)
        // Each snapshot on its own, plus every update, rebuilds everything on a new phone:
        // a snapshot must never claim frames it does not hold.
        const updates = sent.filter((b) => b[1] === FrameKind.update)
        for (const snapshot of sent.filter((b) => b[1] === FrameKind.snapshot)) {
          const fresh = replica(core, newIdentity())
          fresh.receive(snapshot)
          for (const u of updates) fresh.receive(u)
          expect(snapshotOf(fresh)).toEqual(expected)
        }
        for (const r of replicas) {
          expect(r.stats.forged + r.stats.malformed + r.stats['bad-payload'] + r.stats.undecryptable).toBe(0)
          expect(r.pendingCount).toBe(0)
        }
      }),
      { numRuns: 100 },
    )
  })

  it('replicas that only sync transport docs, pairwise in random order, converge', () => {
    const syncOp: fc.Arbitrary<Op> = fc.oneof(
      op.filter((o) => o.kind !== 'deliver'),
      fc.record({ kind: fc.constant('sync' as const), a: replicaIx, b: replicaIx }),
    )
    fc.assert(
      fc.property(ops(syncOp), (script) => {
        const core = makeCore(3)
        const replicas = core.members.map((m) => replica(core, m))
        for (const o of script) {
          if (o.kind === 'sync') {
            if (o.a !== o.b) syncTransports(replicas[o.a]!, replicas[o.b]!)
          } else if (o.kind !== 'deliver') run(replicas[o.r]!, o)
        }
        for (const r of replicas) r.flush()
        for (let round = 0; round < 2; round++) {
          syncTransports(replicas[0]!, replicas[1]!)
          syncTransports(replicas[1]!, replicas[2]!)
          syncTransports(replicas[2]!, replicas[0]!)
        }
        const [first, ...rest] = replicas.map(snapshotOf)
        for (const other of rest) expect(other).toEqual(first)
        // The transport docs themselves agree, so there is nothing left to exchange.
        const states = replicas.map((r) => Y.encodeStateVector(r.transport))
        expect(states[1]).toEqual(states[0])
        expect(states[2]).toEqual(states[0])
      }),
      { numRuns: 100 },
    )
  })
})
