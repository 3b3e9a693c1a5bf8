// Phones for model tests: real vaults (fake-indexeddb), a real signaling server on
// 127.0.0.1, the sealed relay (Node has no browser WebRTC, so the mesh is off here).
import 'fake-indexeddb/auto'
import { WebSocket } from 'ws'
import { openBlossomDB, type BlossomDB } from '../../src/store'
import { Phone } from '../../src/model'
import type { TransportSettings } from '../../src/transport'

;(globalThis as { WebSocket?: unknown }).WebSocket ??= WebSocket

export const ORIGIN = 'http://127.0.0.1:4173'
export const PASSPHRASE = 'a long passphrase'

let n = 0
/** Each phone gets its own socket (a distinct URL), as separate devices would. */
export const transportFor = (url: string): TransportSettings => ({ signalingUrls: [`${url}?phone=${++n}`], iceServers: [], relayOnly: false, mesh: false })

export interface TestPhone {
  phone: Phone
  db: BlossomDB
  transport: TransportSettings
}

export async function newPhone(url: string, all: Phone[]): Promise<TestPhone> {
  const db = await openBlossomDB(`model-phone-${++n}`)
  const transport = transportFor(url)
  const phone = await Phone.setUp(db, PASSPHRASE, transport)
  all.push(phone)
  return { phone, db, transport }
}
