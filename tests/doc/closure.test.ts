// Epoch closures, attacked at the frame level. The attacker is a writer being removed:
// it still holds the old key and its signing key, so it can seal and sign anything a
// modified client can: late frames, counter-closures, forks of older epochs, roster
// entries, two closures at once. Real libsodium, real Yjs, real SecureDocs.
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import * as Y from 'yjs'
import { newIdentity, publicPart, toBase64Url, type DeviceIdentity, type FrameId, type SecretKey } from '../../src/crypto'
import { FrameKind, SecureDoc, openFrame, parseFrame, sealFrame, settleEpoch, type Claim } from '../../src/doc'
import { makeClosure } from '../../src/doc/closure'
import { encodeRosterEntry } from '../../src/doc/payload'
import { MemoryStore, makeCore, options, replica, syncTransports, text, type } from './fixtures'

const id = (s: string) => s as FrameId

describe('settling an epoch (the rule every phone applies)', () => {
  const claim = (cid: string, author: string, removed: string[], seen: string[] = []): Claim => ({ id: id(cid), author, removed: new Set(removed), seen: new Set(seen.map(id)) })

  it('two core phones removing different members at once: both removals count, the smaller id ends the epoch', () => {
    const s = settleEpoch([claim('b', 'B', ['Y']), claim('a', 'A', ['X'])])
    expect(s.winner).toBe('a')
    expect([...s.removed].sort()).toEqual(['X', 'Y'])
  })

  it('a writer answering its removal with one of its own takes its remover out, never stays in', () => {
    const s = settleEpoch([claim('a', 'A', ['X']), claim('0', 'X', ['A'])])
    expect(s.winner).toBeUndefined()
    expect([...s.removed].sort()).toEqual(['A', 'X'])
  })

  it('a counter-closure that admits having seen its removal is void', () => {
    const s = settleEpoch([claim('a', 'A', ['X']), claim('0', 'X', ['A'], ['a'])])
    expect(s.winner).toBe('a')
    expect([...s.removed]).toEqual(['X'])
  })

  it('a removed writer’s closure that removes third parties too costs only its remover; a closure written after both ends the epoch', () => {
    const conflict = [claim('a', 'A', ['X']), claim('0', 'X', ['A', 'B', 'C'])]
    expect([...settleEpoch(conflict).removed].sort()).toEqual(['A', 'X'])
    const s = settleEpoch([...conflict, claim('b', 'B', ['A', 'X'], ['a', '0'])])
    expect(s.winner).toBe('b')
    expect([...s.removed].sort()).toEqual(['A', 'X'])
  })

  it('a writer with two closures in one epoch has equivocated: both are void and it is out', () => {
    const s = settleEpoch([claim('0', 'X', []), claim('1', 'X', ['A']), claim('a', 'A', [])])
    expect(s.winner).toBe('a')
    expect([...s.removed]).toEqual(['X'])
  })

  it('the outcome does not depend on the order closures arrive in', () => {
    const authors = ['A', 'B', 'C', 'X']
    const arb = fc.array(
      fc.record({ author: fc.constantFrom(...authors), removed: fc.subarray(authors), seenMask: fc.nat(15) }),
      { minLength: 1, maxLength: 5 },
    )
    fc.assert(
      fc.property(arb, fc.nat(), (specs, seed) => {
        const claims = specs.map((c, i) => claim(`c${i}`, c.author, c.removed, specs.map((_, j) => (j < i && (c.seenMask >> j) & 1 ? `c${j}` : '')).filter(Boolean)))
        const shuffled = [...claims].sort((p, q) => ((p.id.charCodeAt(1) * 31 + seed) % 7) - ((q.id.charCodeAt(1) * 31 + seed) % 7))
        const one = settleEpoch(claims)
        const two = settleEpoch(shuffled)
        expect(two.winner).toBe(one.winner)
        expect([...two.removed].sort()).toEqual([...one.removed].sort())
        // Whoever wins was not removed.
        if (one.winner) expect(one.removed.has(claims.find((c) => c.id === one.winner)!.author)).toBe(false)
      }),
      { numRuns: 300 },
    )
  })
})

/** Core of three (A, B, X); A removes X. Returns the replicas and what X still holds. */
function removal() {
  const core = makeCore(3)
  const [A, B, X] = core.members as [DeviceIdentity, DeviceIdentity, DeviceIdentity]
  const a = replica(core, A)
  const b = replica(core, B)
  const x = replica(core, X)
  type(a, 0, 'meet at the fountain')
  a.flush()
  syncTransports(a, b)
  syncTransports(a, x)
  const closureFrames: Uint8Array[] = []
  a.on('frame', (f) => f.kind === FrameKind.closure && closureFrames.push(f.bytes))
  a.closeEpoch({ removed: [X.signingPublicKey], writers: [publicPart(A), publicPart(B)], stay: [publicPart(A), publicPart(B)] })
  return { core, A, B, X, a, b, x, closure: closureFrames[0]! }
}

function forged(doc: SecureDoc, key: SecretKey, by: DeviceIdentity, epoch: number, counter: number, kind: FrameKind, payload: Uint8Array): Uint8Array {
  return sealFrame({ kind, docId: doc.docId, epoch, counter }, payload, key, by).bytes
}

function edit(doc: SecureDoc, change: (d: Y.Doc) => void): Uint8Array {
  const copy = new Y.Doc()
  Y.applyUpdate(copy, Y.encodeStateAsUpdate(doc.plain))
  const before = Y.encodeStateVector(copy)
  change(copy)
  return Y.encodeStateAsUpdate(copy, before)
}

describe('a closed epoch, attacked by the writer it removed', () => {
  it('every new frame of the closed epoch is refused, whatever its counter; the next epoch is out of reach', () => {
    const { core, X, a, b, x } = removal()
    syncTransports(a, b)
    expect(b.epoch).toBe(1)
    for (const counter of [0, 1, 5, 2 ** 31]) {
      const late = forged(x, core.key, X, 0, counter, FrameKind.update, edit(x, (d) => d.getText('notes').insert(0, 'TRAP ')))
      expect(a.receive(late)).toBe('closed')
      expect(b.receive(late)).toBe('closed')
    }
    // A roster entry in the old epoch, naming an accomplice: refused the same way.
    const accomplice = forged(x, core.key, X, 0, 9, FrameKind.roster, encodeRosterEntry(publicPart(X)))
    expect(b.receive(accomplice)).toBe('closed')
    expect(text(a)).toBe('meet at the fountain')
    expect(b.canWrite).toBe(true)
    expect(b.writers(1).map((w) => toBase64Url(w.signingPublicKey))).not.toContain(toBase64Url(X.signingPublicKey))
    // X holds no key for epoch 1: nothing of it opens for X.
    syncTransports(a, x)
    expect(x.hasKey(1)).toBe(false)
    expect(x.removedHere).toBe(true)
  })

  it('a counter-closure that admits having seen its removal changes nothing', () => {
    const { core, A, X, a, b, x, closure } = removal()
    syncTransports(a, x)
    // The attacker's closure names A's as seen, and removes A.
    const mine = makeClosure(core.key, { prev: undefined, seen: [a.settlement(0)!.winner!], allow: [], removed: [A.signingPublicKey], writers: [publicPart(X)], stay: [publicPart(X)] })
    const counter = forged(x, core.key, X, 0, 7, FrameKind.closure, mine.payload)
    expect(b.receive(closure)).toBe('accepted')
    expect(b.receive(counter)).toBe('accepted')
    expect(b.settlement(0)!.winner).toBe(a.settlement(0)!.winner)
    expect(b.canWrite).toBe(true)
    expect(b.writers(1).map((w) => toBase64Url(w.signingPublicKey))).not.toContain(toBase64Url(X.signingPublicKey))
  })

  it('a counter-closure claiming not to have seen it takes both out; X never writes or reads the next epoch', () => {
    const { core, A, B, X, b, x, closure } = removal()
    const mine = makeClosure(core.key, { prev: undefined, seen: [], allow: [], removed: [A.signingPublicKey, B.signingPublicKey], writers: [publicPart(X)], stay: [publicPart(X), publicPart(B)] })
    const real = forged(x, core.key, X, 0, 3, FrameKind.closure, mine.payload)
    expect(b.receive(closure)).toBe('accepted')
    expect(b.receive(real)).toBe('accepted')
    const s = b.settlement(0)!
    expect(s.winner).toBeUndefined()
    expect([...s.removed].sort()).toEqual([toBase64Url(A.signingPublicKey), toBase64Url(X.signingPublicKey)].sort())
    // B, who stays, ends the epoch again: its closure saw both and stands.
    b.closeEpoch({ removed: [A.signingPublicKey, X.signingPublicKey], writers: [publicPart(B)], stay: [publicPart(B)] })
    expect(b.settlement(0)!.winner).toBeDefined()
    expect(b.canWrite).toBe(true)
    expect(b.writers(1).map((w) => toBase64Url(w.signingPublicKey))).toEqual([toBase64Url(B.signingPublicKey)])
    // X's key for its own made-up epoch 1 is not B's.
    expect(toBase64Url(b.keyOf(1)!)).not.toBe(toBase64Url(mine.key))
  })

  it('a made-up history of an epoch the phone has gone past moves nothing (a late fork by the removed writer)', () => {
    const { core, A, B, X, a, b, x, closure } = removal()
    b.receive(closure)
    // The core goes on: epoch 1 is closed too (B leaves, say), so epoch 0 is settled history.
    type(a, 0, 'later: ')
    a.flush()
    a.closeEpoch({ removed: [B.signingPublicKey], writers: [publicPart(A)], stay: [publicPart(A), publicPart(B)] })
    syncTransports(a, b)
    const keyBefore = toBase64Url(b.keyOf(1)!)
    // Its fork removes A, concurrently with A's removal of it: settled afresh, that would leave no winner.
    const fork = makeClosure(core.key, { prev: undefined, seen: [], allow: [], removed: [A.signingPublicKey], writers: [publicPart(X)], stay: [publicPart(X), publicPart(B)] })
    expect(b.receive(forged(x, core.key, X, 0, 11, FrameKind.closure, fork.payload))).toBe('accepted')
    expect(toBase64Url(b.keyOf(1)!)).toBe(keyBefore)
    expect(b.settlement(0)!.winner).toBe(a.settlement(0)!.winner)
    expect(text(b)).toContain('meet at the fountain')
  })

  it('closure, roster and frames replayed into another document are forgeries there', () => {
    const { closure } = removal()
    const other = replica(makeCore(1), makeCore(1).members[0]!)
    expect(other.receive(closure)).toBe('forged')
  })
})

describe('a phone that saw the removed writer’s frame before the closure', () => {
  it('asks to be opened again, and opened from its store it shows only what the closure allows', async () => {
    const core = makeCore(3)
    const [A, , X] = core.members as [DeviceIdentity, DeviceIdentity, DeviceIdentity]
    const store = new MemoryStore()
    const a = replica(core, A)
    type(a, 0, 'meet at the fountain')
    a.flush()
    const b = await SecureDoc.open(options(core, core.members[1]!, { store }))
    syncTransports(a, b)
    const closureFrames: Uint8Array[] = []
    a.on('frame', (f) => f.kind === FrameKind.closure && closureFrames.push(f.bytes))
    a.closeEpoch({ removed: [X.signingPublicKey], writers: [publicPart(A), publicPart(core.members[1]!)], stay: [publicPart(A), publicPart(core.members[1]!)] })
    // B was away; X reaches it first, alone, with a frame written after its removal.
    const x = replica(core, X)
    syncTransports(b, x)
    const late = forged(x, core.key, X, 0, 42, FrameKind.update, edit(b, (d) => d.getText('notes').insert(0, 'TRAP ')))
    expect(b.receive(late)).toBe('accepted')
    expect(text(b)).toContain('TRAP')
    let rewound = false
    b.on('rewind', () => (rewound = true))
    expect(b.receive(closureFrames[0]!)).toBe('accepted')
    await new Promise((r) => setTimeout(r, 0))
    expect(rewound).toBe(true)
    await b.close()
    const again = await SecureDoc.open(options(core, core.members[1]!, { store, keys: new Map([[0, core.key]]) }))
    expect(text(again)).toBe('meet at the fountain')
    expect(again.epoch).toBe(1)
    expect(again.receive(late)).toBe('closed')
  })
})

describe('a malformed closure', () => {
  it('from a writer is bad payload, changes nothing; every cut or overlong payload is refused by the reader', () => {
    const core = makeCore(2)
    const [A, B] = core.members as [DeviceIdentity, DeviceIdentity]
    const b = replica(core, B)
    const good = makeClosure(core.key, { prev: undefined, seen: [], allow: [], removed: [], writers: [publicPart(A)], stay: [publicPart(A), publicPart(B)] }).payload
    for (const cut of [0, 1, 33, 65, 69, good.length - 1]) {
      expect(b.receive(sealFrame({ kind: FrameKind.closure, docId: core.docId, epoch: 0, counter: cut }, good.subarray(0, cut), core.key, A).bytes)).toBe('bad-payload')
    }
    const overlong = new Uint8Array(good.length + 1)
    overlong.set(good)
    expect(b.receive(sealFrame({ kind: FrameKind.closure, docId: core.docId, epoch: 0, counter: 99 }, overlong, core.key, A).bytes)).toBe('bad-payload')
    // A count that claims more items than there are bytes is refused before anything is allocated.
    const huge = good.slice()
    huge.set([0xff, 0xff, 0xff, 0xff], 65)
    expect(b.receive(sealFrame({ kind: FrameKind.closure, docId: core.docId, epoch: 0, counter: 100 }, huge, core.key, A).bytes)).toBe('bad-payload')
    expect(b.settlement(0)).toBeUndefined()
    expect(b.epoch).toBe(0)
  })
})

// Found by a review that attacked the first version of closures; each case failed then.
describe('closures, attacked again', () => {
  /** B was away during the removal; X reaches it before A does. */
  function awayPhone() {
    const { core, A, B, X, a, x, closure } = removal()
    const b = replica(core, B)
    Y.applyUpdate(b.transport, Y.encodeStateAsUpdate(x.transport)) // what B held before it went away
    return { core, A, B, X, a, b, x, closure }
  }

  it('a late frame shown on a phone that was away never rides along into the next epoch (no whole-state republish)', async () => {
    const { core, X, a, b, closure } = awayPhone()
    const late = forged(b, core.key, X, 0, 42, FrameKind.update, edit(b, (d) => d.getText('notes').insert(0, 'TRAP ')))
    expect(b.receive(late)).toBe('accepted')
    let rewound = false
    b.on('rewind', () => (rewound = true))
    expect(b.receive(closure)).toBe('accepted')
    await new Promise((r) => setTimeout(r, 0))
    expect(rewound).toBe(true)
    // B writes on in epoch 1: only its own edit leaves the phone.
    type(b, text(b).length, ' (B was here)')
    b.flush()
    syncTransports(a, b)
    expect(text(a)).toContain('(B was here)')
    expect(text(a)).not.toContain('TRAP')
  })

  it('after a late counter-closure (a conflict) nobody writes into the old epoch, whose key the removed writer holds', () => {
    const { core, A, X, a, b, x, closure } = removal()
    b.receive(closure)
    type(b, 0, 'SECRET-AFTER-REMOVAL ')
    b.flush()
    syncTransports(a, b)
    const counter = makeClosure(core.key, { prev: undefined, seen: [], allow: [], removed: [A.signingPublicKey], writers: [publicPart(X)], stay: [publicPart(X)] })
    expect(b.receive(forged(x, core.key, X, 0, 3, FrameKind.closure, counter.payload))).toBe('accepted')
    expect(b.settlement(0)!.winner).toBeUndefined()
    expect(b.canWrite).toBe(false)
    type(b, 0, 'MORE ')
    expect(() => b.flush()).not.toThrow()
    // Nothing in b's log opens under the old key but what X could read before its removal.
    for (const bytes of b.frames.values()) {
      const parsed = parseFrame(bytes, b.docId)
      if (!parsed.ok || parsed.frame.epoch !== 0 || parsed.frame.kind !== FrameKind.update) continue
      expect(new TextDecoder().decode(openFrame(parsed.frame, core.key))).not.toMatch(/SECRET|MORE/)
    }
  })

  it('a closure that reaches a phone first, then loses, leaves nothing it brought on screen after the reopen; the key a welcome gave survives a forged closure', async () => {
    const { core, X, a, b, closure } = awayPhone()
    const fork = makeClosure(core.key, { prev: undefined, seen: [], allow: [...b.frames.keys()] as FrameId[], removed: [], writers: [publicPart(X), publicPart(core.members[1]!)], stay: [publicPart(X), publicPart(core.members[1]!)] })
    expect(b.receive(forged(b, core.key, X, 0, 50, FrameKind.closure, fork.payload))).toBe('accepted')
    expect(b.epoch).toBe(1)
    expect(b.receive(forged(b, fork.key, X, 1, 51, FrameKind.update, edit(b, (d) => d.getText('notes').insert(0, 'FAKE '))))).toBe('accepted')
    let rewound = false
    b.on('rewind', () => (rewound = true))
    b.receive(closure)
    await new Promise((r) => setTimeout(r, 0))
    expect(b.settlement(0)!.winner).toBe(a.settlement(0)!.winner)
    expect(rewound).toBe(true)
    // A late joiner given keys 0 and 1 in its welcome keeps key 1 whatever arrives first.
    const joiner = replica(core, newIdentity(), { keys: new Map([[0, core.key], [1, a.keyOf(1)!]]) })
    joiner.receive(forged(joiner, core.key, X, 0, 50, FrameKind.closure, fork.payload))
    syncTransports(a, joiner)
    expect(joiner.keyEpochs()).toEqual([0, 1])
    expect(joiner.removedHere).toBe(false)
  })

  it('a stand-in named by the removed writer after its removal cannot close the epoch for it', () => {
    const { core, A, B, X, a, closure } = removal()
    const standIn = newIdentity()
    // Before the closure reaches B, X names a stand-in; the stand-in's closure removes A and B.
    const b2 = replica(core, B)
    expect(b2.receive(forged(b2, core.key, X, 0, 77, FrameKind.roster, encodeRosterEntry(publicPart(standIn))))).toBe('accepted')
    expect(b2.receive(closure)).toBe('accepted')
    const theirs = makeClosure(core.key, { prev: undefined, seen: [], allow: [...b2.frames.keys()] as FrameId[], removed: [A.signingPublicKey, B.signingPublicKey], writers: [publicPart(standIn)], stay: [publicPart(standIn)] })
    b2.receive(forged(b2, core.key, standIn, 0, 0, FrameKind.closure, theirs.payload))
    expect(b2.settlement(0)!.winner).toBe(a.settlement(0)!.winner)
    expect(b2.writers(0).map((w) => toBase64Url(w.signingPublicKey))).not.toContain(toBase64Url(standIn.signingPublicKey))
    expect(b2.canWrite).toBe(true)
  })

  it('a third closure by one author is refused unread: two already prove equivocation', () => {
    const { core, X, b, x } = removal()
    const make = () => makeClosure(core.key, { prev: undefined, seen: [], allow: [], removed: [], writers: [publicPart(X)], stay: [publicPart(X)] }).payload
    expect(b.receive(forged(x, core.key, X, 0, 1, FrameKind.closure, make()))).toBe('accepted')
    expect(b.receive(forged(x, core.key, X, 0, 2, FrameKind.closure, make()))).toBe('accepted')
    expect(b.receive(forged(x, core.key, X, 0, 3, FrameKind.closure, make()))).toBe('closed')
  })
})
