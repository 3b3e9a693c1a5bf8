// One HTTP server for the app: static files from dist/, the signaling socket at /signal, the
// drand beacon proxy at /drand/ (drand.ts) and the phones' ICE servers at /network (ice.ts).
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { SECURITY_HEADERS } from '../release/headers'
import { createDrandHandler, type DrandProxyOptions } from './drand'
import { createNetworkHandler, NETWORK_PATH, type NetworkHandlerOptions } from './ice'
import { createSignalingServer, type SignalingServer, type SignalingServerOptions } from './signaling'
import { createStaticHandler } from './static'

export interface AppServerOptions {
  host: string
  /** 0 picks a free port (tests). */
  port: number
  distRoot: string
  signaling?: Omit<SignalingServerOptions, 'server'>
  /** The drand proxy at /drand/ (default relays unless told). */
  drand?: Omit<DrandProxyOptions, 'headers'>
  /** STUN and TURN servers handed to phones at /network (default none: phones connect directly only). */
  network?: Omit<NetworkHandlerOptions, 'headers'>
}

export interface AppServer {
  readonly http: Server
  readonly signaling: SignalingServer
  /** Resolves with the http:// URL once listening. */
  listen(): Promise<string>
  close(): Promise<void>
}

export function createAppServer(options: AppServerOptions): AppServer {
  const headers = SECURITY_HEADERS
  const serveStatic = createStaticHandler({ root: options.distRoot, headers: () => headers })
  const drand = createDrandHandler({ ...options.drand, headers })
  const network = createNetworkHandler({ ice: { stun: [], turn: [] }, ...options.network, headers })
  const http = createServer((req, res) => {
    const pathname = (req.url ?? '/').split('?', 1)[0]!
    if (pathname === '/drand' || pathname.startsWith('/drand/')) return drand(req, res)
    if (pathname === NETWORK_PATH) return network(req, res)
    if (pathname === signaling.path) {
      res.writeHead(426, { ...headers, 'Content-Type': 'text/plain; charset=utf-8', Upgrade: 'websocket' })
      res.end('WebSocket only\n')
      return
    }
    serveStatic(req, res)
  })
  // Slow or half-open HTTP clients must not hold sockets for Node's generous defaults.
  http.headersTimeout = 10_000
  http.requestTimeout = 30_000
  http.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n')
    socket.destroy()
  })
  const signaling = createSignalingServer({ ...options.signaling, server: http })

  const listen = (): Promise<string> =>
    new Promise((resolve, reject) => {
      http.once('error', reject)
      http.listen(options.port, options.host, () => {
        http.off('error', reject)
        const { port } = http.address() as AddressInfo
        const host = options.host.includes(':') ? `[${options.host}]` : options.host
        resolve(`http://${host}:${port}/`)
      })
    })

  const close = async (): Promise<void> => {
    const stopped = new Promise<void>((resolve) => http.close(() => resolve()))
    await signaling.close()
    http.closeAllConnections()
    await stopped
  }

  return { http, signaling, listen, close }
}
