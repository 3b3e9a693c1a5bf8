import { deriveKey, randomBytes, toBase64Url, type DocId, type SecretKey } from '../crypto'

/** A fresh random document id. */
export const newDocId = (): DocId => toBase64Url(randomBytes(32)) as DocId

/** A document id both sides can compute from a shared secret (an invite's lobby). */
export const docIdFromSecret = (secret: SecretKey): DocId => toBase64Url(deriveKey(secret, 'doc-id')) as DocId
