// Phones for model tests: real vaults (fake-indexeddb), a real signaling server on
// 127.0.0.1, the sealed relay (Node has no browser WebRTC, so the mesh is off here).
import 'fake-indexeddb/auto'
import { WebSocket } from 'ws'
import { concat, deriveKey, type SecretKey } from '../../src/crypto'
import { openBlossomDB, type BlossomDB } from '../../src/store'
import { Phone, type ActionId, type ActionSession } from '../../src/model'
import { ownSockets, releaseSockets, roomKeys, SealedTopic, type TransportSettings } from '../../src/transport'
import { createAppServer, type AppServer } from '../../src/server/app-server'
import { startTestBeacon, type TestBeacon } from '../support/test-beacon'
import { waitFor } from '../server/helpers'

;(globalThis as { WebSocket?: unknown }).WebSocket ??= WebSocket

export const ORIGIN = 'http://127.0.0.1:4173'
export const PASSPHRASE = 'a long passphrase'

let n = 0
/** Each phone gets its own socket (a distinct URL), as separate devices would. */
export const transportFor = (url: string): TransportSettings => ({ signalingUrls: [`${url}?phone=${++n}`], iceServers: [], relayOnly: false, mesh: false })

export interface TestPhone {
  phone: Phone
  db: BlossomDB
  transport: TransportSettings
}

export async function newPhone(url: string, all: Phone[]): Promise<TestPhone> {
  const db = await openBlossomDB(`model-phone-${++n}`)
  const transport = transportFor(url)
  const phone = await Phone.setUp(db, PASSPHRASE, transport)
  all.push(phone)
  return { phone, db, transport }
}

/** The phone's (only) action. */
export const sessionOf = (t: TestPhone): ActionSession => t.phone.get(t.phone.list()[0]!.id)

/** The first stage's text, once a release opened it. */
export const revealed = (s: ActionSession): string | undefined => s.stages()[0]?.content?.text

/** The brief key of the newest epoch this phone holds. */
export const newestKey = (s: ActionSession): SecretKey => s.access.brief.keys.get(Math.max(...s.access.brief.keys.keys()))!

/**
 * A modified client on an action's without-core topic (src/model/without-core.ts): sends whatever
 * bytes it likes as share offers or beacons, as anyone holding the brief key could.
 */
export function withoutCoreRogue(url: string, briefKey: SecretKey, kind: 'offer' | 'beacon') {
  const keys = roomKeys(deriveKey(briefKey, 'without-core'))
  const topic = new SealedTopic(keys.relayTopic, keys.relayKey, 1024, () => {}, () => {}, 256)
  const sockets = ownSockets([`${url}?rogue=${Math.random()}`], topic)
  for (const socket of sockets) topic.attach(socket)
  return {
    async send(bytes: Uint8Array): Promise<void> {
      await waitFor(() => topic.online, 'the rogue is online')
      topic.send(concat(Uint8Array.of(kind === 'offer' ? 1 : 3), bytes))
    },
    close(): void {
      topic.close()
      releaseSockets(sockets, topic)
    },
  }
}

/** A core phone's new action: staging point 'Fountain', the location sealed, go an hour ahead. */
async function coreAction(url: string, all: Phone[], location: string) {
  const core = await newPhone(url, all)
  const id = await core.phone.createAction('Mob')
  const a = core.phone.get(id)
  a.setBrief('stagingPoint', 'Fountain')
  a.setStage({ text: location })
  a.setTimes({ goAt: Date.now() + 60 * 60_000 })
  return { core, id, a }
}

/** A new phone joining the core's action by an invite of this tier, once it holds the brief (staging point 'Fountain'). */
async function joinBy(url: string, all: Phone[], core: TestPhone, id: ActionId, label: string, tier: 'participant' | 'core' = 'participant'): Promise<TestPhone> {
  const t = await newPhone(url, all)
  await t.phone.join(core.phone.invite(id, tier, ORIGIN, label)).done
  await waitFor(() => sessionOf(t).brief.read().stagingPoint === 'Fountain', `${label} has the brief`, 15_000)
  return t
}

/** The marshals among a core phone's choices: the participants named M1, M2, M3… */
export const marshalIds = (s: ActionSession): string[] => s.marshalChoices().filter((c) => /^M\d$/.test(c.label)).map((c) => c.id)

export interface MarshalsCast {
  core: TestPhone
  a: ActionSession
  id: ActionId
  marshals: TestPhone[]
  ana: TestPhone
  /** Another phone joining by an invite of the core, once it holds the brief. */
  join(label: string, tier?: 'participant' | 'core'): Promise<TestPhone>
}

/** A core phone, three marshals (M1–M3) and one participant (Ana); go an hour ahead; the core arms 2 of 3 unless `arm` is false. */
export async function marshalsCast(url: string, all: Phone[], location: string, arm = true): Promise<MarshalsCast> {
  const { core, id, a } = await coreAction(url, all, location)
  const join = (label: string, tier: 'participant' | 'core' = 'participant'): Promise<TestPhone> => joinBy(url, all, core, id, label, tier)
  const marshals = [await join('M1'), await join('M2'), await join('M3')]
  const ana = await join('Ana')
  if (arm) {
    a.setQuorum({ k: 2, marshals: marshalIds(a) })
    for (const m of marshals) await waitFor(() => sessionOf(m).marshal() !== undefined, 'every marshal holds its share', 15_000)
  }
  return { core, a, id, marshals, ana, join }
}

/** A drand-compatible test beacon (a round a second, 127.0.0.1) behind an app server's /drand proxy; `url` is its signaling URL. */
export async function drandServer(): Promise<{ beacon: TestBeacon; server: AppServer; url: string }> {
  const beacon = await startTestBeacon({ period: 1 })
  const server = createAppServer({ host: '127.0.0.1', port: 0, distRoot: '/nonexistent', signaling: { overloadLagMs: 60_000 }, drand: { upstreams: [beacon.url], chain: beacon.chain.hash } })
  return { beacon, server, url: `${(await server.listen()).replace('http', 'ws')}signal` }
}

/** A core phone's action: staging point, the location sealed, go an hour ahead, and a time lock to the network the server names. */
export async function timelockAction(url: string, all: Phone[], location: string) {
  const { core, id, a } = await coreAction(url, all, location)
  const network = await a.timelockNetwork()
  a.setTimelock(network.chain)
  const join = (label: string): Promise<TestPhone> => joinBy(url, all, core, id, label)
  return { core, id, a, network, join }
}
