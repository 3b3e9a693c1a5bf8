// A frame is applied only if it parses, belongs to this document, is signed, its
// author may write its epoch, and it opens. Everything else is refused or held,
// counted, and leaves the plaintext as it was.
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { newIdentity, publicPart, randomKey, utf8 } from '../../src/crypto'
import { DocError, FrameKind, MAX_PENDING_FRAMES, MAX_PENDING_PER_AUTHOR, SecureDoc, sealFrame, newDocId } from '../../src/doc'
import { makeCore, options, replica, text, type } from './fixtures'

function flip(bytes: Uint8Array, index: number): Uint8Array {
  const copy = bytes.slice()
  copy[index] ^= 0x01
  return copy
}

describe('local edits become frames', () => {
  it('a peer applies a frame and sees the same text', () => {
    const core = makeCore(2)
    const [a, b] = core.members.map((m) => replica(core, m))
    type(a!, 0, 'meet at the fountain')
    const frame = a!.flush()!
    expect(b!.receive(frame.bytes)).toBe('accepted')
    expect(text(b!)).toBe('meet at the fountain')
  })

  it('batches many keystrokes into one frame', () => {
    const core = makeCore(1)
    const a = replica(core, core.members[0]!)
    for (const ch of 'bring water and a scarf') type(a, text(a).length, ch)
    const frames: unknown[] = []
    a.on('frame', (f) => frames.push(f))
    a.flush()
    expect(frames).toHaveLength(1)
    expect(a.flush()).toBeUndefined()
  })

  it('flushes by itself after the batch delay', async () => {
    const core = makeCore(2)
    const a = replica(core, core.members[0]!, { batchMs: 5 })
    const b = replica(core, core.members[1]!)
    const sent = new Promise<Uint8Array>((resolve) => a.on('frame', (f) => resolve(f.bytes)))
    type(a, 0, 'go')
    expect(b.receive(await sent)).toBe('accepted')
    expect(text(b)).toBe('go')
  })

  it('duplicates are harmless', () => {
    const core = makeCore(2)
    const [a, b] = core.members.map((m) => replica(core, m))
    type(a!, 0, 'x')
    const f = a!.flush()!
    expect(b!.receive(f.bytes)).toBe('accepted')
    expect(b!.receive(f.bytes)).toBe('duplicate')
    expect(b!.receive(f.bytes.slice())).toBe('duplicate')
    expect(text(b!)).toBe('x')
  })

  it('counters increase per author', () => {
    const core = makeCore(1)
    const a = replica(core, core.members[0]!)
    const counters = [0, 1, 2].map((i) => {
      type(a, 0, String(i))
      return a.flush()!.counter
    })
    expect(counters).toEqual([0, 1, 2])
  })
})

describe('bad frames are refused, counted, and change nothing', () => {
  const setup = () => {
    const core = makeCore(2)
    const [a, b] = core.members.map((m) => replica(core, m)) as [SecureDoc, SecureDoc]
    type(a, 0, 'staging: north gate')
    b.receive(a.flush()!.bytes)
    type(a, 0, '!')
    return { core, a, b, next: a.flush()! }
  }

  it('a frame signed by a key outside the roster is held, never applied', () => {
    const { core, b } = setup()
    const outsider = newIdentity()
    const doc = new SecureDoc(options(core, outsider, { roster: { epoch: 0, writers: [publicPart(outsider)] } }))
    type(doc, 0, 'EVIL')
    const forged = doc.flush()!
    expect(b.receive(forged.bytes)).toBe('unauthorized')
    expect(text(b)).toBe('staging: north gate')
    expect(b.stats.unauthorized).toBe(1)
    expect(b.pendingCount).toBe(1)
  })

  it('every single-byte change anywhere in a frame is refused', () => {
    const { b, next } = setup()
    for (let i = 0; i < next.bytes.length; i++) {
      const verdict = b.receive(flip(next.bytes, i))
      expect(['malformed', 'forged']).toContain(verdict)
    }
    expect(text(b)).toBe('staging: north gate')
    expect(b.stats.accepted).toBe(1)
  })

  it('a frame does not carry its document id, and replayed into another document is refused', () => {
    const { core, next } = setup()
    expect(Buffer.from(next.bytes).includes(Buffer.from(core.docId, 'base64url'))).toBe(false)
    const other = new SecureDoc({ ...options(core, core.members[1]!), docId: newDocId() })
    // The document id is bound by the signature, so another document's frame is a forgery here.
    expect(other.receive(next.bytes)).toBe('forged')
    expect(text(other)).toBe('')
  })

  it('a frame moved to another epoch is refused (signature and AEAD bind the epoch)', () => {
    const { next, b } = setup()
    const moved = next.bytes.slice()
    moved[5] = 1 // epoch 0 -> 1 in the header
    expect(b.receive(moved)).toBe('forged')
  })

  it('a frame of an epoch we hold no key for waits, then applies when the key arrives', () => {
    const { core, a, b, next } = setup()
    b.receive(next.bytes)
    const before = text(b)
    const frames: { epoch: number; bytes: Uint8Array }[] = []
    a.on('frame', (f) => frames.push(f))
    let key1 = randomKey()
    a.on('keys', () => (key1 = a.keyOf(1) ?? key1))
    // a ends epoch 0 sealing the next key to itself only: b reads the closure, not what follows.
    const me = publicPart(core.members[0]!)
    a.closeEpoch({ removed: [], writers: [me], stay: [me] })
    type(a, 0, 'epoch1 ')
    a.flush()
    expect(frames.map((f) => f.epoch)).toEqual([0, 1])
    expect(b.receive(frames[0]!.bytes)).toBe('accepted')
    expect(b.receive(frames[1]!.bytes)).toBe('unknown-epoch')
    expect(text(b)).toBe(before)
    b.addKey(1, key1)
    expect(b.pendingCount).toBe(0)
    expect(text(b)).toContain('epoch1 ')
  })

  it('garbage of every shape is malformed', () => {
    const { b } = setup()
    for (const junk of [undefined, null, 42, 'frame', {}, [1, 2], new Uint8Array(0), new Uint8Array(300), utf8('x'.repeat(500))]) {
      expect(b.receive(junk)).toBe('malformed')
    }
    expect(b.receive(new Uint8Array(9 * 1024 * 1024))).toBe('malformed')
    expect(text(b)).toBe('staging: north gate')
  })

  it('a writer-signed frame that does not open under the document key is undecryptable', () => {
    const { core, b } = setup()
    const f = sealFrame({ kind: FrameKind.update, docId: core.docId, epoch: 0, counter: 7 }, utf8('x'), randomKey(), core.members[0]!)
    expect(b.receive(f.bytes)).toBe('undecryptable')
  })

  it('a writer-signed frame whose content is not a Yjs update is bad-payload', () => {
    const { core, b } = setup()
    const f = sealFrame({ kind: FrameKind.update, docId: core.docId, epoch: 0, counter: 8 }, utf8('not yjs at all'), core.key, core.members[0]!)
    expect(b.receive(f.bytes)).toBe('bad-payload')
    const r = sealFrame({ kind: FrameKind.roster, docId: core.docId, epoch: 0, counter: 9 }, utf8('short'), core.key, core.members[0]!)
    expect(b.receive(r.bytes)).toBe('bad-payload')
    expect(text(b)).toBe('staging: north gate')
  })

  it('a flood of validly signed outsider frames cannot grow memory past the bounds', () => {
    const core = makeCore(1)
    const b = replica(core, core.members[0]!)
    const one = newIdentity()
    for (let i = 0; i < MAX_PENDING_PER_AUTHOR + 50; i++) {
      b.receive(sealFrame({ kind: FrameKind.update, docId: core.docId, epoch: 0, counter: i }, utf8('x'), core.key, one).bytes)
    }
    expect(b.pendingCount).toBe(MAX_PENDING_PER_AUTHOR)
    // Many keys: the total bound holds too.
    const keys = Array.from({ length: 20 }, () => newIdentity())
    for (let i = 0; i < MAX_PENDING_PER_AUTHOR; i++) {
      for (const k of keys) b.receive(sealFrame({ kind: FrameKind.update, docId: core.docId, epoch: 0, counter: i }, utf8('x'), core.key, k).bytes)
    }
    expect(b.pendingCount).toBe(MAX_PENDING_FRAMES)
    expect(b.stats['pending-dropped']).toBe(50 + 21 * MAX_PENDING_PER_AUTHOR - MAX_PENDING_FRAMES)
  })

  it('a real writer\'s frames held past the bounds are applied once its roster entry arrives', () => {
    const core = makeCore(1)
    const a = replica(core, core.members[0]!)
    const b = replica(core, newIdentity())
    const newcomer = newIdentity()
    // The newcomer writes more frames than b will hold before b learns it is a writer.
    const n = replica(core, newcomer, { roster: { epoch: 0, writers: [publicPart(newcomer)] } })
    for (let i = 0; i < MAX_PENDING_PER_AUTHOR + 40; i++) {
      type(n, text(n).length, `${i} `)
      n.flush()
    }
    Y.applyUpdate(b.transport, Y.encodeStateAsUpdate(n.transport), 'peer')
    expect(b.pendingCount).toBe(MAX_PENDING_PER_AUTHOR)
    expect(b.stats['pending-dropped']).toBe(40)
    b.receive(a.addWriter(publicPart(newcomer)).bytes)
    expect(text(b)).toBe(text(n))
  })

  it('a writer\'s compaction removes a flood of signed frames from other keys from the transport doc', () => {
    const core = makeCore(1)
    const a = replica(core, core.members[0]!)
    type(a, 0, 'the plan')
    a.flush()
    const evil = new Y.Doc()
    Y.applyUpdate(evil, Y.encodeStateAsUpdate(a.transport))
    const map = evil.getMap<Uint8Array>('frames')
    evil.transact(() => {
      for (let k = 0; k < 5; k++) {
        const key = newIdentity()
        for (let i = 0; i < 100; i++) {
          const f = sealFrame({ kind: FrameKind.update, docId: core.docId, epoch: 0, counter: i }, utf8('x'), core.key, key)
          map.set(f.id, f.bytes)
        }
      }
    })
    Y.applyUpdate(a.transport, Y.encodeStateAsUpdate(evil, Y.encodeStateVector(a.transport)), 'peer')
    expect(a.frames.size).toBe(501)
    a.compact()
    expect(a.frames.size).toBe(1)
    expect(text(a)).toBe('the plan')
    expect(a.pendingCount).toBe(0)
  })
})

describe('the roster', () => {
  it('a device outside the roster cannot write: flush refuses with a clear error', () => {
    const core = makeCore(1)
    const reader = replica(core, newIdentity())
    expect(reader.canWrite).toBe(false)
    type(reader, 0, 'sneaky')
    expect(() => reader.flush()).toThrow(DocError)
    expect(() => reader.addWriter(publicPart(newIdentity()))).toThrow(/may read this document but not change it/)
  })

  it('a writer adds a member; frames that arrived before the entry are applied once it arrives', () => {
    const core = makeCore(1)
    const founder = core.members[0]!
    const newcomer = newIdentity()
    const a = replica(core, founder)
    const c = replica(core, newIdentity()) // a reader who trusts the founder
    const entry = a.addWriter(publicPart(newcomer))
    // The newcomer's replica learns the roster from the founder's frames.
    const n = replica(core, newcomer)
    expect(n.receive(entry.bytes)).toBe('accepted')
    expect(n.canWrite).toBe(true)
    type(n, 0, 'hello from the newcomer')
    const update = n.flush()!
    expect(c.receive(update.bytes)).toBe('unauthorized')
    expect(text(c)).toBe('')
    expect(c.receive(entry.bytes)).toBe('accepted')
    expect(text(c)).toBe('hello from the newcomer')
    expect(c.pendingCount).toBe(0)
  })

  it('a non-writer cannot add writers, even by crafting a roster frame', () => {
    const core = makeCore(1)
    const a = replica(core, core.members[0]!)
    const intruder = newIdentity()
    const entry = sealFrame(
      { kind: FrameKind.roster, docId: core.docId, epoch: 0, counter: 0 },
      new Uint8Array([1, ...publicPart(intruder).signingPublicKey, ...publicPart(intruder).boxPublicKey]),
      core.key,
      intruder,
    )
    expect(a.receive(entry.bytes)).toBe('unauthorized')
    expect(a.writers().map((w) => w.signingPublicKey)).toHaveLength(1)
  })
})

describe('plaintext stays in memory', () => {
  it('neither frames nor the transport doc contain the plaintext', () => {
    const core = makeCore(1)
    const a = replica(core, core.members[0]!)
    type(a, 0, 'MARKER-the-old-bridge')
    a.flush()
    const wire = Buffer.from(Y.encodeStateAsUpdate(a.transport))
    expect(wire.includes(Buffer.from('MARKER'))).toBe(false)
    expect(Buffer.from(Y.encodeStateAsUpdate(a.plain)).includes(Buffer.from('MARKER'))).toBe(true)
  })
})
