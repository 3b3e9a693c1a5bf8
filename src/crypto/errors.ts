/** Why a crypto operation refused. Openers never throw anything but this. */
export type CryptoErrorCode =
  | 'not-ready' // libsodium not loaded yet
  | 'malformed' // wrong length, version or layout
  | 'tampered' // authentication failed: wrong key, changed bytes or changed context
  | 'bad-signature' // signature does not verify for this key and purpose
  | 'bad-key' // a key of the wrong size or kind

export class CryptoError extends Error {
  override readonly name = 'CryptoError'
  constructor(readonly code: CryptoErrorCode, message: string) {
    super(message)
  }
}
