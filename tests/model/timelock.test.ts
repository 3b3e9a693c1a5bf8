// Timelock (issue 15, second part): a stage key encrypted to a drand round with the real tlock-js,
// opened with real BLS beacons from a test chain (tests/support/test-beacon.ts, 127.0.0.1 only).
// Nothing opens before its round's beacon exists; forged, other-round and moved boxes are refused.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cryptoReady, randomKey } from '../../src/crypto'
import { newDocId } from '../../src/doc'
import { newStageId } from '../../src/model/stage'
import {
  beaconMessage,
  chainFromInfo,
  chainHashOf,
  fetchBeacon,
  openTimelock,
  QUICKNET,
  readBeaconMessage,
  roundAt,
  roundTime,
  timelockStageKey,
  TimelockError,
  verifyBeacon,
  type Beacon,
  type SealedTimelock,
} from '../../src/model/timelock'
import { startTestBeacon, type TestBeacon } from '../support/test-beacon'

let tb: TestBeacon
beforeAll(async () => {
  await cryptoReady()
  tb = await startTestBeacon()
})
afterAll(() => tb.close())

const problemOf = async (f: () => Promise<unknown>): Promise<string> => {
  try {
    await f()
    return 'accepted'
  } catch (e) {
    return e instanceof TimelockError ? e.problem : `raw ${String(e)}`
  }
}

/** A beacon as a phone gets it: from the test chain's HTTP API, if published. */
const served = (round: number): Promise<Beacon | undefined> => fetchBeacon(tb.url, tb.chain, round)

describe('rounds', () => {
  it('roundAt never picks a round published before go, and picks the first one at or after it', () => {
    const c = tb.chain
    for (const goAt of [c.genesisTime * 1000, c.genesisTime * 1000 + 1, Date.now(), Date.now() + 3_000, Date.now() + 86_400_123, roundTime(c, 500) - 1, roundTime(c, 500), roundTime(c, 500) + 1]) {
      const r = roundAt(c, goAt)
      expect(roundTime(c, r)).toBeGreaterThanOrEqual(goAt)
      if (r > 1) expect(roundTime(c, r - 1)).toBeLessThan(goAt)
    }
    expect(roundAt(c, 0)).toBe(1)
    expect(roundAt(QUICKNET, roundTime(QUICKNET, 1_000_000))).toBe(1_000_000)
    expect(() => roundAt(c, Number.NaN)).toThrow(RangeError)
  })

  it('QUICKNET is drand’s quicknet: its hash is the hash of its info; the test chain’s hash is computed the same way', async () => {
    expect(
      await chainHashOf({
        period: QUICKNET.period,
        genesisTime: QUICKNET.genesisTime,
        publicKey: QUICKNET.publicKey,
        groupHash: 'f477d5c89f21a17c863a7f937c6a6d15859414d2be09cd448d4279af331c5d3e',
        beaconId: 'quicknet',
      }),
    ).toBe(QUICKNET.hash)
    expect(await chainFromInfo(tb.info)).toEqual(tb.chain)
    expect(await problemOf(() => chainFromInfo({ ...tb.info, period: 4 }))).toBe('malformed')
    expect(await problemOf(() => chainFromInfo({ ...tb.info, schemeID: 'pedersen-bls-chained' }))).toBe('malformed')
    expect(await problemOf(() => chainFromInfo('nope'))).toBe('malformed')
  })
})

describe('a stage key locked to go time', () => {
  it('does not open before its round’s beacon exists, opens once it is published', async () => {
    const brief = newDocId()
    const stage = newStageId()
    const key = randomKey()
    const goAt = Date.now() + 60_000
    const sealed = await timelockStageKey(key, brief, stage, tb.chain, goAt)
    expect(sealed.round).toBe(roundAt(tb.chain, goAt))
    expect(sealed.box).toMatch(/^-----BEGIN AGE ENCRYPTED FILE-----/)

    // Before: the chain has published up to the round before. No beacon for the round exists.
    tb.publish(sealed.round - 1)
    expect(await served(sealed.round)).toBeUndefined()
    const earlier = await served(sealed.round - 1)
    expect(earlier?.round).toBe(sealed.round - 1)
    expect(await verifyBeacon(tb.chain, earlier!)).toBe(true)
    expect(await problemOf(() => openTimelock(sealed, earlier!, brief, stage))).toBe('wrong-round')
    // An earlier round's true signature relabelled as the round's is no beacon of it.
    const relabelled = { round: sealed.round, signature: earlier!.signature }
    expect(await verifyBeacon(tb.chain, relabelled)).toBe(false)
    expect(await problemOf(() => openTimelock(sealed, relabelled, brief, stage))).toBe('forged-beacon')

    // After.
    tb.publish(sealed.round)
    const beacon = await served(sealed.round)
    expect(beacon).toEqual(tb.beacon(sealed.round))
    expect(await verifyBeacon(tb.chain, beacon!)).toBe(true)
    expect(await openTimelock(sealed, beacon!, brief, stage)).toEqual(key)
    // Later rounds go on; the round is then fetched by number.
    tb.publish(sealed.round + 5)
    expect(await served(sealed.round)).toEqual(beacon)
  })

  it('refuses forged beacons: another key, a flipped bit, garbage; verifyBeacon never throws', async () => {
    const brief = newDocId()
    const stage = newStageId()
    const key = randomKey()
    const sealed = await timelockStageKey(key, brief, stage, tb.chain, Date.now() + 30_000)
    const real = tb.beacon(sealed.round)
    const forged = tb.forge(sealed.round)
    const sig = Buffer.from(real.signature, 'hex')
    sig[20]! ^= 0x01
    const flipped = { round: sealed.round, signature: sig.toString('hex') }
    for (const bad of [forged, flipped]) {
      expect(await verifyBeacon(tb.chain, bad)).toBe(false)
      expect(await problemOf(() => openTimelock(sealed, bad, brief, stage))).toBe('forged-beacon')
    }
    const garbage: unknown[] = [
      { round: sealed.round, signature: 'zz' },
      { round: sealed.round, signature: '00'.repeat(48) },
      { round: sealed.round, signature: 'ff'.repeat(48) },
      { round: -1, signature: real.signature },
      { round: 1.5, signature: real.signature },
      { round: sealed.round },
      null,
      'beacon',
    ]
    for (const g of garbage) expect(await verifyBeacon(tb.chain, g as Beacon), JSON.stringify(g)).toBe(false)
    // The real beacon against another chain's key: not that chain's.
    expect(await verifyBeacon(QUICKNET, real)).toBe(false)
    expect(await verifyBeacon(tb.chain, real)).toBe(true)
    expect(await openTimelock(sealed, real, brief, stage)).toEqual(key)
  })

  it('a box moved to another stage, another action, or changed is refused', async () => {
    const brief = newDocId()
    const stage = newStageId()
    const key = randomKey()
    const sealed = await timelockStageKey(key, brief, stage, tb.chain, Date.now() + 30_000)
    const beacon = tb.beacon(sealed.round)
    expect(await problemOf(() => openTimelock(sealed, beacon, brief, newStageId()))).toBe('wrong-key')
    expect(await problemOf(() => openTimelock(sealed, beacon, newDocId(), stage))).toBe('wrong-key')
    // A box of another round relabelled as this round's: its stanza names its own round.
    const other = await timelockStageKey(key, brief, stage, tb.chain, Date.now() + 90_000)
    expect(other.round).not.toBe(sealed.round)
    expect(await problemOf(() => openTimelock({ ...other, round: sealed.round }, beacon, brief, stage))).toBe('wrong-key')
    // Damaged boxes.
    const damaged: SealedTimelock[] = [
      { ...sealed, box: 'not a box' },
      { ...sealed, box: sealed.box.replace(/\n[A-Za-z0-9+/]{10}/, '\nAAAAAAAAAA') },
      { ...sealed, box: '' },
    ]
    for (const d of damaged) expect(['malformed', 'wrong-key']).toContain(await problemOf(() => openTimelock(d, beacon, brief, stage)))
    expect(await problemOf(() => openTimelock({ ...sealed, round: 0 }, beacon, brief, stage))).toBe('malformed')
    expect(await problemOf(() => openTimelock({ ...sealed, chain: { ...tb.chain, scheme: 'pedersen-bls-chained' } }, beacon, brief, stage))).toBe('malformed')
    expect(await openTimelock(sealed, beacon, brief, stage)).toEqual(key)
  })

  it('QUICKNET boxes are made offline (tlock-js asks no beacon to encrypt)', async () => {
    const sealed = await timelockStageKey(randomKey(), newDocId(), newStageId(), QUICKNET, Date.now() + 3_600_000)
    expect(sealed.box).toContain('AGE ENCRYPTED FILE')
    expect(roundTime(QUICKNET, sealed.round)).toBeGreaterThanOrEqual(Date.now() + 3_600_000 - 1)
  })
})

describe('beacon messages, phone to phone', () => {
  it('round-trip, and anything else is refused as malformed, never a raw error', async () => {
    const b = tb.beacon(1234)
    const bytes = beaconMessage(tb.chain.hash, b)
    expect(bytes.length).toBe(89)
    expect(readBeaconMessage(bytes)).toEqual({ chainHash: tb.chain.hash, beacon: b })
    const zeroRound = bytes.slice()
    zeroRound.fill(0, 33, 41)
    const hugeRound = bytes.slice()
    hugeRound.fill(0xff, 33, 41)
    const bad: unknown[] = [new Uint8Array(0), bytes.subarray(1), Uint8Array.of(2, ...bytes.subarray(1)), new Uint8Array([...bytes, 0]), zeroRound, hugeRound, 'text', null]
    for (const x of bad) expect(await problemOf(async () => readBeaconMessage(x as Uint8Array))).toBe('malformed')
    expect(await problemOf(async () => beaconMessage('abc', b))).toBe('malformed')
    expect(await problemOf(async () => beaconMessage(tb.chain.hash, { round: 0, signature: b.signature }))).toBe('malformed')
    // A message whose bit flipped reads, but does not verify.
    const flipped = bytes.slice()
    flipped[60]! ^= 0x04
    expect(await verifyBeacon(tb.chain, readBeaconMessage(flipped).beacon)).toBe(false)
    expect(await verifyBeacon(tb.chain, readBeaconMessage(bytes).beacon)).toBe(true)
  })
})

describe('fetchBeacon', () => {
  it('asks only for latest until the round is history, then for the round', async () => {
    const asked: string[] = []
    const answers = new Map<string, () => Response>()
    const fake = ((input: string | URL | Request) => {
      const url = String(input)
      asked.push(url)
      const answer = answers.get(url.replace(/^.*\/public\//, ''))
      return Promise.resolve(answer ? answer() : new Response('{}', { status: 404 }))
    }) as typeof fetch
    const json = (b: Beacon): (() => Response) => () => new Response(JSON.stringify({ ...b, randomness: '00' }), { status: 200 })
    const want = 5000
    answers.set('latest', json(tb.beacon(want - 1)))
    expect(await fetchBeacon('/drand/', tb.chain, want, fake)).toBeUndefined()
    expect(asked).toEqual([`/drand/${tb.chain.hash}/public/latest`])
    answers.set('latest', json(tb.beacon(want)))
    expect(await fetchBeacon('/drand', tb.chain, want, fake)).toEqual(tb.beacon(want))
    expect(asked).toHaveLength(2)
    answers.set('latest', json(tb.beacon(want + 10)))
    answers.set(String(want), json(tb.beacon(want)))
    expect(await fetchBeacon('/drand', tb.chain, want, fake)).toEqual(tb.beacon(want))
    expect(asked.slice(2)).toEqual([`/drand/${tb.chain.hash}/public/latest`, `/drand/${tb.chain.hash}/public/${want}`])
    // Answers that are no beacon, or the wrong one, are refused; a server that fails is 'unreachable'.
    answers.set(String(want), json(tb.beacon(want + 1)))
    expect(await problemOf(() => fetchBeacon('/drand', tb.chain, want, fake))).toBe('malformed')
    answers.set('latest', () => new Response('x'.repeat(10_000), { status: 200 }))
    expect(await problemOf(() => fetchBeacon('/drand', tb.chain, want, fake))).toBe('malformed')
    answers.set('latest', () => new Response('{"round":"5000"}', { status: 200 }))
    expect(await problemOf(() => fetchBeacon('/drand', tb.chain, want, fake))).toBe('malformed')
    answers.set('latest', () => new Response('', { status: 502 }))
    expect(await problemOf(() => fetchBeacon('/drand', tb.chain, want, fake))).toBe('unreachable')
    const down = (() => Promise.reject(new TypeError('fetch failed'))) as typeof fetch
    expect(await problemOf(() => fetchBeacon('/drand', tb.chain, want, down))).toBe('unreachable')
  })
})
