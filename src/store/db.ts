// The IndexedDB schema. Every value is ciphertext or a public parameter; every key
// is opaque. Nothing here says which actions exist or what they hold.
import { openDB, type DBSchema, type IDBPDatabase } from 'idb'
import { fromIdbError } from './errors'

export interface VaultHeader {
  readonly version: 1
  readonly salt: Uint8Array
  readonly opsLimit: number
  readonly memLimitBytes: number
  /** Two wrapped master keys, same length; slot 1 is random filler unless a second passphrase is set. */
  readonly slots: readonly [Uint8Array, Uint8Array]
}

export interface BlossomSchema extends DBSchema {
  vault: { key: 'header'; value: VaultHeader }
  /** Opaque id -> sealed secret (identity seed, document keys). */
  secrets: { key: string; value: Uint8Array }
  /** [opaque document tag, sequence] -> sealed transport-doc update. */
  docs: { key: [string, number]; value: Uint8Array }
}

export type BlossomDB = IDBPDatabase<BlossomSchema>

export const DEFAULT_DB_NAME = 'blossom'

const letGoListeners = new Set<() => void>()

/**
 * Calls back when another tab deletes the database (panic wipe, duress passphrase) or upgrades it:
 * this tab has already closed its connection, so the delete is not blocked; it must forget every
 * key it holds (the app reloads). Returns an unsubscribe function.
 */
export function onLetGo(listener: () => void): () => void {
  letGoListeners.add(listener)
  return () => letGoListeners.delete(listener)
}

export async function openBlossomDB(name = DEFAULT_DB_NAME): Promise<BlossomDB> {
  try {
    return await openDB<BlossomSchema>(name, 1, {
      upgrade(db) {
        db.createObjectStore('vault')
        db.createObjectStore('secrets')
        db.createObjectStore('docs')
      },
      blocking(_current, _next, event) {
        ;(event.target as IDBDatabase).close()
        for (const listener of letGoListeners) listener()
      },
    })
  } catch (e) {
    throw fromIdbError(e)
  }
}
