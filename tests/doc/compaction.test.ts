// A snapshot is the whole state, signed by a writer. It lets replicas drop the frames
// it covers: stored bytes shrink, and a new replica rebuilds the same state.
import { describe, expect, it, vi } from 'vitest'
import * as Y from 'yjs'
import { newIdentity, publicPart } from '../../src/crypto'
import { COMPACTION, FrameKind, keepCompact, SecureDoc } from '../../src/doc'
import { MemoryStore, makeCore, options, replica, syncTransports, text, type } from './fixtures'

function edit(doc: SecureDoc, n: number): void {
  for (let i = 0; i < n; i++) {
    const t = doc.plain.getText('notes')
    t.insert(Math.floor(t.length / 2), `edit ${i}; `)
    if (i % 3 === 0 && t.length > 10) t.delete(2, 5)
    doc.flush()
  }
}

describe('compaction', () => {
  it('after a snapshot the stored bytes shrink and a new replica rebuilds the same state', async () => {
    const core = makeCore(2)
    const store = new MemoryStore()
    const a = await SecureDoc.open(options(core, core.members[0]!, { store }))
    edit(a, 200)
    await a.whenSaved()
    const before = store.bytes(core.docId)
    const framesBefore = a.frames.size
    a.compact()
    await a.whenSaved()
    const after = store.bytes(core.docId)
    expect(after).toBeLessThan(before / 2)
    expect(a.frames.size).toBe(1) // the snapshot alone

    // A new phone that starts from the compacted transport doc alone.
    const fresh = replica(core, newIdentity())
    Y.applyUpdate(fresh.transport, Y.encodeStateAsUpdate(a.transport), 'peer')
    expect(text(fresh)).toBe(text(a))
    // Reopening from the store rebuilds it too.
    const reopened = await SecureDoc.open(options(core, core.members[0]!, { store }))
    expect(text(reopened)).toBe(text(a))
    expect(framesBefore).toBeGreaterThan(150)
  })

  it('edits made concurrently with a snapshot are not lost', () => {
    const core = makeCore(2)
    const [a, b] = core.members.map((m) => replica(core, m)) as [SecureDoc, SecureDoc]
    edit(a, 20)
    syncTransports(a, b)
    // b edits offline while a compacts.
    type(b, 0, 'B-OFFLINE ')
    b.flush()
    a.compact()
    syncTransports(a, b)
    expect(text(a)).toBe(text(b))
    expect(text(a)).toContain('B-OFFLINE')
    const fresh = replica(core, newIdentity())
    Y.applyUpdate(fresh.transport, Y.encodeStateAsUpdate(b.transport), 'peer')
    expect(text(fresh)).toBe(text(a))
  })

  it('a replica that sees the snapshot does not heal the frames it covers', () => {
    const core = makeCore(2)
    const [a, b] = core.members.map((m) => replica(core, m)) as [SecureDoc, SecureDoc]
    edit(a, 10)
    syncTransports(a, b)
    a.compact()
    syncTransports(a, b)
    expect(b.stats.healed).toBe(0)
    expect(b.frames.size).toBe(1)
    expect(text(b)).toBe(text(a))
  })

  it('a writer that crashed before storing a frame reuses its counter: a snapshot that saw the first frame does not swallow the second', () => {
    const core = makeCore(2)
    const [a, b] = core.members.map((m) => replica(core, m)) as [SecureDoc, SecureDoc]
    type(a, 0, 'kept ')
    const stored = a.flush()!
    syncTransports(a, b)
    // A sends one more frame, which B receives, and crashes before storing it.
    type(a, 1e9, 'SENT-THEN-CRASHED ')
    const lost = a.flush()!
    b.receive(lost.bytes)
    // After the restart A holds only what it had stored, and writes again: the same counter.
    const fresh = replica(core, core.members[0]!)
    fresh.receive(stored.bytes)
    type(fresh, 1e9, 'WRITTEN-AFTER-RESTART ')
    const again = fresh.flush()!
    expect(again.counter).toBe(lost.counter)
    // B folds what it holds (the first frame with that counter) into a snapshot, then gets the second.
    b.compact()
    b.receive(again.bytes)
    expect(text(b)).toContain('WRITTEN-AFTER-RESTART')
    expect(text(b)).toContain('SENT-THEN-CRASHED')
    // And a phone that starts from B's transport doc and A's frame has it too.
    const late = replica(core, newIdentity())
    Y.applyUpdate(late.transport, Y.encodeStateAsUpdate(b.transport), 'peer')
    late.receive(again.bytes)
    expect(text(late)).toContain('WRITTEN-AFTER-RESTART')
  })

  it('a snapshot a removal leaves out carries only its writer’s own edits: what the removed writer slipped into it is gone', async () => {
    const core = makeCore(3)
    const [A, B, X] = core.members
    const store = new MemoryStore()
    const a = replica(core, A!)
    const b = await SecureDoc.open(options(core, B!, { store }))
    const x = replica(core, X!)
    type(a, 0, 'meet at the fountain')
    a.flush()
    syncTransports(a, b)
    syncTransports(a, x)
    // X, about to be removed, sends an edit to B alone; B edits, then folds it all into a snapshot.
    type(x, 0, 'TRAP ')
    b.receive(x.flush()!.bytes)
    for (let i = 0; i < 8; i++) {
      type(b, 1e9, ` b${i}`)
      b.flush()
    }
    const snapshot = b.compact()
    // Z, another reader, took the snapshot in before the removal.
    const Z = newIdentity()
    const z = await SecureDoc.open(options(core, Z, { store: new MemoryStore() }))
    syncTransports(a, z)
    z.receive(snapshot.bytes)
    expect(text(z)).toContain('TRAP')
    // A, which saw neither, removes X.
    const closures: Uint8Array[] = []
    a.on('frame', (f) => void (f.kind === FrameKind.closure && closures.push(f.bytes)))
    a.closeEpoch({ removed: [X!.signingPublicKey], writers: [publicPart(A!), publicPart(B!)], stay: [publicPart(A!), publicPart(B!), publicPart(Z)] })
    const rewound: string[] = []
    b.on('rewind', () => rewound.push('b'))
    z.on('rewind', () => rewound.push('z'))
    expect(b.receive(closures[0]!)).toBe('accepted')
    expect(z.receive(closures[0]!)).toBe('accepted')
    await new Promise((r) => setTimeout(r, 10))
    // Both open the document again from their stores, where the closure is judged first.
    expect(rewound.sort()).toEqual(['b', 'z'])
    await b.whenSaved()
    // B opened again from its store, as the app does on 'rewind'; then it and A sync.
    const reopened = await SecureDoc.open(options(core, B!, { store, keys: new Map([[0, core.key], [1, b.keyOf(1)!]]) }))
    // (Twice: A puts back the frames B's snapshot had folded, once it sees them deleted.)
    syncTransports(a, reopened)
    syncTransports(a, reopened)
    for (const doc of [a, reopened]) {
      expect(text(doc)).not.toContain('TRAP')
      // B's own edits, which only the snapshot held, were carried into the new epoch.
      for (let i = 0; i < 8; i++) expect(text(doc)).toContain(` b${i}`)
      expect(text(doc)).toContain('meet at the fountain')
    }
  })

  it('a later snapshot covers the earlier one, and counters continue after a reload', async () => {
    const core = makeCore(1)
    const store = new MemoryStore()
    const a = await SecureDoc.open(options(core, core.members[0]!, { store }))
    edit(a, 5)
    a.compact()
    edit(a, 5)
    const second = a.compact()
    expect(a.frames.size).toBe(1)
    expect(a.frames.has(second.id)).toBe(true)
    await a.close()
    const again = await SecureDoc.open(options(core, core.members[0]!, { store }))
    type(again, 0, 'after reload ')
    const f = again.flush()!
    expect(f.counter).toBe(second.counter + 1)
  })

  it('a storage failure loses nothing: the next change saves everything', async () => {
    const core = makeCore(1)
    const store = new MemoryStore()
    const a = await SecureDoc.open(options(core, core.members[0]!, { store }))
    const errors: unknown[] = []
    a.on('store-error', (e) => errors.push(e))
    store.failing = true
    type(a, 0, 'saved later ')
    a.flush()
    await a.whenSaved()
    expect(errors).toHaveLength(1)
    expect(text(a)).toBe('saved later ')
    store.failing = false
    type(a, 0, 'and now ')
    a.flush()
    await a.whenSaved()
    const reopened = await SecureDoc.open(options(core, core.members[0]!, { store }))
    expect(text(reopened)).toBe('and now saved later ')
  })
})

describe('coverage claims only what the snapshot holds', () => {
  it('a replica missing a frame from the middle of an author\'s run does not claim it', () => {
    const core = makeCore(3)
    const [a, b, c] = core.members.map((m) => replica(core, m)) as [SecureDoc, SecureDoc, SecureDoc]
    const sent: Uint8Array[] = []
    a.on('frame', (f, local) => local && sent.push(f.bytes))
    for (const s of ['one ', 'two ', 'three ']) {
      type(a, 0, s)
      a.flush()
    }
    // c gets frames 0 and 2 but not 1, then compacts.
    c.receive(sent[0])
    c.receive(sent[2])
    const snapshot = c.compact()
    // Later everyone gets everything.
    for (const r of [b, c]) for (const bytes of sent) r.receive(bytes)
    b.receive(snapshot.bytes)
    a.receive(snapshot.bytes)
    expect(text(c)).toBe('three two one ')
    expect(text(b)).toBe(text(a))
    expect(text(c)).toBe(text(a))
  })

  it('a writer folds loose edits once they stop coming; never while a person types, never on a reader', async () => {
    vi.useFakeTimers()
    try {
      const core = makeCore(2)
      const [a, b] = core.members.map((m) => replica(core, m)) as [SecureDoc, SecureDoc]
      const reader = replica(core, newIdentity())
      const stops = [a, b, reader].map((d) => keepCompact(d))
      const wire = (): void => {
        syncTransports(a, b)
        syncTransports(a, reader)
        syncTransports(b, reader)
      }
      // A person types for a minute, an edit every 2 s: no snapshot meanwhile.
      for (let i = 0; i < 30; i++) {
        type(a, 1e9, `word ${i} `)
        a.flush()
        wire()
        await vi.advanceTimersByTimeAsync(2_000)
      }
      expect(a.looseFrames).toBe(30)
      // Then quiet: one of the writers folds everything into one snapshot.
      await vi.advanceTimersByTimeAsync(COMPACTION.quietMs + COMPACTION.jitterMs)
      wire()
      expect([a.looseFrames, b.looseFrames, reader.looseFrames]).toEqual([0, 0, 0])
      expect(a.frames.size).toBeLessThanOrEqual(2)
      expect(text(reader)).toBe(text(a))
      // A few edits stay loose: under the policy's threshold nothing is folded.
      for (let i = 0; i < COMPACTION.looseAt - 1; i++) {
        type(b, 1e9, `more ${i} `)
        b.flush()
      }
      wire()
      await vi.advanceTimersByTimeAsync(60_000)
      expect(a.looseFrames).toBe(COMPACTION.looseAt - 1)
      stops.forEach((stop) => stop())
    } finally {
      vi.useRealTimers()
    }
  })

  it('a reader that is sent many edits never writes a snapshot (it cannot)', async () => {
    vi.useFakeTimers()
    try {
      const core = makeCore(1)
      const a = replica(core, core.members[0]!)
      const reader = replica(core, newIdentity())
      const written: number[] = []
      reader.on('frame', (_f, local) => local && written.push(1))
      const stop = keepCompact(reader)
      for (let i = 0; i < 20; i++) {
        type(a, 1e9, `x${i}`)
        a.flush()
      }
      syncTransports(a, reader)
      await vi.advanceTimersByTimeAsync(60_000)
      expect(written).toEqual([])
      expect(reader.looseFrames).toBe(20)
      stop()
    } finally {
      vi.useRealTimers()
    }
  })
})
