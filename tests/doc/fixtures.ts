// Builds documents the way the model will: a core of writers sharing one key.
import * as Y from 'yjs'
import { newIdentity, publicPart, randomKey, type DeviceIdentity, type SecretKey } from '../../src/crypto'
import { SecureDoc, newDocId, type SecureDocOptions } from '../../src/doc'
import type { DocStore } from '../../src/store'

export interface Core {
  readonly docId: ReturnType<typeof newDocId>
  readonly key: SecretKey
  readonly members: DeviceIdentity[]
}

export function makeCore(size: number): Core {
  return { docId: newDocId(), key: randomKey(), members: Array.from({ length: size }, () => newIdentity()) }
}

/** A replica of the core's document on `identity`'s phone. Every member is a writer from the start. */
export function replica(core: Core, identity: DeviceIdentity, extra: Partial<SecureDocOptions> = {}): SecureDoc {
  return new SecureDoc(options(core, identity, extra))
}

export function options(core: Core, identity: DeviceIdentity, extra: Partial<SecureDocOptions> = {}): SecureDocOptions {
  return {
    docId: core.docId,
    keys: new Map([[0, core.key]]),
    roster: { epoch: 0, writers: core.members.map(publicPart) },
    identity,
    batchMs: 60_000, // tests flush by hand
    ...extra,
  }
}

export const text = (doc: SecureDoc): string => doc.plain.getText('notes').toString()

export function type(doc: SecureDoc, at: number, s: string): void {
  const t = doc.plain.getText('notes')
  t.insert(Math.min(at, t.length), s)
}

/** Every frame currently in a replica's transport doc. */
export const framesOf = (doc: SecureDoc): Uint8Array[] => [...doc.frames.values()]

/** Syncs two transport docs both ways, as y-webrtc would. */
export function syncTransports(a: SecureDoc, b: SecureDoc): void {
  const toB = Y.encodeStateAsUpdate(a.transport, Y.encodeStateVector(b.transport))
  const toA = Y.encodeStateAsUpdate(b.transport, Y.encodeStateVector(a.transport))
  Y.applyUpdate(b.transport, toB, 'peer')
  Y.applyUpdate(a.transport, toA, 'peer')
}

/** A DocStore in memory that can be told to fail, like a full disk. */
export class MemoryStore implements DocStore {
  readonly docs = new Map<string, Uint8Array[]>()
  failing = false

  async load(docId: string): Promise<Uint8Array[]> {
    return [...(this.docs.get(docId) ?? [])]
  }
  async append(docId: string, update: Uint8Array): Promise<void> {
    if (this.failing) throw Object.assign(new Error('quota'), { name: 'QuotaExceededError' })
    this.docs.set(docId, [...(this.docs.get(docId) ?? []), update])
  }
  async replace(docId: string, state: Uint8Array): Promise<void> {
    if (this.failing) throw Object.assign(new Error('quota'), { name: 'QuotaExceededError' })
    this.docs.set(docId, [state])
  }
  bytes(docId: string): number {
    return (this.docs.get(docId) ?? []).reduce((n, u) => n + u.length, 0)
  }
}
