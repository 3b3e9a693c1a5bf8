// Keyed hashing (BLAKE2b-256) for everything derived from a key: subkeys, ids,
// room names. Each use names its purpose, and purposes are a closed list, so two
// derivations can never collide by accident.
import { lib } from './sodium'
import { concat, framed, utf8 } from './bytes'
import { CryptoError } from './errors'
import type { SecretKey } from './types'

export type HashPurpose =
  | 'aead-subkey'
  | 'aead-commit'
  | 'doc-id'
  | 'room'
  | 'room-password'
  | 'relay-room'
  | 'relay-key'
  | 'lobby-room'
  | 'lobby-key'
  | 'checkin-key'
  | 'clock-key'
  | 'without-core'
  | 'rotation-index'
  | 'epoch-key'
  | 'stage-key-id'
  | 'store-index'
  | 'store-record'

const HASH_BYTES = 32

export function keyedHash(key: SecretKey, purpose: HashPurpose, ...parts: Uint8Array[]): Uint8Array {
  if (key.length !== 32) throw new CryptoError('bad-key', 'A key must be 32 bytes.')
  const input = concat(framed(utf8(`blossom/v1/${purpose}`)), ...parts.map(framed))
  return lib().crypto_generichash(HASH_BYTES, input, key)
}

/** A 32-byte subkey for one purpose (and optional context) of a parent key. */
export const deriveKey = (key: SecretKey, purpose: HashPurpose, ...context: Uint8Array[]): SecretKey =>
  keyedHash(key, purpose, ...context) as SecretKey

/** Unkeyed BLAKE2b-256, for content addressing (frame ids). */
export const contentHash = (bytes: Uint8Array): Uint8Array => lib().crypto_generichash(HASH_BYTES, bytes, null)
