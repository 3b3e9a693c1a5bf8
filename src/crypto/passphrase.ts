// Argon2id (libsodium crypto_pwhash) turns a passphrase into a key. The
// parameters are stored beside the salt so they can be raised later without
// locking anyone out.
import { lib } from './sodium'
import { utf8 } from './bytes'
import { CryptoError } from './errors'
import { randomBytes } from './random'
import type { SecretKey } from './types'

export interface PassphraseParams {
  readonly salt: Uint8Array // 16 bytes
  readonly opsLimit: number
  readonly memLimitBytes: number
}

// 3 passes over 64 MiB: about 0.3 s in wasm on a laptop, about a second on an old
// phone; the memory a mid-range phone's browser tab can spare.
export const DEFAULT_OPS_LIMIT = 3
export const DEFAULT_MEM_LIMIT_BYTES = 64 * 1024 * 1024
export const MIN_PASSPHRASE_LENGTH = 8

export const newPassphraseParams = (): PassphraseParams => ({
  salt: randomBytes(lib().crypto_pwhash_SALTBYTES),
  opsLimit: DEFAULT_OPS_LIMIT,
  memLimitBytes: DEFAULT_MEM_LIMIT_BYTES,
})

export function keyFromPassphrase(passphrase: string, params: PassphraseParams): SecretKey {
  const s = lib()
  if (params.salt.length !== s.crypto_pwhash_SALTBYTES) throw new CryptoError('malformed', 'The passphrase salt has the wrong size.')
  if (params.opsLimit < s.crypto_pwhash_OPSLIMIT_MIN || params.memLimitBytes < s.crypto_pwhash_MEMLIMIT_MIN) {
    throw new CryptoError('malformed', 'The passphrase settings are below the safe minimum.')
  }
  // NFKC so the same passphrase typed on two keyboards gives the same key.
  const bytes = utf8(passphrase.normalize('NFKC'))
  try {
    return s.crypto_pwhash(32, bytes, params.salt, params.opsLimit, params.memLimitBytes, s.crypto_pwhash_ALG_ARGON2ID13) as SecretKey
  } finally {
    s.memzero(bytes)
  }
}
