// The drand proxy at /drand: phones may connect to their own origin only (the release's CSP,
// connect-src 'self'), so the app server fetches drand beacons for them from public drand HTTP
// relays. It forwards three GETs and nothing else:
//
//   /drand/{chain hash}/info            /drand/{chain hash}/public/latest            /drand/{chain hash}/public/{round}
//
// and answers one itself: /drand/chain names the chain this server's relays serve (BLOSSOM_DRAND_CHAIN,
// default drand's quicknet), for a core phone arming a time lock. A phone takes quicknet from its
// own code; any other chain it is told of is shown to the core as one this server names, to decide on.
//
// It never needs to be trusted: phones verify every beacon against the chain's public key, which
// the app carries (src/model/timelock.ts). So it only checks shapes: an answer is re-serialized from
// the fields drand defines, anything else is dropped. Relays are tried in order, each with a
// timeout and a size limit; answers are kept in a small cache (a past round for five minutes: it
// never changes, but the proxy does not check signatures, so a relay's lie must not outlive it for
// long; latest for a quarter second, info for an hour), and one request at a time goes upstream per path (a
// crowd asking for the same beacon at go costs one upstream request). A per-source token bucket bounds what one
// address can make the server do; it is generous, as a crowd behind one carrier NAT shares it.
// Nothing is logged.
import { createHash } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { SourceBudget } from './bucket'
import { addressSource } from './signaling'

export interface DrandProxyOptions {
  /** drand HTTP relays, tried in order. Default DEFAULT_DRAND_URLS. */
  upstreams?: readonly string[]
  /** Added to every response (the release's security headers). */
  headers?: Readonly<Record<string, string>>
  /** Per upstream request. Default 3 s. */
  timeoutMs?: number
  /** Largest upstream answer read. Default 16 KiB. */
  maxResponseBytes?: number
  /** Past rounds kept (each for ROUND_MS). Default 256. */
  cacheRounds?: number
  /** Per source: burst and refill. Default 120, 30 per second (a crowd behind one carrier NAT is one source). */
  burst?: number
  perSecond?: number
  /** Who a request comes from (behind a proxy: the address it forwards). */
  sourceOf?: (request: IncomingMessage) => string
  /** The chain hash /drand/chain names. Default quicknet's. */
  chain?: string
  /** For tests. */
  fetch?: typeof fetch
  now?: () => number
}

/** drand's quicknet (src/model/timelock.ts QUICKNET). */
export const QUICKNET_HASH = '52db9ba70e0cc0f6eaf7803dd07447a1f5477735fd3f661792ba94600c84e971'

export const DEFAULT_DRAND_URLS: readonly string[] = ['https://api.drand.sh', 'https://drand.cloudflare.com']

/** BLOSSOM_DRAND_URLS: comma-separated http(s) base URLs; empty or unset gives the defaults. */
export function drandUrlsFromEnv(value: string | undefined): readonly string[] {
  const urls = (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
  for (const url of urls) {
    let parsed: URL
    try {
      parsed = new URL(url)
    } catch {
      throw new RangeError(`BLOSSOM_DRAND_URLS: not a URL: ${url}`)
    }
    if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw new RangeError(`BLOSSOM_DRAND_URLS: not http(s): ${url}`)
  }
  return urls.length > 0 ? urls : DEFAULT_DRAND_URLS
}

export type DrandHandler = ((req: IncomingMessage, res: ServerResponse) => void) & {
  readonly stats: () => { readonly upstreamRequests: number; readonly cachedRounds: number; readonly limited: number }
}

const PATH = /^\/drand\/([0-9a-f]{64})\/(info|public\/latest|public\/([1-9][0-9]{0,15}))$/
const HEX = /^[0-9a-f]+$/
// Short: at go a crowd asks for latest until it names the round; a stale answer costs each of them a retry.
const LATEST_MS = 250
const ROUND_MS = 300_000
const INFO_MS = 3_600_000

type Answer = { readonly status: 200; readonly body: string } | { readonly status: 404 | 502; readonly body?: undefined }

const isHex = (v: unknown, bytes?: number): v is string => typeof v === 'string' && HEX.test(v) && v.length % 2 === 0 && (bytes === undefined || v.length === 2 * bytes) && v.length <= 1024

/** The beacon's drand fields, re-serialized; undefined if it is not one (or not the round asked for). */
function beaconBody(json: unknown, round: number | undefined): string | undefined {
  if (typeof json !== 'object' || json === null) return undefined
  const { round: r, randomness, signature, previous_signature: previous } = json as Record<string, unknown>
  if (typeof r !== 'number' || !Number.isSafeInteger(r) || r < 1 || (round !== undefined && r !== round)) return undefined
  if (!isHex(randomness, 32) || !isHex(signature) || (previous !== undefined && !isHex(previous))) return undefined
  // drand's randomness is sha256 of the signature: a cheap sign of a garbled answer (phones check the signature).
  if (createHash('sha256').update(Buffer.from(signature, 'hex')).digest('hex') !== randomness) return undefined
  return JSON.stringify({ round: r, randomness, signature, ...(previous !== undefined ? { previous_signature: previous } : {}) })
}

function infoBody(json: unknown, hash: string): string | undefined {
  if (typeof json !== 'object' || json === null) return undefined
  const j = json as Record<string, unknown>
  const metadata = j['metadata']
  const beaconId = typeof metadata === 'object' && metadata !== null ? (metadata as Record<string, unknown>)['beaconID'] : undefined
  const { public_key: publicKey, period, genesis_time: genesisTime, groupHash, schemeID } = j
  if (j['hash'] !== hash || !isHex(publicKey) || !isHex(groupHash, 32) || typeof schemeID !== 'string' || schemeID.length > 64) return undefined
  if (typeof period !== 'number' || typeof genesisTime !== 'number' || (beaconId !== undefined && (typeof beaconId !== 'string' || beaconId.length > 64))) return undefined
  return JSON.stringify({
    public_key: publicKey,
    period,
    genesis_time: genesisTime,
    hash,
    groupHash,
    schemeID,
    ...(beaconId !== undefined ? { metadata: { beaconID: beaconId } } : {}),
  })
}

export function createDrandHandler(options: DrandProxyOptions = {}): DrandHandler {
  const upstreams = (options.upstreams ?? DEFAULT_DRAND_URLS).map((u) => u.replace(/\/+$/, ''))
  const headers = options.headers ?? {}
  const timeoutMs = options.timeoutMs ?? 3_000
  const maxBytes = options.maxResponseBytes ?? 16 * 1024
  const cacheRounds = options.cacheRounds ?? 256
  const burst = options.burst ?? 120
  const perSecond = options.perSecond ?? 30
  const sourceOf = options.sourceOf ?? addressSource
  const fetchFn = options.fetch ?? fetch
  const chain = options.chain ?? QUICKNET_HASH
  if (!/^[0-9a-f]{64}$/.test(chain)) throw new RangeError('drand proxy: the chain must be a chain hash, 64 lowercase hex digits')
  const now = options.now ?? Date.now
  for (const [name, v] of Object.entries({ timeoutMs, maxBytes, cacheRounds, burst, perSecond })) {
    if (!Number.isFinite(v) || v <= 0) throw new RangeError(`drand proxy: ${name} must be a positive number`)
  }

  const budget = new SourceBudget(burst, perSecond)
  /** Past rounds by path, oldest first (a Map keeps insertion order), with when they expire. */
  const rounds = new Map<string, { body: string; until: number }>()
  /** latest and info by path, with when they expire. */
  const fresh = new Map<string, { body: string; until: number }>()
  const inFlight = new Map<string, Promise<Answer>>()
  let upstreamRequests = 0
  let limited = 0

  /** One upstream's answer: its body (within the size limit), 'missing' (404/425), or 'failed'. */
  async function ask(base: string, path: string): Promise<unknown> {
    upstreamRequests++
    const controller = new AbortController()
    const timer = setTimeout(() => controller.abort(), timeoutMs)
    try {
      const response = await fetchFn(base + path, { signal: controller.signal, redirect: 'error', headers: { Accept: 'application/json' } })
      if (response.status === 404 || response.status === 425) {
        await response.body?.cancel().catch(() => undefined)
        return 'missing'
      }
      const length = Number(response.headers.get('content-length') ?? '0')
      if (!response.ok || !response.body || length > maxBytes) {
        await response.body?.cancel().catch(() => undefined)
        return 'failed'
      }
      const reader = response.body.getReader()
      const parts: Uint8Array[] = []
      let size = 0
      for (;;) {
        const { done, value } = await reader.read()
        if (done) break
        size += value.length
        if (size > maxBytes) {
          await reader.cancel().catch(() => undefined)
          return 'failed'
        }
        parts.push(value)
      }
      return { json: JSON.parse(Buffer.concat(parts).toString('utf8')) as unknown }
    } catch {
      return 'failed'
    } finally {
      clearTimeout(timer)
    }
  }

  /** Tries each relay in order; the first valid answer wins. 404 if a relay said the round is not out and none had it. */
  async function upstream(path: string, read: (json: unknown) => string | undefined): Promise<Answer> {
    let missing = false
    for (const base of upstreams) {
      const got = await ask(base, path)
      if (got === 'missing') missing = true
      if (typeof got !== 'object' || got === null) continue
      const body = read((got as { json: unknown }).json)
      if (body !== undefined) return { status: 200, body }
    }
    return missing ? { status: 404 } : { status: 502 }
  }

  async function answer(hash: string, kind: string, round: number | undefined): Promise<Answer> {
    const path = `/${hash}/${kind}`
    const cached = (round !== undefined ? rounds : fresh).get(path)
    if (cached !== undefined && cached.until > now()) return { status: 200, body: cached.body }
    const pending = inFlight.get(path)
    if (pending) return pending
    const read = kind === 'info' ? (j: unknown) => infoBody(j, hash) : (j: unknown) => beaconBody(j, round)
    const p = upstream(path, read).then((a) => {
      if (a.status === 200) {
        if (round !== undefined) {
          rounds.delete(path)
          rounds.set(path, { body: a.body, until: now() + ROUND_MS })
          while (rounds.size > cacheRounds) rounds.delete(rounds.keys().next().value!)
        } else {
          if (fresh.size > 64) fresh.clear()
          fresh.set(path, { body: a.body, until: now() + (kind === 'info' ? INFO_MS : LATEST_MS) })
        }
      }
      return a
    })
    inFlight.set(path, p)
    try {
      return await p
    } finally {
      inFlight.delete(path)
    }
  }

  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const send = (status: number, body: string, type = 'text/plain; charset=utf-8', extra: Record<string, string> = {}): void => {
      if (res.headersSent) return
      res.writeHead(status, { ...headers, 'Content-Type': type, 'Cache-Control': 'no-store', ...extra })
      res.end(body)
    }
    if (req.method !== 'GET') return send(405, 'GET only\n', undefined, { Allow: 'GET' })
    if ((req.url ?? '/').split('?', 1)[0] === '/drand/chain') return send(200, JSON.stringify({ hash: chain }), 'application/json')
    const m = PATH.exec((req.url ?? '/').split('?', 1)[0] ?? '')
    if (!m) return send(400, 'Not a drand beacon request\n')
    const round = m[3] === undefined ? undefined : Number(m[3])
    if (round !== undefined && !Number.isSafeInteger(round)) return send(400, 'Not a drand beacon request\n')
    if (!budget.take(sourceOf(req))) {
      limited++
      return send(429, 'Too many requests\n', undefined, { 'Retry-After': '1' })
    }
    answer(m[1]!, m[2]!, round).then(
      (a) => (a.status === 200 ? send(200, a.body, 'application/json') : send(a.status, a.status === 404 ? 'No such beacon yet\n' : 'No drand relay answered\n')),
      () => send(502, 'No drand relay answered\n'),
    )
  }
  return Object.assign(handler, { stats: () => ({ upstreamRequests, cachedRounds: rounds.size, limited }) })
}
