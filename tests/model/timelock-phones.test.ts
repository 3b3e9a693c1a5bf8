// The time lock between phones (issue 15): every core phone gone, no marshal; at go the phones
// fetch the round's beacon through the app server's drand proxy (a drand-compatible test beacon
// on 127.0.0.1 behind it), check it, open the stage and pass the beacon on. Attacks as a modified
// client would send them: a forged beacon, the beacon of an earlier round, a beacon while the core
// holds. Real tlock-js, real BLS, real phones and relay.
import { afterEach, describe, expect, it } from 'vitest'
import { Phone } from '../../src/model'
import { beaconMessage, roundAt } from '../../src/model/timelock'
import type { AppServer } from '../../src/server/app-server'
import type { TestBeacon } from '../support/test-beacon'
import { waitFor } from '../server/helpers'
import { drandServer, newestKey, revealed, sessionOf, timelockAction, withoutCoreRogue } from './phones'

let server: AppServer | undefined
let beacon: TestBeacon | undefined
const phones: Phone[] = []
afterEach(async () => {
  await Promise.all(phones.splice(0).map((p) => p.lock().catch(() => undefined)))
  await server?.close()
  await beacon?.close()
})

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const LOCATION = 'The library steps'

async function action() {
  let url: string
  ;({ beacon, server, url } = await drandServer())
  const { core, a, network, join } = await timelockAction(url, phones, LOCATION)
  expect(network).toEqual({ chain: beacon!.chain, quicknet: false })
  const ana = await join('Ana')
  const ben = await join('Ben')
  return { core, a, ana, ben, url }
}

/** Go in a few seconds, then every core phone gone. Resolves with the round the lock waits for. */
async function goSoonWithoutCore(cast: Awaited<ReturnType<typeof action>>, inMs = 3_000): Promise<number> {
  const goAt = Date.now() + inMs
  cast.a.setTimes({ goAt })
  const round = roundAt(beacon!.chain, goAt)
  for (const t of [cast.ana, cast.ben]) await waitFor(() => sessionOf(t).armed().timelock?.round === round, 'the lock to the new round reached the phones', 15_000)
  await cast.core.phone.lock()
  phones.splice(phones.indexOf(cast.core.phone), 1)
  return round
}


describe('the time lock opens the stage at go with no core phone and no marshal', () => {
  it('not before the round’s beacon exists, whatever phones send; at once after, on every phone, and after a restart', { timeout: 90_000 }, async () => {
    const cast = await action()
    const ana = sessionOf(cast.ana)
    expect(ana.armed().timelock).toMatchObject({ quicknet: false })
    const round = await goSoonWithoutCore(cast)
    // Go time passes; drand has not published the round: nothing opens, phones keep asking.
    await sleep(5_000)
    expect(revealed(ana)).toBeUndefined()
    // A modified client sends forged beacons for the round (a hundred, each new: enough to use up every
    // budget of checks for the relay), and the true beacon of an earlier round.
    const r = withoutCoreRogue(cast.url, newestKey(ana), 'beacon')
    for (let i = 0; i < 100; i++) await r.send(beaconMessage(beacon!.chain.hash, { round, signature: beacon!.forge(round + 1 + i).signature }))
    await r.send(beaconMessage(beacon!.chain.hash, beacon!.beacon(round - 1)))
    await sleep(1_500)
    expect(revealed(ana)).toBeUndefined()
    expect(revealed(sessionOf(cast.ben))).toBeUndefined()
    // The proxy never named the round before it was due (phones asked for latest only).
    expect(beacon!.requests.filter((p) => p.endsWith(`/public/${round}`))).toEqual([])
    beacon!.publish(round)
    for (const t of [cast.ana, cast.ben]) await waitFor(() => revealed(sessionOf(t)) === LOCATION, 'every participant reveals', 20_000)
    r.close()
    await cast.ana.phone.lock()
    const again = await Phone.unlock(cast.ana.db, 'a long passphrase', { ...cast.ana.transport, signalingUrls: [] })
    phones.push(again)
    await waitFor(() => revealed(again.get(again.list()[0]!.id)) === LOCATION, 'Ana still sees it after a restart with no network', 10_000)
  })

  it('while the core holds, an honest phone opens nothing, even with the true beacon', { timeout: 90_000 }, async () => {
    const cast = await action()
    cast.a.hold()
    const round = await goSoonWithoutCore(cast)
    await waitFor(() => sessionOf(cast.ana).brief.read().state === 'held', 'the hold reached Ana', 10_000)
    beacon!.publish(round)
    const r = withoutCoreRogue(cast.url, newestKey(sessionOf(cast.ana)), 'beacon')
    await r.send(beaconMessage(beacon!.chain.hash, beacon!.beacon(round)))
    await sleep(4_000)
    expect(revealed(sessionOf(cast.ana))).toBeUndefined()
    r.close()
  })
})
