// Branded byte and id types: a signing key cannot be passed where a document key
// is expected, and an id derived for one purpose cannot stand in for another.
declare const brand: unique symbol
export type Brand<T, B extends string> = T & { readonly [brand]: B }

/** 32-byte symmetric key (document key, stage key, vault key). */
export type SecretKey = Brand<Uint8Array, 'SecretKey'>
/** Ed25519 public key: who wrote a frame. */
export type SigningPublicKey = Brand<Uint8Array, 'SigningPublicKey'>
export type SigningSecretKey = Brand<Uint8Array, 'SigningSecretKey'>
/** X25519 public key: what sealed boxes are addressed to. */
export type BoxPublicKey = Brand<Uint8Array, 'BoxPublicKey'>
export type BoxSecretKey = Brand<Uint8Array, 'BoxSecretKey'>
export type Signature = Brand<Uint8Array, 'Signature'>

/** A document's id: a keyed hash, so it says nothing about the action. base64url. */
export type DocId = Brand<string, 'DocId'>
/** The hash of a frame's bytes: its key in the transport doc and in storage. base64url. */
export type FrameId = Brand<string, 'FrameId'>
/** A signaling topic: derived from a key, unlinkable to the action or to other rooms. */
export type RoomName = Brand<string, 'RoomName'>
