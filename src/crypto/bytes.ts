// Byte helpers shared by every layer that builds binary formats.
import { lib } from './sodium'
import { CryptoError } from './errors'

const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8', { fatal: true })

export const utf8 = (text: string): Uint8Array => encoder.encode(text)

/** Decodes UTF-8, refusing invalid sequences instead of inserting U+FFFD. */
export function fromUtf8(bytes: Uint8Array): string {
  try {
    return decoder.decode(bytes)
  } catch {
    throw new CryptoError('malformed', 'The text is not valid UTF-8.')
  }
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  let length = 0
  for (const p of parts) length += p.length
  const out = new Uint8Array(length)
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}

export function u32(n: number): Uint8Array {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new RangeError('u32 out of range')
  const out = new Uint8Array(4)
  new DataView(out.buffer).setUint32(0, n)
  return out
}

export const readU32 = (bytes: Uint8Array, at: number): number =>
  new DataView(bytes.buffer, bytes.byteOffset + at, 4).getUint32(0)

/** Length-prefixed: the unambiguous way to join variable fields before hashing or signing. */
export const framed = (bytes: Uint8Array): Uint8Array => concat(u32(bytes.length), bytes)

/** Constant-time equality of two byte strings of any length. */
export const equalBytes = (a: Uint8Array, b: Uint8Array): boolean =>
  a.length === b.length && lib().memcmp(a, b)

export const toBase64Url = (bytes: Uint8Array): string =>
  lib().to_base64(bytes, lib().base64_variants.URLSAFE_NO_PADDING)

export function fromBase64Url(text: string): Uint8Array {
  try {
    return lib().from_base64(text, lib().base64_variants.URLSAFE_NO_PADDING)
  } catch {
    throw new CryptoError('malformed', 'The text is not valid base64url.')
  }
}

export const toHex = (bytes: Uint8Array): string => lib().to_hex(bytes)
export const fromHex = (hex: string): Uint8Array => lib().from_hex(hex)

/** Overwrites secret bytes we no longer need (best effort in a garbage-collected language). */
export const wipe = (bytes: Uint8Array): void => lib().memzero(bytes)
