// Everything a room needs is derived from the document key with distinct purposes,
// so the signaling server sees names that it cannot link to an action or to each other,
// and a new epoch's key (after a member is removed) means a new room.
import { deriveKey, keyedHash, toBase64Url, type RoomName, type SecretKey } from '../crypto'

export interface RoomKeys {
  /** The y-webrtc room: its signaling topic. */
  readonly name: RoomName
  /** y-webrtc's `password`: encrypts SDP and ICE candidates on the server. Not the security boundary. */
  readonly password: string
  /** The topic on which frames are relayed through the signaling server beside the mesh. */
  readonly relayTopic: RoomName
  /** Seals relayed frames, so the server sees no frame header (no author keys, no counters). */
  readonly relayKey: SecretKey
}

export function roomKeys(documentKey: SecretKey): RoomKeys {
  return {
    name: toBase64Url(keyedHash(documentKey, 'room')) as RoomName,
    password: toBase64Url(keyedHash(documentKey, 'room-password')),
    relayTopic: toBase64Url(keyedHash(documentKey, 'relay-room')) as RoomName,
    relayKey: deriveKey(documentKey, 'relay-key'),
  }
}
