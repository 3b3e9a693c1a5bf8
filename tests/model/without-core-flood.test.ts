// Floods against opening without the core (issue 15), as a participant's modified client sends
// them. Every phone takes beacons and marshals' offers from anyone and checks them; a check of a
// beacon is a pairing (about 18 ms here, more on a phone), of an offer a signature. A mesh peer
// writes awareness states for any client ids it likes, and y-webrtc passes every peer's states on,
// so the ids in a state say nothing of who sent it. These tests write such awareness updates by
// hand (lib0 encoding, y-protocols' wire format) and apply them as the mesh would, beside the
// relay. Real libsodium, real BLS and tlock, real phones and relay on 127.0.0.1; checks are
// counted by wrapping the real functions, never replacing them.
import * as encoding from 'lib0/encoding'
import { afterEach, describe, expect, it, vi } from 'vitest'
import * as Y from 'yjs'
import { applyAwarenessUpdate, Awareness } from 'y-protocols/awareness'
import { concat, fromBase64Url, randomBytes, toBase64Url } from '../../src/crypto'
import { Phone } from '../../src/model'
import { beaconMessage, roundAt } from '../../src/model/timelock'
import { WithoutCore } from '../../src/model/without-core'
import type { AppServer } from '../../src/server/app-server'
import type { TestBeacon } from '../support/test-beacon'
import { waitFor } from '../server/helpers'
import { drandServer, marshalIds, revealed, sessionOf, timelockAction } from './phones'

const counted = vi.hoisted(() => ({ beaconChecks: 0, offerChecks: 0 }))

vi.mock('../../src/model/timelock', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/model/timelock')>()
  return {
    ...real,
    openTimelock: (...a: Parameters<typeof real.openTimelock>) => (counted.beaconChecks++, real.openTimelock(...a)),
    verifyBeacon: (...a: Parameters<typeof real.verifyBeacon>) => (counted.beaconChecks++, real.verifyBeacon(...a)),
  }
})

vi.mock('../../src/crypto', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/crypto')>()
  return {
    ...real,
    verify: (...a: Parameters<typeof real.verify>) => {
      if (a[0] === 'share-offer') counted.offerChecks++
      return real.verify(...a)
    },
  }
})

let server: AppServer | undefined
let beacon: TestBeacon | undefined
const phones: Phone[] = []
const extra: WithoutCore[] = []
afterEach(async () => {
  extra.splice(0).forEach((w) => w.close())
  await Promise.all(phones.splice(0).map((p) => p.lock().catch(() => undefined)))
  await server?.close()
  await beacon?.close()
})

const LOCATION = 'The library steps'

/** y-protocols' awareness update, written by hand: any client ids, any clocks, any states. */
function awarenessUpdate(states: readonly { id: number; state: Record<string, unknown> }[]): Uint8Array {
  const e = encoding.createEncoder()
  encoding.writeVarUint(e, states.length)
  for (const { id, state } of states) {
    encoding.writeVarUint(e, id)
    encoding.writeVarUint(e, 1)
    encoding.writeVarString(e, JSON.stringify(state))
  }
  return encoding.toUint8Array(e)
}

/** A core phone, Ana and `marshals` more; the core arms a time lock (the test beacon's chain) and, with marshals, 2 of them. */
async function action(marshals = 0) {
  let url: string
  ;({ beacon, server, url } = await drandServer())
  const { a, join } = await timelockAction(url, phones, LOCATION)
  const ana = await join('Ana')
  for (let i = 1; i <= marshals; i++) await join(`M${i}`)
  if (marshals > 0) a.setQuorum({ k: 2, marshals: marshalIds(a) })
  const round = roundAt(beacon!.chain, a.brief.read().goAt!)
  await waitFor(() => sessionOf(ana).armed().timelock?.round === round && (marshals === 0 || sessionOf(ana).armed().quorum !== undefined), 'Ana holds the lock (and the split)', 15_000)
  return { ana: sessionOf(ana), round }
}

describe('a flood of forged beacons through the mesh', () => {
  it('costs a phone a bounded number of checks, whatever client ids it claims, and the true beacon from an honest peer still opens', { timeout: 120_000 }, async () => {
    const { ana, round } = await action()
    // The phone under attack cannot reach the drand proxy (drand undefined): it has only its mesh.
    const awareness = new Awareness(new Y.Doc())
    const phone = new WithoutCore({
      brief: ana.brief,
      briefId: ana.access.brief.docId,
      me: ana.me,
      stored: { offers: [], beacons: [] },
      save: () => {},
      drand: undefined,
      changed: () => {},
    })
    extra.push(phone)
    phone.attach(ana.access.brief.keys.get(Math.max(...ana.access.brief.keys.keys()))!, [], awareness, false)
    const chain = beacon!.chain.hash
    const forged = (i: number) => toBase64Url(beaconMessage(chain, { round, signature: beacon!.forge(round + 1 + i).signature }))

    // 100 client ids, each with 8 forged beacons for the round in force: one awareness message.
    counted.beaconChecks = 0
    const started = Date.now()
    const fake = Array.from({ length: 100 }, (_, c) => ({ id: 1_000_000 + c, state: { beacons: Array.from({ length: 8 }, (_, b) => forged(c * 8 + b)) } }))
    applyAwarenessUpdate(awareness, awarenessUpdate(fake), 'attacker')
    // Then an honest peer shares the true beacon (drand has it; this phone could not fetch it).
    applyAwarenessUpdate(awareness, awarenessUpdate([{ id: 42, state: { beacons: [toBase64Url(beaconMessage(chain, beacon!.beacon(round)))] } }]), 'honest')
    await waitFor(() => revealed(ana) === LOCATION, 'the true beacon opens the lock despite the flood', 60_000)
    const seconds = Math.ceil((Date.now() - started) / 1_000)
    // A burst of a few checks, then about one a second: not 800 pairings.
    expect(counted.beaconChecks).toBeLessThanOrEqual(10 + seconds)

    // Once the lock is open, more forgeries for its round are not checked at all.
    const after = counted.beaconChecks
    applyAwarenessUpdate(awareness, awarenessUpdate(fake.map((f) => ({ id: f.id + 500, state: { beacons: [forged(900 + f.id % 100)] } }))), 'attacker')
    await new Promise((r) => setTimeout(r, 1_000))
    expect(counted.beaconChecks).toBe(after)
  })
})

describe('a flood of forged share offers', () => {
  it('costs no signature check when the piece is not the one the core committed to', { timeout: 120_000 }, async () => {
    const { ana } = await action(2)
    const awareness = new Awareness(new Y.Doc())
    const phone = new WithoutCore({ brief: ana.brief, briefId: ana.access.brief.docId, me: ana.me, stored: { offers: [], beacons: [] }, save: () => {}, drand: undefined, changed: () => {} })
    extra.push(phone)
    phone.attach(ana.access.brief.keys.get(Math.max(...ana.access.brief.keys.keys()))!, [], awareness, false)
    // Offers naming a real marshal of the split in force (the brief lists their keys), for the real
    // stage, with a made-up piece and signature: 5,000 of them, each new.
    const stage = ana.stages()[0]!.id
    const marshalKeys = ana.brief.quorum(stage)!.shares.map((s) => fromBase64Url(s.marshal))
    counted.offerChecks = 0
    const junk = () => toBase64Url(concat(Uint8Array.of(1), fromBase64Url(stage), randomBytes(33), marshalKeys[Math.floor(Math.random() * 2)]!, randomBytes(64)))
    applyAwarenessUpdate(awareness, awarenessUpdate(Array.from({ length: 50 }, (_, c) => ({ id: 2_000_000 + c, state: { offers: Array.from({ length: 100 }, junk) } }))), 'attacker')
    await new Promise((r) => setTimeout(r, 500))
    expect(counted.offerChecks).toBe(0)
  })
})
