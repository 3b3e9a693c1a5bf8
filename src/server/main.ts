// Process entry: `tsx src/server/main.ts`. Configuration from the environment only: HOST, PORT,
// DIST_DIR, TRUST_PROXY, BLOSSOM_DRAND_URLS, BLOSSOM_DRAND_CHAIN, the ICE servers handed to
// phones (BLOSSOM_STUN_URLS, BLOSSOM_TURN_URLS, BLOSSOM_TURN_SECRET, BLOSSOM_TURN_TTL: ice.ts), and
// BLOSSOM_REDIS_URL for several instances (cluster.ts).
import { fileURLToPath } from 'node:url'
import path from 'node:path'
import type { IncomingMessage } from 'node:http'
import { createAppServer } from './app-server'
import { drandUrlsFromEnv } from './drand'
import { iceFromEnv } from './ice'
import { addressSource } from './signaling'

/**
 * TRUST_PROXY=1 behind a reverse proxy on this machine: a phone's source (for fair shares) is the
 * address the proxy appended last to X-Forwarded-For, not the proxy's own. Without a proxy, leave
 * it unset: a client could write any X-Forwarded-For it likes.
 */
function forwardedSource(request: IncomingMessage): string {
  const header = request.headers['x-forwarded-for']
  const last = (Array.isArray(header) ? header.at(-1) : header)?.split(',').at(-1)?.trim()
  if (!last) return addressSource(request)
  return addressSource({ socket: { remoteAddress: last } } as IncomingMessage)
}

function portFromEnv(value: string | undefined): number {
  const port = Number(value ?? '4173')
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new RangeError('PORT must be an integer between 0 and 65535')
  }
  return port
}

/** TRUST_PROXY: '1' behind a proxy, unset or '0' without. Anything else is a mistake, said at start: taken
 * as "no proxy", every phone would count as the proxy's one address (one fair share for the whole crowd). */
function trustProxyFromEnv(value: string | undefined): boolean {
  if (value === undefined || value === '' || value === '0') return false
  if (value === '1') return true
  throw new RangeError(`TRUST_PROXY must be 1 (behind a reverse proxy on this machine) or unset, not ${JSON.stringify(value)}`)
}
const trustProxy = trustProxyFromEnv(process.env['TRUST_PROXY'])

const distRoot = process.env['DIST_DIR'] ?? fileURLToPath(new URL('../../dist', import.meta.url))
const app = createAppServer({
  host: process.env['HOST'] ?? '127.0.0.1',
  port: portFromEnv(process.env['PORT']),
  distRoot: path.resolve(distRoot),
  signaling: {
    ...(trustProxy ? { sourceOf: forwardedSource } : {}),
    // Several instances share topics and limits through one Redis (cluster.ts); unset, one instance stands alone.
    ...(process.env['BLOSSOM_REDIS_URL'] ? { cluster: { url: process.env['BLOSSOM_REDIS_URL'] } } : {}),
  },
  // Beacons for phones' time locks come through /drand/ (the app's CSP allows its own origin only).
  drand: {
    upstreams: drandUrlsFromEnv(process.env['BLOSSOM_DRAND_URLS']),
    ...(process.env['BLOSSOM_DRAND_CHAIN'] ? { chain: process.env['BLOSSOM_DRAND_CHAIN'] } : {}),
    ...(trustProxy ? { sourceOf: forwardedSource } : {}),
  },
  network: {
    ice: iceFromEnv(process.env),
    ...(trustProxy ? { sourceOf: forwardedSource } : {}),
  },
})

const url = await app.listen()
console.log(`Blossom listening on ${url}${trustProxy ? ' (behind a reverse proxy: phone addresses from X-Forwarded-For)' : ''}`)

let stopping = false
const stop = (): void => {
  if (stopping) process.exit(1) // second signal: do not wait
  stopping = true
  const force = setTimeout(() => process.exit(1), 5_000)
  force.unref()
  app.close().then(
    () => process.exit(0),
    () => process.exit(1),
  )
}
process.on('SIGINT', stop)
process.on('SIGTERM', stop)
