// The transport layer: y-webrtc rooms keyed by document keys, sealed topics on the
// signaling server (the frame relay, invite lobbies), one socket per server.
export { RoomLink, defaultSignalingUrl, type TransportSettings, type LinkStatus, type ServerIceSource } from './room-link'
export { roomKeys, type RoomKeys } from './rooms'
export { FrameRelay } from './relay'
export { SealedTopic, sealPieces, PIECE_BYTES, type TopicStats } from './sealed-topic'
export { holdSignaling, releaseSignaling, ownSockets, releaseSockets, ownUrl } from './sockets'
export type { PeerAwareness, SignalingSocket } from './signaling'
// network.ts (the server's STUN and TURN servers) is loaded after unlock, where it is used: not first-load code.
export type { NetworkOffer } from './network'
