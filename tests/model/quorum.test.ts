// Marshals' quorum (issue 15, first part): a stage key split k of n, each share sealed to its
// marshal; k valid offers open the stage, fewer say nothing, forged or stale offers are refused.
// Real libsodium, the real shamir-secret-sharing library.
import { combine } from 'shamir-secret-sharing'
import { beforeAll, describe, expect, it } from 'vitest'
import { cryptoReady, newIdentity, publicPart, randomKey, type DeviceIdentity, type SecretKey } from '../../src/crypto'
import { newDocId } from '../../src/doc'
import { combineShares, makeShareOffer, mayOffer, QuorumError, readShareOffer, shareOf, splitStageKey, type SealedQuorum, type ShareOffer } from '../../src/model/quorum'
import { newStageId, openStage, sealStage } from '../../src/model/stage'

beforeAll(cryptoReady)

const briefId = () => newDocId()

async function setUp(k = 2, n = 3) {
  const brief = briefId()
  const stage = newStageId()
  const key = randomKey()
  const marshals = Array.from({ length: n }, () => newIdentity())
  const quorum = await splitStageKey(key, brief, stage, k, marshals.map(publicPart))
  const box = sealStage(key, brief, stage, { text: 'the old tram depot' })
  const offer = (m: DeviceIdentity, q: SealedQuorum = quorum): Uint8Array => makeShareOffer(brief, stage, shareOf(m, q, stage)!, m)
  const read = (bytes: Uint8Array, q: SealedQuorum = quorum): ShareOffer => readShareOffer(bytes, brief, (id) => (id === stage ? q : undefined))
  return { brief, stage, key, marshals, quorum, box, offer, read }
}

const problemOf = (f: () => unknown): string => {
  try {
    f()
    return 'accepted'
  } catch (e) {
    return e instanceof QuorumError ? e.problem : `raw ${String(e)}`
  }
}

describe('marshals’ quorum', () => {
  it('any 2 of 3 marshals open the stage; each marshal opens only its own share', async () => {
    const { brief, stage, key, marshals, quorum, box, offer, read } = await setUp(2, 3)
    for (const [a, b] of [
      [0, 1],
      [0, 2],
      [1, 2],
    ] as const) {
      const opened = await combineShares(quorum, [read(offer(marshals[a]!)), read(offer(marshals[b]!))])
      expect(opened).toEqual(key)
      expect(openStage(opened!, brief, stage, box).text).toBe('the old tram depot')
    }
    // A participant who is no marshal holds no share; a marshal cannot open another's box.
    expect(shareOf(newIdentity(), quorum, stage)).toBeUndefined()
    const swapped: SealedQuorum = { ...quorum, shares: quorum.shares.map((s, i) => ({ ...s, box: quorum.shares[(i + 1) % 3]!.box })) }
    expect(shareOf(marshals[0]!, swapped, stage)).toBeUndefined()
  })

  it('fewer than k marshals learn nothing: one share is consistent with every possible key', async () => {
    const { marshals, quorum, stage, key } = await setUp(2, 3)
    const share = shareOf(marshals[0]!, quorum, stage)!
    const otherX = shareOf(marshals[1]!, quorum, stage)!.at(-1)!
    // For a key chosen at random, craft the second share (byte by byte, using the library itself
    // as the field) that combines with the real first share into exactly that key.
    const target = randomKey()
    const crafted = new Uint8Array(33)
    crafted[32] = otherX
    for (let b = 0; b < 32; b++) {
      for (let v = 0; v < 256; v++) {
        crafted[b] = v
        if ((await combine([share, crafted]))[b] === target[b]) break
      }
    }
    expect(await combine([share, crafted])).toEqual(target)
    expect(target).not.toEqual(key)
    // And one marshal's offer alone opens nothing.
    const { marshals: m2, quorum: q2, offer, read } = await setUp(3, 5)
    expect(await combineShares(q2, [read(offer(m2[0]!)), read(offer(m2[1]!))])).toBeUndefined()
    // The same marshal twice counts once.
    expect(await combineShares(q2, [read(offer(m2[0]!)), read(offer(m2[0]!)), read(offer(m2[1]!))])).toBeUndefined()
  })

  it('forged, foreign, stale and malformed offers are refused with a reason, never thrown raw', async () => {
    const { brief, stage, key, marshals, quorum, offer, read } = await setUp(2, 3)
    const good = offer(marshals[0]!)
    expect(problemOf(() => read(good))).toBe('accepted')
    // A flipped bit anywhere in share or signature.
    for (const at of [20, good.length - 1]) {
      const bad = good.slice()
      bad[at]! ^= 1
      expect(problemOf(() => read(bad))).toMatch(/forged|wrong-share|not-marshal/)
    }
    // Someone who is no marshal signs a share of their own.
    const outsider = newIdentity()
    expect(problemOf(() => read(makeShareOffer(brief, stage, shareOf(marshals[0]!, quorum, stage)!, outsider)))).toBe('not-marshal')
    // A marshal signs a share that is not the one the core gave it (a lie, or another split).
    const lie = shareOf(marshals[0]!, quorum, stage)!.slice()
    lie[0]! ^= 0xff
    expect(problemOf(() => read(makeShareOffer(brief, stage, lie, marshals[0]!)))).toBe('wrong-share')
    // The same offer for another action's brief: the commitment (over the brief id) refuses it first.
    expect(problemOf(() => readShareOffer(good, briefId(), () => quorum))).toBe('wrong-share')
    // After a new version of the stage (a new key, a new split), old shares open nothing.
    const next = await splitStageKey(randomKey(), brief, stage, 2, marshals.map(publicPart))
    expect(problemOf(() => read(good, next))).toBe('wrong-share')
    expect(await combineShares(next, [read(offer(marshals[0]!, next), next), read(offer(marshals[1]!, next), next)])).not.toEqual(key)
    // Garbage of every length.
    for (const junk of [new Uint8Array(0), new Uint8Array(146), good.subarray(1), Uint8Array.of(9, ...good.subarray(1))]) {
      expect(problemOf(() => read(junk))).toMatch(/malformed|not-marshal|forged/)
    }
    expect(problemOf(() => read('nope' as unknown as Uint8Array))).toBe('malformed')
  })

  it('a quorum whose key id does not match opens nothing (the brief and the shares disagree)', async () => {
    const { marshals, quorum, offer, read } = await setUp(2, 2)
    const wrongId: SealedQuorum = { ...quorum, keyId: 'AAAAAAAAAAAAAAAA' }
    expect(await combineShares(wrongId, [read(offer(marshals[0]!)), read(offer(marshals[1]!))])).toBeUndefined()
  })

  it('refuses a quorum that cannot work', async () => {
    const ids = [newIdentity(), newIdentity()].map(publicPart)
    const key: SecretKey = randomKey()
    await expect(splitStageKey(key, briefId(), newStageId(), 1, ids)).rejects.toThrow(RangeError)
    await expect(splitStageKey(key, briefId(), newStageId(), 3, ids)).rejects.toThrow(RangeError)
  })

  it('a marshal offers only at go, or when the core said Go now', () => {
    const goAt = Date.UTC(2031, 4, 1, 12)
    expect(mayOffer(goAt, goAt - 1, false)).toBe(false)
    expect(mayOffer(goAt, goAt, false)).toBe(true)
    expect(mayOffer(undefined, goAt, false)).toBe(false)
    expect(mayOffer(goAt, goAt - 3600_000, true)).toBe(true)
  })
})
