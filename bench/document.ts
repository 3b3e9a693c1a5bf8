// Document cost: N edits through the encrypted frame log (one frame per edit, stored), versus the
// same edits on a plain Y.Doc (stored as its state): time and stored bytes, before and after a snapshot.
import * as Y from 'yjs'
import { newIdentity, publicPart, randomKey } from '../src/crypto'
import { SecureDoc, newDocId } from '../src/doc'
import type { DocStore } from '../src/store'
import type { Row } from './table'

/** A DocStore in memory, for the benchmarks. */
export class MemoryStore implements DocStore {
  readonly docs = new Map<string, Uint8Array[]>()
  async load(id: string) {
    return this.docs.get(id) ?? []
  }
  async append(id: string, u: Uint8Array) {
    this.docs.set(id, [...(this.docs.get(id) ?? []), u])
  }
  async replace(id: string, s: Uint8Array) {
    this.docs.set(id, [s])
  }
  bytes(id: string) {
    return (this.docs.get(id) ?? []).reduce((n, u) => n + u.length, 0)
  }
}

function edit(doc: Y.Doc, i: number): void {
  const t = doc.getText('notes')
  t.insert(Math.floor(t.length / 2), `edit ${i}; `)
  if (i % 3 === 0 && t.length > 10) t.delete(2, 5)
}

export async function documentRows(quick: boolean): Promise<Row[]> {
  const n = quick ? 1000 : 10_000
  const me = newIdentity()
  const store = new MemoryStore()
  const docId = newDocId()
  const doc = await SecureDoc.open({ docId, keys: new Map([[0, randomKey()]]), roster: { epoch: 0, writers: [publicPart(me)] }, identity: me, store, batchMs: 60_000 })
  let t = performance.now()
  for (let i = 0; i < n; i++) {
    edit(doc.plain, i)
    doc.flush()
  }
  await doc.whenSaved()
  const secureMs = performance.now() - t
  const stored = store.bytes(docId)
  t = performance.now()
  doc.compact()
  await doc.whenSaved()
  const compactMs = performance.now() - t
  const compacted = store.bytes(docId)

  const plain = new Y.Doc()
  const updates: Uint8Array[] = []
  plain.on('update', (u: Uint8Array) => updates.push(u))
  t = performance.now()
  for (let i = 0; i < n; i++) edit(plain, i)
  const plainMs = performance.now() - t
  const plainLog = updates.reduce((s, u) => s + u.length, 0)
  const plainState = Y.encodeStateAsUpdate(plain).length
  await doc.close()
  return [
    { figure: `${n} edits, one frame each (seal, sign, store)`, value: secureMs, unit: 'ms', baseline: plainMs, baselineName: 'plain Yjs, in memory' },
    { figure: `stored bytes after ${n} edits`, value: stored / 1024, unit: 'KiB', baseline: plainLog / 1024, baselineName: 'plain Yjs update log' },
    { figure: 'snapshot (compaction) time', value: compactMs, unit: 'ms' },
    { figure: 'stored bytes after the snapshot', value: compacted / 1024, unit: 'KiB', baseline: plainState / 1024, baselineName: 'plain Yjs state' },
  ]
}
