// GoClock's rule, alone: which time a core phone releases by, given what its references say.
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { applyAwarenessUpdate, Awareness, encodeAwarenessUpdate } from 'y-protocols/awareness'
import { randomKey } from '../../src/crypto'
import { CLOCK_TOLERANCE_MS, GoClock } from '../../src/model/clock'

function clockAt(local: number): { clock: GoClock; set: (t: number) => void } {
  const clock = new GoClock()
  let now = local
  clock.local = () => now
  return { clock, set: (t) => void (now = t) }
}

describe('go clock', () => {
  it('with no reference it confirms nothing and releases nothing by itself', () => {
    const { clock } = clockAt(1_000_000)
    expect(clock.verdict()).toEqual({ kind: 'unconfirmed' })
    expect(clock.releaseNow()).toBeUndefined()
  })

  it('within tolerance it goes by its own clock', () => {
    const { clock } = clockAt(1_000_000)
    clock.record('server', 1_000_000 + CLOCK_TOLERANCE_MS)
    expect(clock.verdict()).toEqual({ kind: 'agrees' })
    expect(clock.releaseNow()).toBe(1_000_000)
  })

  it('ahead of the server and the other core phones, it goes by the slowest of them, never earlier', () => {
    const { clock } = clockAt(10_000_000)
    clock.record('server', 10_000_000 - 600_000)
    clock.record('core:a', 10_000_000 - 590_000)
    clock.record('core:b', 10_000_000 + 5_000_000) // a reference far ahead does not hurry it
    expect(clock.verdict()).toEqual({ kind: 'off', byMs: 600_000 })
    expect(clock.releaseNow()).toBe(10_000_000 - 600_000)
  })

  it('a fake tower that pushed several core phones forward together: one honest reference holds them all back', () => {
    for (const pushedPeers of [1, 2, 5]) {
      const { clock } = clockAt(10_000_000) // pushed ten minutes, like its peers
      for (let i = 0; i < pushedPeers; i++) clock.record(`core:${i}`, 10_000_000)
      clock.record('server', 10_000_000 - 600_000)
      expect(clock.releaseNow(), `${pushedPeers} pushed peers`).toBe(10_000_000 - 600_000)
      expect(clock.verdict()).toEqual({ kind: 'off', byMs: 600_000 })
    }
  })

  it('ignores a reference more than a day off (broken or lying), rather than holding for ever', () => {
    const { clock } = clockAt(10_000_000_000)
    clock.record('server', 0)
    expect(clock.verdict()).toEqual({ kind: 'unconfirmed' })
    clock.record('core:a', 10_000_000_000 + 1000)
    expect(clock.releaseNow()).toBe(10_000_000_000)
  })

  it('behind its references, it still never releases before its own clock says so', () => {
    const { clock } = clockAt(10_000_000)
    clock.record('server', 10_000_000 + 600_000)
    expect(clock.verdict()).toEqual({ kind: 'off', byMs: -600_000 })
    expect(clock.releaseNow()).toBe(10_000_000)
  })

  it('a clock pushed forward after the last reference makes every reference stale: unconfirmed, not early', () => {
    const { clock, set } = clockAt(10_000_000)
    clock.record('server', 10_000_000)
    expect(clock.releaseNow()).toBe(10_000_000)
    set(10_000_000 + 600_000)
    expect(clock.verdict()).toEqual({ kind: 'unconfirmed' })
    expect(clock.releaseNow()).toBeUndefined()
    set(10_000_000 - 600_000) // pushed back: a reference "from the future" does not count either
    expect(clock.releaseNow()).toBeUndefined()
  })

  it('keeps a bounded number of sources, and always a place for the server', () => {
    const { clock } = clockAt(10_000_000)
    for (let i = 0; i < 100; i++) clock.record(`core:${i}`, 10_000_000 + 3_600_000)
    expect((clock as unknown as { samples: Map<string, unknown> }).samples.size).toBe(32)
    clock.record('server', 10_000_000 - 600_000)
    expect((clock as unknown as { samples: Map<string, unknown> }).samples.size).toBe(32)
    expect(clock.releaseNow()).toBe(10_000_000 - 600_000)
  })

  it('makes room for new references by dropping stale ones', () => {
    const { clock, set } = clockAt(10_000_000)
    for (let i = 0; i < 32; i++) clock.record(`core:${i}`, 10_000_000)
    set(10_000_000 + 4 * 60_000) // all stale now
    clock.record('core:new', 10_000_000 + 4 * 60_000)
    expect(clock.verdict()).toEqual({ kind: 'agrees' })
  })

  it('hears the other core phones over the mesh (awareness) when the server is out of reach', async () => {
    // Two core phones' awareness, joined as their WebRTC mesh would join them; no signaling socket at all.
    const [a, b] = [new Awareness(new Y.Doc()), new Awareness(new Y.Doc())]
    for (const [from, to] of [[a, b], [b, a]] as const) {
      from.on('update', ({ added, updated, removed }: { added: number[]; updated: number[]; removed: number[] }) =>
        applyAwarenessUpdate(to, encodeAwarenessUpdate(from, [...added, ...updated, ...removed]), 'mesh'),
      )
    }
    const key = randomKey()
    const pushed = new GoClock()
    pushed.local = () => Date.now() + 10 * 60_000 // a fake tower set this one
    const honest = new GoClock()
    pushed.start(key, [], a)
    honest.start(key, [], b)
    try {
      expect(pushed.verdict()).toMatchObject({ kind: 'off' })
      expect((pushed.verdict() as { byMs: number }).byMs).toBeGreaterThan(9 * 60_000)
      expect(Math.abs(pushed.releaseNow()! - Date.now())).toBeLessThan(CLOCK_TOLERANCE_MS)
      expect(honest.verdict()).toMatchObject({ kind: 'off' }) // it sees a peer ten minutes ahead
      expect(honest.releaseNow()).toBeLessThanOrEqual(Date.now() + 5)
    } finally {
      pushed.stop()
      honest.stop()
    }
  })

  it('does not take another tab of the same phone for another core phone', () => {
    const [a, b] = [new Awareness(new Y.Doc()), new Awareness(new Y.Doc())]
    for (const [from, to] of [[a, b], [b, a]] as const) {
      from.on('update', ({ added, updated, removed }: { added: number[]; updated: number[]; removed: number[] }) =>
        applyAwarenessUpdate(to, encodeAwarenessUpdate(from, [...added, ...updated, ...removed]), 'tab'),
      )
    }
    const key = randomKey()
    const [tab1, tab2] = [new GoClock(), new GoClock()]
    for (const tab of [tab1, tab2]) tab.local = () => Date.now() + 10 * 60_000 // one phone, one pushed clock
    tab1.start(key, [], a, 'the same core identity')
    tab2.start(key, [], b, 'the same core identity')
    try {
      expect(tab1.verdict()).toEqual({ kind: 'unconfirmed' })
      expect(tab1.releaseNow()).toBeUndefined()
    } finally {
      tab1.stop()
      tab2.stop()
    }
  })
})

