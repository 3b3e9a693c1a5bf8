// A frame: the unit that travels and is stored. One batch of Yjs updates (or a
// snapshot, or a roster entry), encrypted under the document's key for its epoch
// and signed by its author.
//
//   offset  size  field
//   0       1     format version (1)
//   1       1     kind: 1 update, 2 snapshot, 3 roster entry, 4 closure (closure.ts)
//   2       4     epoch (u32, big endian)
//   6       32    author: Ed25519 public key
//   38      4     counter: the author's frame number in this document (u32)
//   42      n     key-committing AEAD box of the payload; associated data = document id || bytes 0..42
//   42+n    64    Ed25519 signature, purpose 'frame', over document id || bytes 0..42+n
//
// The document id is bound by the AEAD and the signature but never sent: a frame says
// nothing about which document it belongs to, and one replayed into another document
// or epoch fails both checks. Only holders of the document key see a frame at all in
// the mesh; the relay and the store wrap frames again.
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
export const HEADER_BYTES = 42
export const MIN_FRAME_BYTES = HEADER_BYTES + AEAD_OVERHEAD + SIGNATURE_BYTES
/** Larger frames are refused unread: a peer cannot make us hash or hold gigabytes. */
export const MAX_FRAME_BYTES = 8 * 1024 * 1024

export const FrameKind = { update: 1, snapshot: 2, roster: 3, closure: 4 } as const
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

function docIdBytes(docId: DocId): Uint8Array {
  const bytes = fromBase64Url(docId)
  if (bytes.length !== 32) throw new RangeError('A document id is 32 bytes.')
  return bytes
}

export function sealFrame(
  h: Omit<FrameHeader, 'author'>,
  payload: Uint8Array,
  key: SecretKey,
  author: DeviceIdentity,
): SignedFrame {
  const doc = docIdBytes(h.docId)
  const header = concat(Uint8Array.of(FRAME_VERSION, h.kind), u32(h.epoch), author.signingPublicKey, u32(h.counter))
  const signed = concat(header, seal(key, payload, concat(doc, header)))
  const bytes = concat(signed, sign('frame', concat(doc, signed), author.signingSecretKey))
  return { ...h, author: author.signingPublicKey, id: frameIdOf(bytes), bytes }
}

/** Why a frame was turned away, in words a person can act on. */
export type FrameFault = 'malformed' | 'forged'

export type ParsedFrame = { ok: true; frame: SignedFrame } | { ok: false; fault: FrameFault }

const isKind = (k: number): k is FrameKind => k >= 1 && k <= 4

/**
 * Checks layout and signature (which binds the document). Needs no key, so a peer
 * can reject garbage and forgeries before anything else. Never throws.
 */
export function parseFrame(bytes: unknown, docId: DocId): ParsedFrame {
  if (!(bytes instanceof Uint8Array) || bytes.length < MIN_FRAME_BYTES || bytes.length > MAX_FRAME_BYTES) {
    return { ok: false, fault: 'malformed' }
  }
  const kind = bytes[1]
  if (bytes[0] !== FRAME_VERSION || kind === undefined || !isKind(kind)) return { ok: false, fault: 'malformed' }
  const author = bytes.slice(6, 38) as SigningPublicKey
  const signedEnd = bytes.length - SIGNATURE_BYTES
  if (!verify('frame', concat(docIdBytes(docId), bytes.subarray(0, signedEnd)), bytes.subarray(signedEnd), author)) {
    return { ok: false, fault: 'forged' }
  }
  return {
    ok: true,
    frame: { kind, docId, epoch: readU32(bytes, 2), author, counter: readU32(bytes, 38), id: frameIdOf(bytes), bytes },
  }
}

/** Opens a signed frame's payload. Throws CryptoError when the key is wrong or the box was changed. */
export const openFrame = (frame: SignedFrame, key: SecretKey): Uint8Array =>
  open(
    key,
    frame.bytes.subarray(HEADER_BYTES, frame.bytes.length - SIGNATURE_BYTES),
    concat(docIdBytes(frame.docId), frame.bytes.subarray(0, HEADER_BYTES)),
  )
