// Every test file starts with libsodium loaded, as the app does at start.
import { cryptoReady } from '../src/crypto'

await cryptoReady()
