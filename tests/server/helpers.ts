// Test helpers: a real signaling server on 127.0.0.1 with port 0, and real ws clients.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { WebSocket, type ClientOptions } from 'ws'
import { createSignalingServer, type SignalingServer, type SignalingServerOptions } from '../../src/server/signaling'

export const WAIT_MS = 5_000

export interface Closed {
  code: number
  reason: string
}

export interface Harness {
  url: string
  http: Server
  signaling: SignalingServer
  stop(): Promise<void>
}

export async function startSignaling(options: Omit<SignalingServerOptions, 'server'> = {}, port = 0): Promise<Harness> {
  const http = createServer((_req, res) => {
    res.writeHead(404)
    res.end()
  })
  // In the test process, the event loop also runs every test phone: its lag is not the server's
  // load, so overload shedding is off unless a test asks for it (tests/server/overload.test.ts).
  const signaling = createSignalingServer({ overloadLagMs: 60_000, ...options, server: http })
  await new Promise<void>((resolve) => http.listen(port, '127.0.0.1', resolve))
  const bound = (http.address() as AddressInfo).port
  return {
    url: `ws://127.0.0.1:${bound}/signal`,
    http,
    signaling,
    async stop() {
      await signaling.close()
      http.closeAllConnections()
      await new Promise<void>((resolve) => http.close(() => resolve()))
    },
  }
}

/** Bounded wait for a condition that is driven by events we cannot await directly. */
export async function waitFor(condition: () => boolean, what: string, timeoutMs = WAIT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 5))
  }
}

export type Json = Record<string, unknown>

/** A ws client that queues the JSON messages it receives. */
export class Client {
  readonly socket: WebSocket
  readonly opened: Promise<void>
  readonly closed: Promise<Closed>
  private readonly queue: Json[] = []
  private waiter: (() => void) | undefined
  private closeInfo: Closed | undefined

  constructor(url: string, options: ClientOptions = {}) {
    this.socket = new WebSocket(url, options)
    this.socket.on('error', () => {}) // failures show up as close codes
    this.opened = new Promise((resolve, reject) => {
      this.socket.once('open', () => resolve())
      this.socket.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)))
      this.socket.once('close', () => reject(new Error('closed before open')))
    })
    this.opened.catch(() => {})
    this.closed = new Promise((resolve) => {
      this.socket.once('close', (code, reason) => {
        this.closeInfo = { code, reason: reason.toString() }
        resolve(this.closeInfo)
        this.waiter?.()
      })
    })
    this.socket.on('message', (data, isBinary) => {
      if (isBinary) throw new Error('server sent a binary frame')
      this.queue.push(JSON.parse(data.toString()) as Json)
      this.waiter?.()
    })
  }

  static async open(url: string, options?: ClientOptions): Promise<Client> {
    const c = new Client(url, options)
    await c.opened
    return c
  }

  get isOpen(): boolean {
    return this.socket.readyState === WebSocket.OPEN
  }

  /** Messages received so far and not yet taken. */
  get pending(): readonly Json[] {
    return this.queue
  }

  send(message: unknown): void {
    this.socket.send(JSON.stringify(message))
  }

  sendRaw(data: string | Buffer, binary = false): void {
    this.socket.send(data, { binary })
  }

  /** The first queued message matching `match`, waiting for it; other messages stay queued in order. */
  async take(match: (m: Json) => boolean = () => true, timeoutMs = WAIT_MS): Promise<Json> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const i = this.queue.findIndex(match)
      if (i >= 0) return this.queue.splice(i, 1)[0] as Json
      if (this.closeInfo) throw new Error(`closed (${this.closeInfo.code}) while waiting for a message`)
      const left = deadline - Date.now()
      if (left <= 0) throw new Error('timed out waiting for a message')
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left)
        this.waiter = () => {
          clearTimeout(timer)
          resolve()
        }
      })
      this.waiter = undefined
    }
  }

  next(timeoutMs = WAIT_MS): Promise<Json> {
    return this.take(() => true, timeoutMs)
  }

  /** Round trip through the server: everything sent before has been processed when this resolves. */
  async sync(): Promise<void> {
    this.send({ type: 'ping' })
    await this.take((m) => m['type'] === 'pong')
  }

  async subscribe(topics: string[], peers?: Record<string, string>): Promise<void> {
    this.send(peers ? { type: 'subscribe', topics, peers } : { type: 'subscribe', topics })
    await this.sync()
  }

  async closedWithin(timeoutMs = WAIT_MS): Promise<Closed> {
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('timed out waiting for close')), timeoutMs)
    })
    try {
      return await Promise.race([this.closed, timeout])
    } finally {
      clearTimeout(timer)
    }
  }

  close(): void {
    this.socket.close()
  }
}

/** Two clients in one topic; `check()` asserts that a publish from one reaches the other. */
export class HealthyPair {
  private round = 0

  private constructor(
    readonly a: Client,
    readonly b: Client,
    readonly topic: string,
  ) {}

  static async open(url: string, topic = 'healthy-topic'): Promise<HealthyPair> {
    const a = await Client.open(url)
    const b = await Client.open(url)
    await a.subscribe([topic])
    await b.subscribe([topic])
    return new HealthyPair(a, b, topic)
  }

  async check(): Promise<void> {
    this.round++
    const data = `still-serving-${this.round}`
    this.a.send({ type: 'publish', topic: this.topic, data })
    const got = await this.b.next()
    if (got['data'] !== data || got['topic'] !== this.topic) {
      throw new Error(`healthy client got ${JSON.stringify(got)}`)
    }
    // and a brand-new connection is still accepted and served
    const c = await Client.open(this.a.socket.url)
    await c.sync()
    c.close()
  }

  close(): void {
    this.a.close()
    this.b.close()
  }
}
