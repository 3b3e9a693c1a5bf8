// Records what the signaling server receives, from the raw TCP bytes of every
// upgraded connection: WebSocket frames are parsed and unmasked here, so the
// recorder sees exactly what crossed the wire, with no hook inside the server.
import type { Server } from 'node:http'
import type { Duplex } from 'node:stream'

export class Wiretap {
  /** Every text or binary payload clients sent, unmasked. */
  readonly payloads: Buffer[] = []
  /** The same payloads, per connection, in arrival order. */
  readonly connections: Buffer[][] = []
  private readonly pending = new Map<Duplex, Buffer>()
  private readonly perSocket = new Map<Duplex, Buffer[]>()

  constructor(server: Server) {
    // Listeners run in order: this one is added before the signaling server's only if
    // prepended, and it must see the socket before ws takes it over.
    server.prependListener('upgrade', (_req, socket: Duplex, head: Buffer) => {
      this.pending.set(socket, Buffer.from(head))
      const mine: Buffer[] = []
      this.perSocket.set(socket, mine)
      this.connections.push(mine)
      this.drain(socket)
      socket.on('data', (chunk: Buffer) => {
        this.pending.set(socket, Buffer.concat([this.pending.get(socket) ?? Buffer.alloc(0), chunk]))
        this.drain(socket)
      })
      socket.on('close', () => this.pending.delete(socket))
    })
  }

  /** Everything recorded, as one buffer to search. */
  all(): Buffer {
    return Buffer.concat(this.payloads)
  }

  /** Topics each connection subscribed to. */
  subscriptions(): Set<string>[] {
    return this.connections.map((payloads) => {
      const topics = new Set<string>()
      for (const p of payloads) {
        try {
          const m = JSON.parse(p.toString('utf8')) as { type?: string; topics?: string[] }
          if (m.type === 'subscribe') for (const t of m.topics ?? []) topics.add(t)
        } catch {
          // not JSON (a control frame)
        }
      }
      return topics
    })
  }

  text(): string {
    return this.payloads.map((p) => p.toString('utf8')).join('\n')
  }

  private drain(socket: Duplex): void {
    let buf = this.pending.get(socket)!
    for (;;) {
      if (buf.length < 2) break
      const masked = (buf[1]! & 0x80) !== 0
      let length = buf[1]! & 0x7f
      let at = 2
      if (length === 126) {
        if (buf.length < 4) break
        length = buf.readUInt16BE(2)
        at = 4
      } else if (length === 127) {
        if (buf.length < 10) break
        length = Number(buf.readBigUInt64BE(2))
        at = 10
      }
      const maskAt = at
      if (masked) at += 4
      if (buf.length < at + length) break
      const payload = Buffer.from(buf.subarray(at, at + length))
      if (masked) for (let i = 0; i < payload.length; i++) payload[i]! ^= buf[maskAt + (i % 4)]!
      this.payloads.push(payload)
      this.perSocket.get(socket)?.push(payload)
      buf = buf.subarray(at + length)
    }
    this.pending.set(socket, buf)
  }
}
