// A frame: the unit that travels and is stored. One batch of Yjs updates (or a
// snapshot, or a roster entry), encrypted under the document's key for its epoch
// and signed by its author.
//
//   offset  size  field
//   0       1     format version (1)
//   1       1     kind: 1 update, 2 snapshot, 3 roster entry
//   2       32    document id
//   34      4     epoch (u32, big endian)
//   38      32    author: Ed25519 public key
//   70      4     counter: the author's frame number in this document (u32)
//   74      n     key-committing AEAD box of the payload; associated data = bytes 0..74
//   74+n    64    Ed25519 signature, purpose 'frame', over bytes 0..74+n
//
// The header is authenticated twice (AEAD and signature): a frame replayed into
// another document or epoch fails both. Only holders of the document key ever see
// a frame in the clear; the relay and the store wrap frames again.
import {
  AEAD_OVERHEAD,
  SIGNATURE_BYTES,
  concat,
  contentHash,
  fromBase64Url,
  open,
  readU32,
  seal,
  sign,
  toBase64Url,
  u32,
  verify,
  type DeviceIdentity,
  type DocId,
  type FrameId,
  type SecretKey,
  type SigningPublicKey,
} from '../crypto'

export const FRAME_VERSION = 1
export const HEADER_BYTES = 74
export const MIN_FRAME_BYTES = HEADER_BYTES + AEAD_OVERHEAD + SIGNATURE_BYTES
/** Larger frames are refused unread: a peer cannot make us hash or hold gigabytes. */
export const MAX_FRAME_BYTES = 8 * 1024 * 1024

export const FrameKind = { update: 1, snapshot: 2, roster: 3 } as const
export type FrameKind = (typeof FrameKind)[keyof typeof FrameKind]

export interface FrameHeader {
  readonly kind: FrameKind
  readonly docId: DocId
  readonly epoch: number
  readonly author: SigningPublicKey
  readonly counter: number
}

/** A frame whose layout parsed and whose signature holds; its payload is still sealed. */
export interface SignedFrame extends FrameHeader {
  readonly id: FrameId
  readonly bytes: Uint8Array
}

export const frameIdOf = (bytes: Uint8Array): FrameId => toBase64Url(contentHash(bytes)) as FrameId

function encodeHeader(h: FrameHeader): Uint8Array {
  const docId = fromBase64Url(h.docId)
  if (docId.length !== 32) throw new RangeError('A document id is 32 bytes.')
  return concat(Uint8Array.of(FRAME_VERSION, h.kind), docId, u32(h.epoch), h.author, u32(h.counter))
}

export function sealFrame(
  h: Omit<FrameHeader, 'author'>,
  payload: Uint8Array,
  key: SecretKey,
  author: DeviceIdentity,
): SignedFrame {
  const header = encodeHeader({ ...h, author: author.signingPublicKey })
  const signed = concat(header, seal(key, payload, header))
  const bytes = concat(signed, sign('frame', signed, author.signingSecretKey))
  return { ...h, author: author.signingPublicKey, id: frameIdOf(bytes), bytes }
}

/** Why a frame was turned away, in words a person can act on. */
export type FrameFault = 'malformed' | 'wrong-doc' | 'forged'

export type ParsedFrame = { ok: true; frame: SignedFrame } | { ok: false; fault: FrameFault }

const isKind = (k: number): k is FrameKind => k === 1 || k === 2 || k === 3

/**
 * Checks layout, document and signature. Needs no key, so a peer can reject
 * garbage and forgeries before doing anything else with them. Never throws.
 */
export function parseFrame(bytes: unknown, docId: DocId): ParsedFrame {
  if (!(bytes instanceof Uint8Array) || bytes.length < MIN_FRAME_BYTES || bytes.length > MAX_FRAME_BYTES) {
    return { ok: false, fault: 'malformed' }
  }
  const kind = bytes[1]
  if (bytes[0] !== FRAME_VERSION || kind === undefined || !isKind(kind)) return { ok: false, fault: 'malformed' }
  if (toBase64Url(bytes.subarray(2, 34)) !== docId) return { ok: false, fault: 'wrong-doc' }
  const author = bytes.slice(38, 70) as SigningPublicKey
  const signedEnd = bytes.length - SIGNATURE_BYTES
  if (!verify('frame', bytes.subarray(0, signedEnd), bytes.subarray(signedEnd), author)) {
    return { ok: false, fault: 'forged' }
  }
  return {
    ok: true,
    frame: { kind, docId, epoch: readU32(bytes, 34), author, counter: readU32(bytes, 70), id: frameIdOf(bytes), bytes },
  }
}

/** Opens a signed frame's payload. Throws CryptoError when the key is wrong or the box was changed. */
export const openFrame = (frame: SignedFrame, key: SecretKey): Uint8Array =>
  open(key, frame.bytes.subarray(HEADER_BYTES, frame.bytes.length - SIGNATURE_BYTES), frame.bytes.subarray(0, HEADER_BYTES))
