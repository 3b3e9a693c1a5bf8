// The project's release signature over a manifest: Ed25519 (@noble/ed25519: small, audited, the
// same code in Node, the page and the service worker) over a context string and the canonical
// manifest. It lives in its own file beside the manifest, keyed by public key like WEBCAT's, so a
// WEBCAT enrollment can add its own (Sigsum or Sigstore) signatures without touching this one.
import * as ed from '@noble/ed25519'
import { ReleaseError } from './errors'
import { fromBase64Url, signedManifestBytes, toBase64Url, type ReleaseManifest } from './manifest'

export const SIGNATURE_PATH = '/.well-known/blossom/signature.json'

/** An Ed25519 public key, unpadded base64url of its 32 bytes (WEBCAT writes signers the same way). */
export type ReleaseKey = string & { readonly __brand: 'ReleaseKey' }
/** The 32-byte Ed25519 seed of a release key, base64url. Lives offline, never in the repository. */
export type ReleaseSecret = string & { readonly __brand: 'ReleaseSecret' }

/** The file at SIGNATURE_PATH. */
export interface SignatureDocument {
  readonly signatures: Readonly<Record<string, string>>
}

const CONTEXT = new TextEncoder().encode('Blossom release manifest v1\n')

function message(manifest: ReleaseManifest): Uint8Array {
  const body = signedManifestBytes(manifest)
  const out = new Uint8Array(CONTEXT.length + body.length)
  out.set(CONTEXT)
  out.set(body, CONTEXT.length)
  return out
}

export function parseReleaseKey(text: string): ReleaseKey {
  const trimmed = text.trim()
  let bytes: Uint8Array
  try {
    bytes = fromBase64Url(trimmed)
  } catch {
    bytes = new Uint8Array()
  }
  if (bytes.length !== 32) throw new ReleaseError('malformed', 'A release public key is 32 bytes in unpadded base64url.')
  return trimmed as ReleaseKey
}

export async function newReleaseSecret(): Promise<{ secret: ReleaseSecret; key: ReleaseKey }> {
  const secret = toBase64Url(ed.utils.randomSecretKey()) as ReleaseSecret
  return { secret, key: await releaseKeyOf(secret) }
}

export async function releaseKeyOf(secret: ReleaseSecret): Promise<ReleaseKey> {
  return toBase64Url(await ed.getPublicKeyAsync(fromBase64Url(secret))) as ReleaseKey
}

/** Adds this key's signature to a signature document (others it holds stay). */
export async function signManifest(manifest: ReleaseManifest, secret: ReleaseSecret, into: SignatureDocument = { signatures: {} }): Promise<SignatureDocument> {
  const seed = fromBase64Url(secret)
  if (seed.length !== 32) throw new ReleaseError('malformed', 'A release secret key is a 32-byte seed in unpadded base64url.')
  const signature = await ed.signAsync(message(manifest), seed)
  const key = await releaseKeyOf(secret)
  return { signatures: { ...into.signatures, [key]: toBase64Url(signature) } }
}

export function parseSignatureDocument(text: string): SignatureDocument {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    throw new ReleaseError('malformed', 'The release signature is not JSON.')
  }
  const signatures = (json as { signatures?: unknown } | null)?.signatures
  if (typeof signatures !== 'object' || signatures === null || Array.isArray(signatures)) {
    throw new ReleaseError('malformed', 'The release signature file has no signatures.')
  }
  for (const value of Object.values(signatures)) {
    if (typeof value !== 'string') throw new ReleaseError('malformed', 'A release signature is not a string.')
  }
  return { signatures: signatures as Record<string, string> }
}

/**
 * Checks that `key` signed this manifest. Throws ReleaseError: unsigned (no signature at all),
 * wrong-key (signed by others only), bad-signature (this key's entry does not verify).
 */
export async function verifyManifest(manifest: ReleaseManifest, document: SignatureDocument | undefined, key: ReleaseKey): Promise<void> {
  const entries = Object.keys(document?.signatures ?? {})
  if (entries.length === 0) throw new ReleaseError('unsigned', 'The release is not signed.')
  const signature = document?.signatures[key]
  if (signature === undefined) throw new ReleaseError('wrong-key', `The release is signed by another key (${entries.join(', ')}), not by ${key}.`)
  let valid = false
  try {
    valid = await ed.verifyAsync(fromBase64Url(signature), message(manifest), fromBase64Url(key))
  } catch {
    valid = false
  }
  if (!valid) throw new ReleaseError('bad-signature', 'The release signature does not verify: the manifest or the signature was changed.')
}
