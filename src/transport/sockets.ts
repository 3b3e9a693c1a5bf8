// Signaling sockets. Each room (with its relay) and each lobby gets sockets of its
// own, so the server cannot tell from a connection which rooms belong together (one
// socket subscribed to a plan room, a brief room and lobbies would say "same action").
// It can still correlate by IP address and timing: SECURITY.md says so.
//
// y-webrtc keeps one socket per URL; a random tag in the query string (ignored by the
// server, meaningless to it) gives each holder its own.
import * as yWebrtc from 'y-webrtc'
import { randomBytes, toBase64Url } from '../crypto'
import type { SignalingSocket } from './signaling'

interface HeldConn extends SignalingSocket {
  readonly providers: Set<unknown>
  destroy(): void
}

// `signalingConns` is exported by our patch, so the generated types do not know it.
const patched = yWebrtc as unknown as { signalingConns: Map<string, HeldConn>; SignalingConn: new (url: string) => HeldConn }
const conns = patched.signalingConns
const Conn = patched.SignalingConn

/** A URL for a socket of one's own on the same server. */
export function ownUrl(url: string): string {
  return `${url}${url.includes('?') ? '&' : '?'}s=${toBase64Url(randomBytes(9))}`
}

export function holdSignaling(url: string, holder: object): SignalingSocket {
  let conn = conns.get(url)
  if (!conn) conns.set(url, (conn = new Conn(url)))
  conn.providers.add(holder)
  return conn
}

export function releaseSignaling(url: string, holder: object): void {
  const conn = conns.get(url)
  if (!conn) return
  conn.providers.delete(holder)
  if (conn.providers.size === 0) {
    conn.destroy()
    conns.delete(url)
  }
}

/** Sockets of one's own to each of these servers. */
export const ownSockets = (urls: readonly string[], holder: object): SignalingSocket[] => urls.map((url) => holdSignaling(ownUrl(url), holder))

export function releaseSockets(sockets: readonly SignalingSocket[], holder: object): void {
  for (const socket of sockets) releaseSignaling(socket.url, holder)
}
