// An action as one phone keeps it: its role there and the documents it can open.
import { fromUtf8, randomBytes, toBase64Url, utf8, type Brand } from '../crypto'
import { accessFromJson, accessToJson, type DocAccess } from './access'
import { ModelError } from './errors'

/** This phone's own name for an action; never leaves the phone. */
export type ActionId = Brand<string, 'ActionId'>

export type Role = 'core' | 'participant'

export interface ActionRecord {
  readonly id: ActionId
  readonly role: Role
  /** The core plan (core phones only). */
  readonly plan?: DocAccess
}

export const newActionId = (): ActionId => toBase64Url(randomBytes(16)) as ActionId

export function encodeAction(a: ActionRecord): Uint8Array {
  return utf8(JSON.stringify({ v: 1, id: a.id, role: a.role, ...(a.plan ? { plan: accessToJson(a.plan) } : {}) }))
}

export function decodeAction(bytes: Uint8Array): ActionRecord {
  try {
    const j = JSON.parse(fromUtf8(bytes)) as { v?: unknown; id?: unknown; role?: unknown; plan?: unknown }
    if (j.v !== 1 || typeof j.id !== 'string' || (j.role !== 'core' && j.role !== 'participant')) throw new Error()
    return { id: j.id as ActionId, role: j.role, ...(j.plan ? { plan: accessFromJson(j.plan) } : {}) }
  } catch {
    throw new ModelError('corrupt-record', 'A saved action could not be read; it was left untouched.')
  }
}
