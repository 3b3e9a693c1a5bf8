// What a phone needs to open one document: its id, its key per epoch, and the
// writers it trusts to start from. Kept in the vault; sent to a joiner in a welcome.
import { fromBase64Url, toBase64Url, type BoxPublicKey, type DocId, type PublicIdentity, type SecretKey, type SigningPublicKey } from '../crypto'
import type { RosterBase } from '../doc'
import { ModelError } from './errors'

export interface DocAccess {
  readonly docId: DocId
  readonly keys: ReadonlyMap<number, SecretKey>
  readonly roster: RosterBase
}

export interface AccessJson {
  readonly docId: string
  readonly keys: Readonly<Record<string, string>>
  readonly epoch: number
  readonly writers: readonly (readonly [string, string])[]
}

export const identityToJson = (id: PublicIdentity): [string, string] => [toBase64Url(id.signingPublicKey), toBase64Url(id.boxPublicKey)]

export function identityFromJson(json: unknown): PublicIdentity {
  if (!Array.isArray(json) || json.length !== 2 || typeof json[0] !== 'string' || typeof json[1] !== 'string') throw bad()
  const sign = fromBase64Url(json[0])
  const box = fromBase64Url(json[1])
  if (sign.length !== 32 || box.length !== 32) throw bad()
  return { signingPublicKey: sign as SigningPublicKey, boxPublicKey: box as BoxPublicKey }
}

export function accessToJson(a: DocAccess): AccessJson {
  return {
    docId: a.docId,
    keys: Object.fromEntries([...a.keys].map(([epoch, key]) => [String(epoch), toBase64Url(key)])),
    epoch: a.roster.epoch,
    writers: a.roster.writers.map(identityToJson),
  }
}

export function accessFromJson(json: unknown): DocAccess {
  const j = json as Partial<AccessJson> | null
  if (!j || typeof j.docId !== 'string' || fromBase64Url(j.docId).length !== 32) throw bad()
  if (typeof j.epoch !== 'number' || !Number.isInteger(j.epoch) || j.epoch < 0) throw bad()
  if (!j.keys || typeof j.keys !== 'object' || !Array.isArray(j.writers) || j.writers.length === 0) throw bad()
  const keys = new Map<number, SecretKey>()
  for (const [epoch, key] of Object.entries(j.keys)) {
    const bytes = typeof key === 'string' ? fromBase64Url(key) : new Uint8Array(0)
    if (!/^\d+$/.test(epoch) || bytes.length !== 32) throw bad()
    keys.set(Number(epoch), bytes as SecretKey)
  }
  if (keys.size === 0) throw bad()
  return { docId: j.docId as DocId, keys, roster: { epoch: j.epoch, writers: j.writers.map(identityFromJson) } }
}

const bad = () => new ModelError('corrupt-record', 'Some saved or received data about an action could not be read.')
