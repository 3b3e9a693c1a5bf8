// Bytes on the wire: what phones send and receive on their connections to the signaling
// server, in both directions, counted on each TCP connection (HTTP upgrade, WebSocket
// framing, JSON messages). Real Phones in Node (fake-indexeddb vaults) against the real
// signaling server on 127.0.0.1. Node has no WebRTC, so the mesh is off and every byte
// goes through the server relay. Baselines are the plaintext carried: the plain Yjs
// state or update, or the unpadded lobby message. Prints figures; asserts nothing.
import 'fake-indexeddb/auto'
import type { Socket } from 'node:net'
import { WebSocket } from 'ws'
import * as Y from 'yjs'
import { newIdentity } from '../src/crypto'
import { COMPACTION } from '../src/doc'
import { decodeInvite, Phone, type ActionId, type ActionSession } from '../src/model'
import { joinRequest, lobbyOf, welcome } from '../src/model/lobby'
import { openBlossomDB } from '../src/store'
import { roomKeys, type TransportSettings } from '../src/transport'
import { startSignaling, waitFor } from '../tests/server/helpers'
import type { Row } from './table'

const PASSPHRASE = 'a long passphrase'
const ORIGIN = 'http://127.0.0.1:4173'
const WAIT_MS = 30_000
const EDITS = 1000

// --- the meter -----------------------------------------------------------------------

/** One connection to the signaling server: whose, for which room or lobby, what it carried. */
interface Line {
  readonly phone: string
  /** Topics it subscribed to: each room and each lobby has connections of its own. */
  readonly topics: Set<string>
  tcp: Socket | undefined
  sentMessages: number
  receivedMessages: number
  /** Publishes among the messages sent: anything but subscriptions and pings. */
  published: number
  closed: boolean
}

interface Tally {
  readonly sent: number
  readonly received: number
  readonly sentMessages: number
  readonly receivedMessages: number
}

const lines: Line[] = []

type Payload = Parameters<WebSocket['send']>[0]
type SendOptions = NonNullable<Parameters<WebSocket['send']>[1]>
type Sent = (err?: Error) => void

/** ws's WebSocket, counting as it goes. lib0 (under y-webrtc) opens `new WebSocket(url)`, so it goes in as the global. */
class MeteredSocket extends WebSocket {
  private readonly line: Line

  constructor(url: string | URL) {
    super(url)
    const line: Line = { phone: new URL(url).searchParams.get('phone') ?? '', topics: new Set(), tcp: undefined, sentMessages: 0, receivedMessages: 0, published: 0, closed: false }
    this.line = line
    lines.push(line)
    // The TCP socket's own counters include the upgrade request and every frame header.
    this.once('upgrade', (response) => (line.tcp = response.socket))
    this.on('message', () => line.receivedMessages++)
    this.once('close', () => (line.closed = true))
  }

  override send(data: Payload, cb?: Sent): void
  override send(data: Payload, options: SendOptions, cb?: Sent): void
  override send(data: Payload, options?: SendOptions | Sent, cb?: Sent): void {
    this.line.sentMessages++
    if (typeof data === 'string' && data.startsWith('{"type":"publish"')) this.line.published++
    if (typeof data === 'string' && data.startsWith('{"type":"subscribe"')) {
      for (const topic of (JSON.parse(data) as { topics: string[] }).topics) this.line.topics.add(topic)
    }
    if (typeof options === 'object') super.send(data, options, cb)
    else super.send(data, options)
  }
}

function tally(which: (l: Line) => boolean): Tally {
  let t: Tally = { sent: 0, received: 0, sentMessages: 0, receivedMessages: 0 }
  for (const l of lines.filter(which)) {
    t = { sent: t.sent + (l.tcp?.bytesWritten ?? 0), received: t.received + (l.tcp?.bytesRead ?? 0), sentMessages: t.sentMessages + l.sentMessages, receivedMessages: t.receivedMessages + l.receivedMessages }
  }
  return t
}

const minus = (a: Tally, b: Tally): Tally => ({ sent: a.sent - b.sent, received: a.received - b.received, sentMessages: a.sentMessages - b.sentMessages, receivedMessages: a.receivedMessages - b.receivedMessages })

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/** Waits until these connections carry nothing new for `ms`, so late stragglers (retries, extra catch-up answers) count too. */
async function quiet(which: (l: Line) => boolean, ms: number): Promise<Tally> {
  let last = tally(which)
  let since = Date.now()
  while (Date.now() - since < ms) {
    await sleep(50)
    const now = tally(which)
    if (now.sent !== last.sent || now.received !== last.received) [last, since] = [now, Date.now()]
  }
  return last
}

const of = (phone: string, topic?: string) => (l: Line): boolean => l.phone === phone && (topic === undefined || l.topics.has(topic))

// --- phones ----------------------------------------------------------------------------

interface BenchPhone {
  readonly phone: Phone
  readonly tag: string
}

/** The `phone=` tag in its signaling URL tells the meter whose connection it is. */
async function newPhone(url: string, tag: string): Promise<BenchPhone> {
  const db = await openBlossomDB(`bench-wire-${tag}-${Date.now()}`)
  const transport: TransportSettings = { signalingUrls: [`${url}?phone=${tag}`], iceServers: [], relayOnly: false, mesh: false }
  return { phone: await Phone.setUp(db, PASSPHRASE, transport), tag }
}

/** A brief as a core member writes it: the texts, the times, the sealed location. */
async function draftAction(core: Phone): Promise<ActionId> {
  const id = await core.createAction('Spring mob')
  const s = core.get(id)
  s.plan!.set('notes', 'Marshals: Ana (north), Ben (south).')
  s.setBrief('stagingPoint', 'The fountain in Riverside Park, east side')
  s.setBrief('bring', 'A white scarf, a charged phone, water')
  s.setBrief('conduct', 'Stay calm and quiet until go. Follow the marshals in white caps. No alcohol.')
  s.setBrief('dispersal', 'Leave in small groups, in different directions, within ten minutes.')
  s.setTimes({ gatherAt: Date.now() + 3600_000, goAt: Date.now() + 4500_000, timeZone: 'Europe/Berlin' })
  s.setStage({ text: 'Central station, main hall, under the big clock', lat: 52.5251, lon: 13.3694 })
  return id
}

function sameState(a: Y.Doc, b: Y.Doc): boolean {
  const x = Y.decodeStateVector(Y.encodeStateVector(a))
  const y = Y.decodeStateVector(Y.encodeStateVector(b))
  return x.size === y.size && [...x].every(([client, clock]) => y.get(client) === clock)
}

const relayTopic = (s: ActionSession, doc: 'plan' | 'brief'): string => roomKeys(s.access[doc]!.keys.get(0)!).relayTopic

/** The Yjs updates a doc emits while `change` runs: the plaintext its frames carry. */
function plainUpdates(doc: Y.Doc, change: () => void): Uint8Array[] {
  const updates: Uint8Array[] = []
  const keep = (u: Uint8Array): number => updates.push(u)
  doc.on('update', keep)
  change()
  doc.off('update', keep)
  return updates
}

// --- the scenarios -----------------------------------------------------------------------

const KiB = 1024

/** What was carried, in plaintext bytes: the figure's baseline. */
interface Plain {
  readonly bytes: number
  readonly name: string
}

const messages = (n: number): string => `${n} message${n === 1 ? '' : 's'}`

function row(figure: string, bytes: number, plain?: Plain): Row {
  return { figure, value: bytes / KiB, unit: 'KiB', ...(plain && { baseline: plain.bytes / KiB, baselineName: plain.name }) }
}

/** Both directions of one step, each with its own baseline where one makes sense. */
const both = (what: string, t: Tally, plain: { sent?: Plain; received?: Plain }): Row[] => [
  row(`${what}, sent (${messages(t.sentMessages)})`, t.sent, plain.sent),
  row(`${what}, received (${messages(t.receivedMessages)})`, t.received, plain.received),
]

/** One participant: join handshake, the initial brief, and one release, each on its own. */
async function participant(core: BenchPhone, joiner: BenchPhone, id: ActionId, quietMs: number): Promise<Row[]> {
  const session = core.phone.get(id)
  const link = core.phone.invite(id, 'participant', ORIGIN)
  const { secret } = decodeInvite(link)
  const lobby = lobbyOf(secret).topic
  await waitFor(() => lines.some(of(core.tag, lobby)), 'the core listening in the lobby', WAIT_MS)

  // (a) From opening the link to admitted: the joiner's lobby connection, opened and closed.
  const joined = await joiner.phone.join(link).done
  const mine = joiner.phone.get(joined)
  await waitFor(() => lines.filter(of(joiner.tag, lobby)).every((l) => l.closed), 'the lobby closed', WAIT_MS)
  const join = tally(of(joiner.tag, lobby))
  const request = joinRequest(secret, newIdentity()).length
  const welcomed = welcome(secret, newIdentity(), newIdentity(), { tier: 'participant', admittedBy: core.phone.identity, brief: mine.access.brief }).length

  // (b) The brief room, from connecting to holding the whole brief (relay catch-up).
  const briefRoom = of(joiner.tag, relayTopic(mine, 'brief'))
  await waitFor(() => sameState(mine.briefDoc.plain, session.briefDoc.plain), 'the brief arrived', WAIT_MS)
  const brief = await quiet(briefRoom, quietMs)
  const briefState = Y.encodeStateAsUpdate(mine.briefDoc.plain).length

  // (c) "Go now" on the core phone: what reaches the participant, until the location shows.
  const go = Y.mergeUpdates(plainUpdates(session.briefDoc.plain, () => session.goNow())).length
  await waitFor(() => mine.stages().every((s) => s.content !== undefined), 'the location revealed', WAIT_MS)
  const release = minus(await quiet(briefRoom, quietMs), brief)

  return [
    ...both('participant join via the server relay (invite link → admitted)', join, { sent: { bytes: request, name: 'one plain join request' }, received: { bytes: welcomed, name: 'plain welcome' } }),
    ...both(`participant initial brief via the server relay (${session.briefDoc.frames.size} frames)`, brief, { received: { bytes: briefState, name: 'plain Yjs state' } }),
    ...both('participant release at "Go now" via the server relay (1 stage)', release, { received: { bytes: go, name: 'plain Yjs update of Go now' } }),
  ]
}

/** Text typed into the plan's notes, keystroke by keystroke. */
const NOTES = 'Marshals meet at the bakery at 17:15. Bring chalk, two megaphones and the banner. If anyone asks, we are a choir. '

/**
 * A core member types into the plan's notes, alone in the plan room. Every keystroke
 * becomes its own frame: at 3–7 keys a second the 300 ms batch holds one or two.
 */
async function typeIntoPlan(core: BenchPhone, id: ActionId, keystrokes: number, quietMs: number): Promise<Row> {
  const session = core.phone.get(id)
  const live = of(core.tag, relayTopic(session, 'plan'))
  // Its own catch-up hello (2 s after joining the room, as nobody is there) is not typing.
  await waitFor(() => lines.some((l) => live(l) && l.published > 0), 'the core phone asking for catch-up', WAIT_MS)
  const start = await quiet(live, quietMs)
  const updates = plainUpdates(session.planDoc!.plain, () => {
    let notes = session.plan!.read().notes
    for (let i = 0; i < keystrokes; i++) {
      // Every 25th keystroke is a backspace: people correct as they type.
      notes = i % 25 === 24 ? notes.slice(0, -1) : notes + NOTES[i % NOTES.length]
      session.plan!.set('notes', notes)
      session.planDoc!.flush()
    }
  })
  // Each frame goes to the plan room as it is written, even with nobody else there.
  const sent = minus(await quiet(live, quietMs), start)
  const plain = updates.reduce((n, u) => n + u.length, 0)
  return row(`core phone typing ${keystrokes} keystrokes into the plan, one frame each, sent live to the server relay (${messages(sent.sentMessages)})`, sent.sent, { bytes: plain, name: 'plain Yjs updates' })
}

/** A second core phone joins and catches up the typed plan through the relay (its plan room only). */
async function planCatchUp(core: BenchPhone, second: BenchPhone, id: ActionId, quietMs: number): Promise<Row[]> {
  const editor = core.phone.get(id)
  const joined = await second.phone.join(core.phone.invite(id, 'core', ORIGIN)).done
  const mine = second.phone.get(joined)
  await waitFor(() => sameState(mine.planDoc!.plain, editor.planDoc!.plain), 'the plan caught up', WAIT_MS)
  const catchUp = await quiet(of(second.tag, relayTopic(editor, 'plan')), quietMs)
  const state = Y.encodeStateAsUpdate(editor.planDoc!.plain).length
  return both(`second core phone catching up the plan via the server relay (${editor.planDoc!.frames.size} frames)`, catchUp, { received: { bytes: state, name: 'plain Yjs state' } })
}

/** Bytes on the wire, through the signaling server relay only (WebRTC off). */
export async function wireRows(quick: boolean): Promise<Row[]> {
  const global = globalThis as { WebSocket?: unknown }
  const previous = global.WebSocket
  global.WebSocket = MeteredSocket
  // Typing 1,000 keystrokes takes minutes in life and a second here: the server's message
  // burst (500) is raised so that the burst is not cut off by its rate limit.
  const server = await startSignaling({ messageBurst: 10 * EDITS })
  const phones: BenchPhone[] = []
  try {
    for (const tag of ['core', 'participant', 'core-2']) phones.push(await newPhone(server.url, tag))
    const [core, joiner, second] = phones as [BenchPhone, BenchPhone, BenchPhone]
    // Two actions, so the participant's brief room carries nothing of the second core phone's admission.
    const [briefed, typed] = [await draftAction(core.phone), await draftAction(core.phone)]
    // The quiet wait only catches stragglers; what it waits for has happened before it starts.
    const quietMs = quick ? 500 : 1500
    const typing = await typeIntoPlan(core, typed, EDITS, quietMs)
    // The core phone folds loose edits once nobody has typed for a while (src/doc/compaction.ts),
    // as it does long before participants join in life: late phones get what that leaves.
    const folded = (id: ActionId): boolean => {
      const s = core.phone.get(id)
      return s.briefDoc.looseFrames < COMPACTION.looseAt && (s.planDoc?.looseFrames ?? 0) < COMPACTION.looseAt
    }
    await waitFor(() => folded(briefed) && folded(typed), 'the core phone compacting', COMPACTION.quietMs + COMPACTION.jitterMs + WAIT_MS)
    // The participant and the second core phone join at once: separate actions, rooms and connections.
    const [joining, catchingUp] = await Promise.all([participant(core, joiner, briefed, quietMs), planCatchUp(core, second, typed, quietMs)])
    return [...joining, typing, ...catchingUp]
  } finally {
    await Promise.all(phones.map((p) => p.phone.lock()))
    await server.stop()
    global.WebSocket = previous
    lines.length = 0
  }
}
