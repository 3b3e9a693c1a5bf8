// How phones reach each other across NATs: the STUN and TURN servers the operator runs, handed
// to phones at /network, with TURN credentials that expire.
//
// TURN credentials follow coturn's shared-secret scheme (the "TURN REST API" convention, coturn's
// --use-auth-secret): the username is `<expiry in Unix seconds>:<name>` and the password is
// base64(HMAC-SHA1(secret, username)). coturn checks both with the same secret and refuses the
// username once its time has passed, so no long-lived TURN password ever sits on a phone, and the
// app server and coturn share nothing else. The name is random for every answer: the TURN server
// cannot tell two allocations of one phone apart by it (only by their addresses).
//
// Nothing is logged; the answer is never cached (it holds a credential).
import { createHmac, randomBytes } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { SourceBudget } from './bucket'
import { addressSource } from './signaling'

export interface IceOptions {
  /** stun: URLs. */
  stun: readonly string[]
  /** turn: or turns: URLs, all served by coturns that share `turnSecret`. */
  turn: readonly string[]
  /** coturn's static-auth-secret. Needed when `turn` is not empty. */
  turnSecret?: string
  /** How long a TURN credential is valid. Default 12 hours (an action's day). */
  ttlSeconds?: number
}

/** What /network answers (src/transport/network.ts reads it). */
export interface NetworkAnswer {
  iceServers: { urls: string[]; username?: string; credential?: string }[]
  /** When the TURN credential expires (ms since the epoch); phones ask again before. */
  expiresAt: number
}

export const DEFAULT_TURN_TTL_SECONDS = 12 * 60 * 60

/** coturn's username and password for a credential valid until `expiresAt` (Unix seconds). */
export function turnCredential(secret: string, expiresAt: number, name: string): { username: string; credential: string } {
  const username = `${expiresAt}:${name}`
  return { username, credential: createHmac('sha1', secret).update(username).digest('base64') }
}

const SCHEMES: Readonly<Record<'stun' | 'turn', RegExp>> = { stun: /^stuns?:[^\s,]+$/, turn: /^turns?:[^\s,]+$/ }

function urlList(value: string | undefined, kind: 'stun' | 'turn', name: string): string[] {
  const urls = (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
  for (const url of urls) if (!SCHEMES[kind].test(url)) throw new RangeError(`${name}: not a ${kind}: URL: ${url}`)
  return urls
}

/**
 * BLOSSOM_STUN_URLS and BLOSSOM_TURN_URLS (comma-separated), BLOSSOM_TURN_SECRET (coturn's
 * static-auth-secret), BLOSSOM_TURN_TTL (seconds). Nothing set: phones get no ICE servers.
 */
export function iceFromEnv(env: Readonly<Record<string, string | undefined>>): IceOptions {
  const stun = urlList(env['BLOSSOM_STUN_URLS'], 'stun', 'BLOSSOM_STUN_URLS')
  const turn = urlList(env['BLOSSOM_TURN_URLS'], 'turn', 'BLOSSOM_TURN_URLS')
  const secret = env['BLOSSOM_TURN_SECRET']
  const ttl = env['BLOSSOM_TURN_TTL'] === undefined ? undefined : Number(env['BLOSSOM_TURN_TTL'])
  return { stun, turn, ...(secret ? { turnSecret: secret } : {}), ...(ttl === undefined ? {} : { ttlSeconds: ttl }) }
}

function checked(options: IceOptions): Required<IceOptions> {
  const ttlSeconds = options.ttlSeconds ?? DEFAULT_TURN_TTL_SECONDS
  if (!Number.isSafeInteger(ttlSeconds) || ttlSeconds < 60 || ttlSeconds > 7 * 24 * 3600) {
    throw new RangeError('TURN credential lifetime must be a whole number of seconds between 60 and 604800')
  }
  if (options.turn.length > 0 && !options.turnSecret) throw new RangeError('TURN URLs need BLOSSOM_TURN_SECRET (coturn\'s static-auth-secret)')
  if (options.turnSecret !== undefined && options.turnSecret.length < 16) throw new RangeError('BLOSSOM_TURN_SECRET is too short: use at least 16 random characters')
  return { stun: options.stun, turn: options.turn, turnSecret: options.turnSecret ?? '', ttlSeconds }
}

/** The answer for one phone, now. */
export function networkAnswer(options: IceOptions, now = Date.now()): NetworkAnswer {
  const { stun, turn, turnSecret, ttlSeconds } = checked(options)
  const iceServers: NetworkAnswer['iceServers'] = []
  if (stun.length > 0) iceServers.push({ urls: [...stun] })
  let expiresAt = now + ttlSeconds * 1000
  if (turn.length > 0) {
    const expiry = Math.floor(now / 1000) + ttlSeconds
    iceServers.push({ urls: [...turn], ...turnCredential(turnSecret, expiry, randomBytes(9).toString('base64url')) })
    expiresAt = expiry * 1000
  }
  return { iceServers, expiresAt }
}

export interface NetworkHandlerOptions {
  ice: IceOptions
  headers?: Readonly<Record<string, string>>
  sourceOf?: (request: IncomingMessage) => string
  /** Per source: burst and refill. Default 60, 2 per second (a phone asks a few times a day; a crowd behind one NAT shares it). */
  burst?: number
  perSecond?: number
}

/** Where phones ask (the app's own origin: its CSP allows no other). */
export const NETWORK_PATH = '/network'

export type NetworkHandler = (req: IncomingMessage, res: ServerResponse) => void

/** GET /network: this server's ICE servers for one phone. */
export function createNetworkHandler(options: NetworkHandlerOptions): NetworkHandler {
  checked(options.ice) // a bad configuration stops the server at start, not at a phone's request
  const headers = options.headers ?? {}
  const sourceOf = options.sourceOf ?? addressSource
  const budget = new SourceBudget(options.burst ?? 60, options.perSecond ?? 2)
  return (req, res) => {
    const send = (status: number, body: string, type: string, extra: Record<string, string> = {}): void => {
      res.writeHead(status, { ...headers, 'Content-Type': type, 'Cache-Control': 'no-store', ...extra })
      res.end(body)
    }
    if (req.method !== 'GET') return send(405, 'GET only\n', 'text/plain; charset=utf-8', { Allow: 'GET' })
    if (!budget.take(sourceOf(req))) return send(429, 'Too many requests\n', 'text/plain; charset=utf-8', { 'Retry-After': '30' })
    send(200, JSON.stringify(networkAnswer(options.ice)), 'application/json')
  }
}
