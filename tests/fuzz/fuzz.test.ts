// A short pass of every fuzz target (tests/fuzz/targets.ts) in CI; `npm run fuzz` runs them long.
import { describe, expect, it } from 'vitest'
import { bytesOrMutated, mutated, onlyTyped, target, targets } from './targets'

const RUNS = 300

describe('fuzz, short pass', () => {
  for (const target of targets) {
    it(`${target.name}: ${RUNS} cases`, () => target.run(RUNS), 60_000)
  }
})

describe('the fuzz harness', () => {
  it('reports a decoder that lets a raw error escape, with the input that did it', async () => {
    const broken = target('broken decoder', () => ({
      arbitrary: bytesOrMutated(Uint8Array.of(1, 2, 3, 4)),
      check: (bytes: Uint8Array) =>
        void onlyTyped(() => {
          if (bytes.length > 4) throw new TypeError('read past the end')
        }),
    }))
    await expect(broken.run(200)).rejects.toThrow(/Counterexample/)
  })

  it('finds a changed byte in a valid input', async () => {
    const valid = Uint8Array.of(9, 9, 9, 9, 9, 9, 9, 9)
    const changed = target('mutations change the input', () => ({
      arbitrary: mutated(valid),
      check: (bytes: Uint8Array) => {
        if (bytes.length === valid.length && bytes.every((b, i) => b === valid[i])) throw new Error('unchanged')
      },
    }))
    await changed.run(500)
  })
})
