export type StoreErrorCode =
  | 'no-vault' // nothing set up on this device yet
  | 'vault-exists' // setting up twice would destroy the first
  | 'wrong-passphrase'
  | 'weak-passphrase'
  | 'locked' // used after lock()
  | 'full' // the browser refused to store more
  | 'corrupt' // stored bytes do not open: changed on disk, or another app's data
  | 'unavailable' // IndexedDB is missing or blocked (private mode in some browsers)
  | 'too-large' // a decoy longer than its fixed-size record

export class StoreError extends Error {
  override readonly name = 'StoreError'
  constructor(readonly code: StoreErrorCode, message: string) {
    super(message)
  }
}

const messages: Record<StoreErrorCode, string> = {
  'no-vault': 'Blossom is not set up on this device yet.',
  'vault-exists': 'Blossom is already set up on this device. Unlock it instead.',
  'wrong-passphrase': 'That passphrase is not right. Nothing was changed; try again.',
  'weak-passphrase': 'Choose a passphrase of at least 8 characters; a few unrelated words are best.',
  locked: 'Blossom is locked. Unlock it with your passphrase.',
  full: 'This phone has no room left to save. Nothing was lost: free some space and Blossom will save again.',
  corrupt: 'Some saved data on this phone could not be read; it was left untouched.',
  unavailable: 'This browser does not let Blossom save data (private mode?). Use a normal window.',
  'too-large': 'The decoy is too long: keep its notes under about 4,000 characters.',
}

export const storeError = (code: StoreErrorCode): StoreError => new StoreError(code, messages[code])

/** Turns what IndexedDB throws into a StoreError a person can act on. */
export function fromIdbError(e: unknown): unknown {
  if (e instanceof StoreError) return e
  const name = (e as { name?: unknown } | null)?.name
  if (name === 'QuotaExceededError') return storeError('full')
  if (name === 'InvalidStateError' || name === 'UnknownError' || name === 'SecurityError') return storeError('unavailable')
  return e
}
