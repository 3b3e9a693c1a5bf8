// Removal cost: ending an epoch of a brief that holds N frames and reaches P members (the
// closure seals the next key to each of them), what the closure weighs, how long a member
// takes to settle it, and how long reopening the document from its store takes after R
// removals (the store replays as one batch, closures first), against the same log never rotated.
import { newIdentity, publicPart, randomKey, type DeviceIdentity } from '../src/crypto'
import { FrameKind, SecureDoc, newDocId, type SignedFrame } from '../src/doc'
import { MemoryStore } from './document'
import type { Row } from './table'

async function reopenMs(options: { docId: ReturnType<typeof newDocId>; key: Uint8Array; me: DeviceIdentity; store: MemoryStore }): Promise<number> {
  const t = performance.now()
  const doc = await SecureDoc.open({ docId: options.docId, keys: new Map([[0, options.key as never]]), roster: { epoch: 0, writers: [publicPart(options.me)] }, identity: options.me, store: options.store, batchMs: 60_000 })
  const ms = performance.now() - t
  await doc.close()
  return ms
}

export async function removalRows(quick: boolean): Promise<Row[]> {
  const frames = quick ? 1000 : 5000
  const members = quick ? 100 : 1000
  const removals = quick ? 5 : 20
  const me = newIdentity()
  const others = Array.from({ length: members }, () => publicPart(newIdentity()))
  const key = randomKey()
  const build = async (rotate: boolean) => {
    const store = new MemoryStore()
    const docId = newDocId()
    const doc = await SecureDoc.open({ docId, keys: new Map([[0, key]]), roster: { epoch: 0, writers: [publicPart(me)] }, identity: me, store, batchMs: 60_000 })
    const closures: SignedFrame[] = []
    doc.on('frame', (f) => f.kind === FrameKind.closure && closures.push(f))
    let closeMs = 0
    let left = [...others]
    for (let i = 0; i < frames; i++) {
      doc.plain.getMap('brief').set('conduct', `version ${i}`)
      doc.flush()
      if (rotate && (i + 1) % Math.floor(frames / removals) === 0) {
        left = left.slice(1)
        const t = performance.now()
        doc.closeEpoch({ removed: [], writers: [publicPart(me)], stay: [publicPart(me), ...left] })
        closeMs += performance.now() - t
      }
    }
    await doc.whenSaved()
    await doc.close()
    return { store, docId, closures, closeMs }
  }
  const plain = await build(false)
  const rotated = await build(true)
  // A member who stays settles the first closure (opens its key box, judges the epoch).
  const member = newIdentity()
  const reader = await SecureDoc.open({ docId: rotated.docId, keys: new Map([[0, key]]), roster: { epoch: 0, writers: [publicPart(me)] }, identity: member })
  const first = rotated.closures[0]!
  const t = performance.now()
  reader.receive(first.bytes)
  const settleMs = performance.now() - t
  await reader.close()
  const perClosure = rotated.closures.reduce((n, c) => n + c.bytes.length, 0) / rotated.closures.length
  return [
    { figure: `end an epoch: seal the next key to ${members} members (mean of ${removals})`, value: rotated.closeMs / removals, unit: 'ms' },
    { figure: `closure size (~${Math.floor(frames / removals)} frames named, ${members} keys sealed)`, value: perClosure / 1024, unit: 'KiB' },
    { figure: 'a member settles a closure it receives', value: settleMs, unit: 'ms' },
    {
      figure: `reopen from store: ${frames} frames, ${removals} removals`,
      value: await reopenMs({ docId: rotated.docId, key, me, store: rotated.store }),
      unit: 'ms',
      baseline: await reopenMs({ docId: plain.docId, key, me, store: plain.store }),
      baselineName: 'same frames, never rotated',
    },
  ]
}
