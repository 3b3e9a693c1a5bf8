// The crypto layer's public API: few verbs, each hard to misuse.
export { cryptoReady } from './sodium'
export { CryptoError, type CryptoErrorCode } from './errors'
export type * from './types'
export { seal, open, AEAD_OVERHEAD } from './aead'
export { sign, verify, assertSigned, SIGNATURE_BYTES, type SignPurpose } from './sign'
export { sealTo, openSealed } from './sealedbox'
export { keyedHash, deriveKey, contentHash, type HashPurpose } from './hash'
export { randomBytes, randomKey } from './random'
export {
  newIdentity,
  identityFromSeed,
  publicPart,
  forgetIdentity,
  boxKeysFromSeed,
  IDENTITY_SEED_BYTES,
  type DeviceIdentity,
  type PublicIdentity,
} from './identity'
export {
  keyFromPassphrase,
  newPassphraseParams,
  DEFAULT_OPS_LIMIT,
  DEFAULT_MEM_LIMIT_BYTES,
  MIN_PASSPHRASE_LENGTH,
  type PassphraseParams,
} from './passphrase'
export { Reader } from './reader'
export { utf8, fromUtf8, concat, u32, readU32, framed, equalBytes, toBase64Url, fromBase64Url, toHex, fromHex, wipe } from './bytes'
