// Detached Ed25519 signatures with domain separation: a signature made for one
// purpose (a frame, say) never verifies as another (a release, say), because the
// purpose is part of what is signed. Purposes are a closed list.
import { lib } from './sodium'
import { concat, framed, utf8 } from './bytes'
import { CryptoError } from './errors'
import type { Signature, SigningPublicKey, SigningSecretKey } from './types'

export type SignPurpose = 'frame' | 'welcome' | 'join-request' | 'release' | 'share-offer' | 'checkin' | 'campaign-order' | 'campaign-entry' | 'test'

export const SIGNATURE_BYTES = 64

const signedBytes = (purpose: SignPurpose, message: Uint8Array): Uint8Array =>
  concat(framed(utf8(`blossom/v1/sign/${purpose}`)), message)

export function sign(purpose: SignPurpose, message: Uint8Array, secretKey: SigningSecretKey): Signature {
  if (secretKey.length !== 64) throw new CryptoError('bad-key', 'A signing key must be 64 bytes.')
  return lib().crypto_sign_detached(signedBytes(purpose, message), secretKey) as Signature
}

/** True only if `signature` was made by `publicKey` over `message` for `purpose`. Never throws on bad input. */
export function verify(
  purpose: SignPurpose,
  message: Uint8Array,
  signature: Uint8Array,
  publicKey: SigningPublicKey,
): boolean {
  if (signature.length !== SIGNATURE_BYTES || publicKey.length !== 32) return false
  try {
    return lib().crypto_sign_verify_detached(signature, signedBytes(purpose, message), publicKey)
  } catch {
    return false
  }
}

/** `verify`, as an assertion: throws CryptoError 'bad-signature'. */
export function assertSigned(
  purpose: SignPurpose,
  message: Uint8Array,
  signature: Uint8Array,
  publicKey: SigningPublicKey,
): void {
  if (!verify(purpose, message, signature, publicKey)) {
    throw new CryptoError('bad-signature', 'The signature does not match: the data was forged or changed.')
  }
}
