// XChaCha20-Poly1305 with key commitment.
//
// Poly1305 alone is not key-committing: a crafted ciphertext can open under two
// keys (partitioning-oracle and "invisible salamander" attacks). Following the
// commit-then-encrypt construction (Bellare & Hoang, "UtC"), a per-nonce subkey and
// a 32-byte commitment are derived from the key with keyed BLAKE2b; the commitment
// travels with the box and is checked before decryption. A box opens under one key only.
//
// Box layout: version (1) | nonce (24) | commitment (32) | ciphertext + tag (16)
import { lib } from './sodium'
import { concat, equalBytes } from './bytes'
import { CryptoError } from './errors'
import { keyedHash } from './hash'
import { randomBytes } from './random'
import type { SecretKey } from './types'

const VERSION = 1
const NONCE_BYTES = 24
const COMMIT_BYTES = 32
const TAG_BYTES = 16
const HEADER_BYTES = 1 + NONCE_BYTES + COMMIT_BYTES

/** Bytes a box adds to its plaintext. */
export const AEAD_OVERHEAD = HEADER_BYTES + TAG_BYTES

function checkKey(key: SecretKey): void {
  if (!(key instanceof Uint8Array) || key.length !== 32) throw new CryptoError('bad-key', 'A key must be 32 bytes.')
}

/** Encrypts `plaintext` bound to `context` (authenticated, not encrypted). Fresh random nonce every call. */
export const seal = (key: SecretKey, plaintext: Uint8Array, context: Uint8Array = new Uint8Array(0)): Uint8Array =>
  sealWithNonce(key, plaintext, context, randomBytes(NONCE_BYTES))

/** Internal: known-answer tests only. Reusing a nonce with one key would be fatal; call `seal`. */
export function sealWithNonce(key: SecretKey, plaintext: Uint8Array, context: Uint8Array, nonce: Uint8Array): Uint8Array {
  checkKey(key)
  if (nonce.length !== NONCE_BYTES) throw new CryptoError('malformed', 'A nonce must be 24 bytes.')
  const subkey = keyedHash(key, 'aead-subkey', nonce)
  const commitment = keyedHash(key, 'aead-commit', nonce)
  const sealed = lib().crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext, context, null, nonce, subkey)
  lib().memzero(subkey)
  return concat(Uint8Array.of(VERSION), nonce, commitment, sealed)
}

/** Opens a box from `seal`. Throws CryptoError 'malformed' or 'tampered', never anything else. */
export function open(key: SecretKey, box: Uint8Array, context: Uint8Array = new Uint8Array(0)): Uint8Array {
  checkKey(key)
  if (!(box instanceof Uint8Array) || box.length < AEAD_OVERHEAD) {
    throw new CryptoError('malformed', 'The encrypted data is too short to be valid.')
  }
  if (box[0] !== VERSION) throw new CryptoError('malformed', 'The encrypted data has an unknown format version.')
  const nonce = box.subarray(1, 1 + NONCE_BYTES)
  const commitment = box.subarray(1 + NONCE_BYTES, HEADER_BYTES)
  if (!equalBytes(commitment, keyedHash(key, 'aead-commit', nonce))) {
    throw new CryptoError('tampered', 'The data was not encrypted with this key, or it was changed.')
  }
  const subkey = keyedHash(key, 'aead-subkey', nonce)
  try {
    return lib().crypto_aead_xchacha20poly1305_ietf_decrypt(null, box.subarray(HEADER_BYTES), context, nonce, subkey)
  } catch {
    throw new CryptoError('tampered', 'The encrypted data was changed or belongs elsewhere.')
  } finally {
    lib().memzero(subkey)
  }
}
