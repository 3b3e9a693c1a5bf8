// A device's identity: an Ed25519 key pair to sign what it writes and an X25519
// key pair to receive sealed boxes. Made once on first run; the vault keeps its seed.
import { lib } from './sodium'
import { CryptoError } from './errors'
import type { BoxPublicKey, BoxSecretKey, SigningPublicKey, SigningSecretKey } from './types'

/** What others may know of a device. */
export interface PublicIdentity {
  readonly signingPublicKey: SigningPublicKey
  readonly boxPublicKey: BoxPublicKey
}

export interface DeviceIdentity extends PublicIdentity {
  readonly signingSecretKey: SigningSecretKey
  readonly boxSecretKey: BoxSecretKey
  /** 64 bytes that regenerate both key pairs: the only part that is stored. */
  readonly seed: Uint8Array
}

export const IDENTITY_SEED_BYTES = 64

export const newIdentity = (): DeviceIdentity => identityFromSeed(lib().randombytes_buf(IDENTITY_SEED_BYTES))

/** Deterministic: for unlocking a stored identity and for known-answer tests. */
export function identityFromSeed(seed: Uint8Array): DeviceIdentity {
  if (seed.length !== IDENTITY_SEED_BYTES) throw new CryptoError('bad-key', 'An identity seed must be 64 bytes.')
  const signing = lib().crypto_sign_seed_keypair(seed.subarray(0, 32))
  const box = lib().crypto_box_seed_keypair(seed.subarray(32, 64))
  return {
    signingPublicKey: signing.publicKey as SigningPublicKey,
    signingSecretKey: signing.privateKey as SigningSecretKey,
    boxPublicKey: box.publicKey as BoxPublicKey,
    boxSecretKey: box.privateKey as BoxSecretKey,
    seed: seed.slice(),
  }
}

export const publicPart = (id: PublicIdentity): PublicIdentity => ({
  signingPublicKey: id.signingPublicKey,
  boxPublicKey: id.boxPublicKey,
})

/** Overwrites the secret halves; the identity is unusable afterwards. */
export function forgetIdentity(id: DeviceIdentity): void {
  lib().memzero(id.signingSecretKey)
  lib().memzero(id.boxSecretKey)
  lib().memzero(id.seed)
}

/** An X25519 key pair from a 32-byte seed: for keys a group shares (the core's check-in key). */
export function boxKeysFromSeed(seed: Uint8Array): { boxPublicKey: BoxPublicKey; boxSecretKey: BoxSecretKey } {
  if (seed.length !== 32) throw new CryptoError('bad-key', 'A box key seed must be 32 bytes.')
  const pair = lib().crypto_box_seed_keypair(seed)
  return { boxPublicKey: pair.publicKey as BoxPublicKey, boxSecretKey: pair.privateKey as BoxSecretKey }
}
