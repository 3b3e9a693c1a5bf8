// The transport layer: y-webrtc rooms keyed by document keys, plus a ciphertext relay.
export { RoomLink, defaultSignalingUrl, type TransportSettings, type LinkStatus } from './room-link'
export { roomKeys, type RoomKeys } from './rooms'
export { FrameRelay, relayMessages, RELAY_PIECE_BYTES, type RelayStats } from './relay'
