// The store layer: IndexedDB holding only ciphertext and opaque ids.
export { Vault, type SecretName } from './vault'
export { StoreError, storeError, type StoreErrorCode } from './errors'
export { onLetGo, openBlossomDB, DEFAULT_DB_NAME, type BlossomDB, type VaultHeader } from './db'
export type { DocStore } from './doc-store'
