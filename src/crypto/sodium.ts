// The one place that loads libsodium. Every crypto function is synchronous and
// calls `lib()`, so the wasm must be ready first: `await cryptoReady()` once at start.
import sodium from 'libsodium-wrappers-sumo'
import { CryptoError } from './errors'

let loaded = false

export async function cryptoReady(): Promise<void> {
  await sodium.ready
  loaded = true
}

export function lib(): typeof sodium {
  if (!loaded) throw new CryptoError('not-ready', 'Encryption is still loading. Wait a moment and try again.')
  return sodium
}
