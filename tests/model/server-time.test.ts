// The server's time as a marshal's phone hears it (src/model/server-time.ts): what a server sends
// over its socket is outside input, and "a server answered since" decides when a marshal's offer may
// go out (without-core.ts). A socket here is a stand-in the test drives, message by message, as the
// server (honest or not) would.
import { describe, expect, it } from 'vitest'
import { ServerTime } from '../../src/model/server-time'
import type { SignalingSocket } from '../../src/transport'

function socket(url: string) {
  const listeners = { message: new Set<(m: unknown) => void>(), connect: new Set<() => void>(), disconnect: new Set<() => void>() }
  const sent: object[] = []
  const s = {
    url,
    connected: true,
    send: (m: object) => void sent.push(m),
    on: (event: 'connect' | 'disconnect' | 'message', f: (m?: unknown) => void) => void listeners[event].add(f),
    off: (event: 'connect' | 'disconnect' | 'message', f: (m?: unknown) => void) => void listeners[event].delete(f),
  } as SignalingSocket
  return { s, sent, say: (m: unknown) => listeners.message.forEach((f) => f(m)) }
}

describe('the server’s time', () => {
  it('ignores pongs that are not one (wrong type, no number, not finite, a day off), and counts a valid one', () => {
    const a = socket('ws://127.0.0.1:1/signal?a')
    let changes = 0
    const time = new ServerTime(() => changes++)
    time.start([a.s])
    expect(a.sent).toEqual([{ type: 'ping' }])
    const mark = time.mark()
    for (const junk of [null, 'pong', 42, { type: 'pong' }, { type: 'pong', now: 'soon' }, { type: 'pong', now: Number.NaN }, { type: 'pong', now: Number.POSITIVE_INFINITY }, { type: 'pong', now: Date.now() + 2 * 86_400_000 }, { type: 'ping', now: Date.now() }]) {
      a.say(junk)
    }
    expect(changes).toBe(0)
    expect(time.now()).toBeUndefined()
    expect(time.answeredSince(mark)).toBe(false)
    a.say({ type: 'pong', now: Date.now() })
    expect(changes).toBe(1)
    expect(time.now()).toBeDefined()
    expect(time.answeredSince(mark)).toBe(true)
    time.stop()
  })

  it('a pong counts as an answer since a mark only if it came later and its stamp is not earlier by that server’s own clock', async () => {
    const a = socket('ws://127.0.0.1:1/signal?a')
    const b = socket('ws://127.0.0.1:2/signal?b')
    const time = new ServerTime()
    time.start([a.s, b.s])
    const t0 = Date.now()
    a.say({ type: 'pong', now: t0 })
    b.say({ type: 'pong', now: t0 - 60_000 }) // a server a minute slow: compared only with itself
    await new Promise((r) => setTimeout(r, 20))
    const mark = time.mark()
    expect(time.answeredSince(mark)).toBe(false)
    // A pong that was on its way before the mark (stamped earlier by its server) says nothing.
    a.say({ type: 'pong', now: t0 + 1 })
    expect(time.answeredSince(mark)).toBe(false)
    // The slow server's fresh pong is later by its own clock, though behind the other's: it counts.
    await new Promise((r) => setTimeout(r, 5))
    b.say({ type: 'pong', now: Date.now() - 60_000 })
    expect(time.answeredSince(mark)).toBe(true)
    time.stop()
  })
})
