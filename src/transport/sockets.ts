// One signaling socket per server for everything on this phone: y-webrtc's rooms,
// the frame relays and the invite lobbies. A holder keeps a socket open; the last
// one to let go closes it.
import * as yWebrtc from 'y-webrtc'
import type { SignalingSocket } from './signaling'

interface HeldConn extends SignalingSocket {
  readonly providers: Set<unknown>
  destroy(): void
}

// `signalingConns` is exported by our patch, so the generated types do not know it.
const patched = yWebrtc as unknown as { signalingConns: Map<string, HeldConn>; SignalingConn: new (url: string) => HeldConn }
const conns = patched.signalingConns
const Conn = patched.SignalingConn

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
