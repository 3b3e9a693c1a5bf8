// Anonymous sealed boxes (X25519 + XSalsa20-Poly1305): anyone can seal to a
// device's public box key; only that device opens. Used for welcomes and check-ins.
import { lib } from './sodium'
import { CryptoError } from './errors'
import type { BoxPublicKey, BoxSecretKey } from './types'

const SEAL_OVERHEAD = 48

export function sealTo(recipient: BoxPublicKey, plaintext: Uint8Array): Uint8Array {
  if (recipient.length !== 32) throw new CryptoError('bad-key', 'A box public key must be 32 bytes.')
  return lib().crypto_box_seal(plaintext, recipient)
}

export function openSealed(
  recipient: { boxPublicKey: BoxPublicKey; boxSecretKey: BoxSecretKey },
  box: Uint8Array,
): Uint8Array {
  if (!(box instanceof Uint8Array) || box.length < SEAL_OVERHEAD) {
    throw new CryptoError('malformed', 'The sealed message is too short to be valid.')
  }
  try {
    return lib().crypto_box_seal_open(box, recipient.boxPublicKey, recipient.boxSecretKey)
  } catch {
    throw new CryptoError('tampered', 'The sealed message was not meant for this device, or it was changed.')
  }
}
