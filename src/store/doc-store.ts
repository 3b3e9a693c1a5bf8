import type { DocId } from '../crypto'

/** Where a document's ciphertext rests between sessions. The vault implements it; tests may use memory. */
export interface DocStore {
  /** Stored transport-doc updates, oldest first. */
  load(docId: DocId): Promise<Uint8Array[]>
  append(docId: DocId, update: Uint8Array): Promise<void>
  /** Replaces everything stored for the document with one update (after compaction). */
  replace(docId: DocId, state: Uint8Array): Promise<void>
}
