// The STUN and TURN servers the app's server offers (src/server/ice.ts): without them two phones
// behind different NATs never meet over WebRTC and everything goes through the server relay.
// The TURN credential expires, so the phone asks again before it does. The server is not trusted
// with anything here: the answer is read strictly, and the worst a lying one does is offer a TURN
// server that sees the (DTLS-encrypted) traffic it relays, which any TURN server does.

/** How many ICE servers, URLs and characters an answer may hold; past them it is refused. */
const MAX_SERVERS = 8
const MAX_URLS = 8
const MAX_FIELD = 512
const ICE_URL = /^(stuns?|turns?):[^\s]+$/

/** Ask again this long before the credential expires, and never more often than every minute. */
const MIN_REFRESH_MS = 60_000
const RETRY_MS = [5_000, 30_000, 120_000, 600_000]

export interface NetworkOffer {
  readonly iceServers: readonly RTCIceServer[]
  /** When its TURN credential expires (ms since the epoch). */
  readonly expiresAt: number
}

function field(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_FIELD ? value : undefined
}

/** The server's answer, or undefined if it is not one (a wrong shape costs only the offer). */
export function readNetworkOffer(json: unknown): NetworkOffer | undefined {
  if (typeof json !== 'object' || json === null) return undefined
  const { iceServers, expiresAt } = json as { iceServers?: unknown; expiresAt?: unknown }
  if (!Array.isArray(iceServers) || iceServers.length > MAX_SERVERS) return undefined
  if (typeof expiresAt !== 'number' || !Number.isSafeInteger(expiresAt)) return undefined
  const servers: RTCIceServer[] = []
  for (const s of iceServers as unknown[]) {
    if (typeof s !== 'object' || s === null) return undefined
    const { urls, username, credential } = s as { urls?: unknown; username?: unknown; credential?: unknown }
    const list = typeof urls === 'string' ? [urls] : urls
    if (!Array.isArray(list) || list.length === 0 || list.length > MAX_URLS) return undefined
    if (!list.every((u): u is string => field(u) !== undefined && ICE_URL.test(u as string))) return undefined
    const user = field(username)
    const secret = field(credential)
    if ((username !== undefined && user === undefined) || (credential !== undefined && secret === undefined)) return undefined
    servers.push({ urls: [...list], ...(user !== undefined ? { username: user } : {}), ...(secret !== undefined ? { credential: secret } : {}) })
  }
  return { iceServers: servers, expiresAt }
}

/**
 * The server's ICE servers, kept fresh: asks at start, again at half the credential's life, and
 * after a failure with growing waits. `servers` is what new WebRTC connections use now.
 */
export class ServerIce {
  private offer: NetworkOffer | undefined
  private timer: ReturnType<typeof setTimeout> | undefined
  private failures = 0
  private stopped = false

  constructor(
    private readonly url: string,
    private readonly fetchFn: typeof fetch = (...a) => fetch(...a),
    private readonly now: () => number = Date.now,
  ) {}

  /** The servers of a credential that has not expired (none before the first answer). */
  get servers(): readonly RTCIceServer[] {
    return this.offer && this.offer.expiresAt > this.now() ? this.offer.iceServers : []
  }

  start(): void {
    this.stopped = false
    void this.ask()
  }

  stop(): void {
    this.stopped = true
    clearTimeout(this.timer)
  }

  /** Asks the server now; resolves once the answer is read (or refused). */
  async ask(): Promise<void> {
    clearTimeout(this.timer)
    let offer: NetworkOffer | undefined
    try {
      const res = await this.fetchFn(this.url, { cache: 'no-store', credentials: 'omit', referrerPolicy: 'no-referrer' })
      if (res.ok) offer = readNetworkOffer(await res.json())
    } catch {
      offer = undefined // offline, or the server has no /network: phones still meet on one network
    }
    if (this.stopped) return
    if (offer) {
      this.offer = offer
      this.failures = 0
      this.later(Math.max(MIN_REFRESH_MS, (offer.expiresAt - this.now()) / 2))
    } else {
      this.later(RETRY_MS[Math.min(this.failures++, RETRY_MS.length - 1)]!)
    }
  }

  private later(ms: number): void {
    // Timers past 2^31 ms fire at once; a credential that long-lived is asked for again daily.
    this.timer = setTimeout(() => void this.ask(), Math.min(ms, 24 * 3600_000))
  }
}
