// Opening a stage with no core phone online: marshals release their shares together (quorum.ts),
// or drand publishes the round the key is encrypted to (timelock.ts); every phone passes on what
// it holds. Both are checkable by anyone (an offer is signed by a marshal the brief names and
// committed to by the core; a beacon is signed by the drand chain), so a phone takes them from
// anyone and hands them on: on a sealed topic under the brief key (through the server's relay), in
// the brief room's mesh (peers' awareness, so a phone that connects late gets them at once), and
// (offers) by QR code.
//
//   message = kind (1) | body      1: a share offer; 2: "send me what you hold" (a late phone); 3: a beacon
//
// A marshal's phone offers by itself at go when its own clock and the server's agree that go has
// come (server-time.ts); when they disagree, or no server answers, the person decides, with a watch.
// At a time lock's round every phone asks the app server's drand proxy for the beacon (the beacon is
// the proof of time: no clock is trusted). A held or called-off action offers nothing, and an honest
// phone opens nothing by these ways while it is.
import { concat, deriveKey, fromBase64Url, toBase64Url, type DeviceIdentity, type DocId, type SecretKey } from '../crypto'
import { roomKeys, SealedTopic, type PeerAwareness, type SignalingSocket } from '../transport'
import type { BriefView } from './brief'
import { CLOCK_TOLERANCE_MS } from './clock'
import { ServerTime, type ServerMark } from './server-time'
import { combineShares, makeShareOffer, MAX_MARSHALS, OFFER_BYTES, offerPlace, QuorumError, readShareOffer, shareOf, type QuorumProblem, type ShareOffer } from './quorum'
import { beaconMessage, fetchBeacon, openTimelock, readBeaconMessage, roundTime, TimelockError, verifyBeacon, warmUp, type SealedTimelock } from './timelock'
import { bytesOfCode, codeOf, type StageId } from './stage'

type BeaconRead = ReturnType<typeof readBeaconMessage>

const OFFER = 1
const ASK = 2
const BEACON = 3
/**
 * Beacons from other phones: a check is a pairing (18 ms here, more on a phone), and anyone holding
 * the brief key can send forged ones, under as many mesh client ids as it likes (ids say nothing of
 * the sender: y-webrtc passes every peer's states on). So they wait as candidates, at most this many
 * (one drawn at random goes when full), and are checked one at a time, at most a burst of
 * FOREIGN_BURST and then one per FOREIGN_EVERY_MS: by turns the most often sent (every honest phone
 * sends the one true beacon, and how often each was sent is remembered beyond its place, up to
 * MAX_COUNTED) and one drawn at random (a forger sending each forgery more often still cannot keep
 * the true one waiting long). What the phone fetched or kept itself is always checked.
 */
const MAX_CANDIDATES = 64
const MAX_COUNTED = 2048
/** A phone that cannot reach the drand proxy asks the others for the beacon at most this often. */
const ASK_EVERY_MS = 10_000
const FOREIGN_BURST = 8
const FOREIGN_EVERY_MS = 1_000
/**
 * A marshal's own offer goes out only once its phone has surely heard a hold or call-off made before
 * it (a jammed square can hide one): after coming back online (no socket connected, then one), it
 * waits this long, for the relay's catch-up (answers come within about 1.5 s); and on a connected
 * socket it waits for a server's word sent after the offer was made (a pong stamped later: the
 * relay's frames before it on the same socket arrived first), asking again every PONG_RETRY_MS. A
 * phone online all along offers at go within a round trip.
 */
const SETTLE_MS = 4_000
const PONG_RETRY_MS = 2_000
/** A phone answers "send me what you hold" at most this many times a minute: asking again and again gets little. */
const ANSWERS_PER_MINUTE = 12
/** How often a phone asks for the beacon while it is not out or the server does not answer (then every last one). */
const BEACON_RETRY_MS = [300, 300, 500, 500, 1_000, 1_000, 2_000, 5_000, 10_000, 30_000]
/** Checked offers remembered (valid or not), so the same bytes cost one signature check. */
const MAX_READ = 1024
/** A phone answering "send me what you hold" waits a random while: one answer usually does for all. */
const ANSWER_WITHIN_MS = 1_500
const MAX_TIMER_MS = 2 ** 31 - 1
const RECHECK_MS = 5_000
/** The mesh field every phone shares what it holds in. */
const MESH_FIELD = 'offers'
const MESH_BEACONS = 'beacons'

/** What a marshal's phone shows: how many shares are offered, never the shares. */
export interface MarshalView {
  readonly k: number
  readonly n: number
  /** Distinct marshals whose valid offers this phone holds (for the stage with the fewest). */
  readonly offered: number
  /**
   * waiting: before go (or held). sending: this phone made its offer and waits to send it until it
   * has surely heard a hold made meanwhile (SETTLE_MS); its QR code shows it meanwhile. offered: it went out.
   * confirm: go has come by this phone's clock or the server's but not both, or no server answers:
   * the person decides.
   */
  readonly mine: 'waiting' | 'sending' | 'offered' | 'confirm'
}

/** The offer a marshal's QR code carries. Throws QuorumError 'malformed' for anything else. */
export function offerFromCode(code: string): Uint8Array {
  const bytes = bytesOfCode('SHARE', code)
  if (!bytes) throw new QuorumError('malformed')
  return bytes
}

/** The first `most` base64url strings of a mesh field no longer than `longest`, decoded; anything else skipped. */
function meshStrings(field: unknown, most: number, longest: number): Uint8Array[] {
  if (!Array.isArray(field)) return []
  const out: Uint8Array[] = []
  for (const item of field.slice(0, most)) {
    if (typeof item !== 'string' || item.length > longest) continue
    try {
      out.push(fromBase64Url(item))
    } catch {
      // not base64url: skipped
    }
  }
  return out
}

export interface WithoutCoreOptions {
  readonly brief: BriefView
  readonly briefId: DocId
  readonly me: DeviceIdentity
  /** Offers and beacons kept from before (the action record). */
  readonly stored: { readonly offers: readonly Uint8Array[]; readonly beacons: readonly Uint8Array[] }
  /** Keeps the offers and beacons held in the action record. */
  readonly save: (held: { offers: Uint8Array[]; beacons: Uint8Array[] }) => void
  /** The app server's drand proxy (e.g. http://host/drand); undefined: beacons come from other phones only. */
  readonly drand: string | undefined
  readonly fetch?: typeof fetch
  readonly changed: () => void
  /** Core phones: record that the marshals opened a stage, in the brief (the offers that did). */
  readonly record?: (stageId: StageId, way: 'quorum' | 'timelock', evidence: Uint8Array) => void
}

export class WithoutCore {
  /**
   * Offers held, one per stage and marshal: the first that checks out against the split in force. A
   * marshal's modified app can sign its piece anew as often as it likes (each signature valid, each
   * message new); keyed by marshal, they take one place, never the others'.
   */
  private readonly held = new Map<string, Uint8Array>()
  /** What reading an offer against a split gave (by offer and split): a check is done once. */
  private readonly reads = new Map<string, ShareOffer | QuorumProblem>()
  /** Beacons checked against a time lock in force, by `chain hash:round`. */
  private readonly beacons = new Map<string, Uint8Array>()
  /** Beacon messages already checked and found false (bounded). */
  private readonly falseBeacons = new Set<string>()
  /** Other phones' beacons waiting for a check, by message: how often sent, and when last (an arrival count). */
  private readonly candidates = new Map<string, { bytes: Uint8Array; read: BeaconRead; times: number; last: number }>()
  /** How often each beacon message was sent to this phone, newest last (bounded). */
  private readonly sentTimes = new Map<string, number>()
  private arrivals = 0
  private checksMade = 0
  /** Checks of other phones' beacons this phone may make now (a token bucket). */
  private tokens = { n: FOREIGN_BURST, at: Date.now() }
  private checkingCandidates = false
  private candidateTimer: ReturnType<typeof setTimeout> | undefined
  private beaconTimer: ReturnType<typeof setTimeout> | undefined
  private beaconTries = 0
  private askedAt = 0
  private warm: Promise<void> | undefined
  /** Time locks being opened: the same beacon from the proxy, the relay and the mesh is checked once. */
  private readonly openingLocks = new Map<string, Promise<boolean>>()
  private topic: SealedTopic | undefined
  private awareness: PeerAwareness | undefined
  /** The server's time, for a marshal's release at go. */
  private readonly serverTime = new ServerTime(() => {
    this.armMarshal()
    this.publishOwn()
  })
  /** This phone's own clock (tests replace it with one a fake tower pushed). */
  local: () => number = Date.now
  private timer: ReturnType<typeof setTimeout> | undefined
  private answerTimer: ReturnType<typeof setTimeout> | undefined
  /** Online (relay or mesh) for SETTLE_MS since it last came online: this phone's own offer may go out. */
  private settled = false
  private settleTimer: ReturnType<typeof setTimeout> | undefined
  private publishTimer: ReturnType<typeof setTimeout> | undefined
  /** This phone's own offers sent on the relay since it came online, and those ever sent or shown to a peer. */
  private readonly relayedOwn = new Set<string>()
  private readonly outOwn = new Set<string>()
  /** The servers' times when this phone's own offer was made: a pong stamped later says the relay's earlier frames (a hold) are in. */
  private ordered: ServerMark | undefined
  private sockets: readonly SignalingSocket[] = []
  /** The person confirmed it is go time (their phone could not). */
  /** The go time the person said had come (a later go time asks again). */
  private personSaysGo: number | undefined
  /** The pass combining what is held, while one runs: a change meanwhile runs it once more. */
  private opening: Promise<void> | undefined
  private openAgain = false
  private closed = false
  private readonly stopWatching: () => void

  constructor(private readonly o: WithoutCoreOptions) {
    for (const bytes of o.stored.offers) this.keep(bytes)
    this.stopWatching = o.brief.onChange(() => {
      if (!this.mayOpen()) this.dropOwn()
      this.fromBrief()
      this.armMarshal()
      this.armBeacon()
      // Held, called off or on again: what this phone shows its mesh follows.
      this.share()
      void this.open()
    })
    this.fromBrief()
    void (async () => {
      for (const bytes of o.stored.beacons) await this.takeBeacon(bytes, true, 'own')
    })()
    this.armBeacon()
    void this.open()
  }

  private saveHeld(): void {
    this.o.save({ offers: [...this.held.values()], beacons: [...this.beacons.values()] })
  }

  /** Offers a core phone recorded in the brief (it came back after the marshals opened a stage). */
  private fromBrief(): void {
    let more = false
    for (const stageId of this.o.brief.quorumStages()) {
      const recorded = this.o.brief.recorded(stageId, 'quorum')
      if (!recorded || recorded.length % OFFER_BYTES !== 0) continue
      for (let at = 0; at < recorded.length && at < OFFER_BYTES * MAX_MARSHALS; at += OFFER_BYTES) more = this.keep(recorded.slice(at, at + OFFER_BYTES)) || more
    }
    if (more) this.saveHeld()
    for (const stageId of this.o.brief.timelockStages()) {
      const recorded = this.o.brief.recorded(stageId, 'timelock')
      if (recorded) void this.takeBeacon(recorded, true, 'own')
    }
  }

  /** Listens on the brief room's sockets and mesh (again after every reconnect of the session). */
  attach(briefKey: SecretKey, sockets: readonly SignalingSocket[], awareness: PeerAwareness | undefined, isCore: boolean): void {
    this.detach()
    const keys = roomKeys(deriveKey(briefKey, 'without-core'))
    this.topic = new SealedTopic(keys.relayTopic, keys.relayKey, 1024, (bytes) => this.onMessage(bytes), () => this.onSubscribed(), 256)
    for (const socket of sockets) this.topic.attach(socket)
    this.sockets = sockets
    for (const socket of sockets) socket.on('disconnect', this.onSocketDown)
    if (awareness) {
      this.awareness = awareness
      awareness.on('change', this.onMesh)
      this.onMesh({ added: [...awareness.getStates().keys()], updated: [] })
      this.share()
    }
    // Core phones release by their own clock (GoClock in the session); a marshal asks the server here.
    if (!isCore) this.serverTime.start(sockets)
    this.armMarshal()
  }

  detach(): void {
    for (const socket of this.sockets) socket.off('disconnect', this.onSocketDown)
    this.sockets = []
    this.wentOffline()
    clearTimeout(this.publishTimer)
    this.serverTime.stop()
    this.topic?.close()
    this.topic = undefined
    this.awareness?.off('change', this.onMesh)
    this.awareness = undefined
    clearTimeout(this.answerTimer)
  }

  close(): void {
    this.closed = true
    clearTimeout(this.timer)
    clearTimeout(this.beaconTimer)
    clearTimeout(this.candidateTimer)
    clearTimeout(this.settleTimer)
    clearTimeout(this.publishTimer)
    this.candidates.clear()
    this.sentTimes.clear()
    this.stopWatching()
    this.detach()
  }

  /**
   * An offer scanned from a marshal's QR code. Throws QuorumError (a person gets a reason);
   * offers from the network that do not check out are dropped without a word.
   */
  async takeCode(code: string): Promise<void> {
    const bytes = offerFromCode(code)
    this.read(bytes) // throws
    this.take(bytes)
    await this.open()
  }

  /** This phone's own offer as a QR code's text, once made (a marshal with no network shows it). */
  myCode(): string | undefined {
    const mine = this.myOffers()[0]
    return mine ? codeOf('SHARE', mine) : undefined
  }

  /** What a marshal's phone shows; undefined on a phone that holds no share. */
  marshal(): MarshalView | undefined {
    const stages = this.o.brief.quorumStages().filter((id) => this.myShare(id) !== undefined)
    if (stages.length === 0) return undefined
    const counts = stages.map((id) => this.validOffers(id).length)
    const q = this.o.brief.quorum(stages[0]!)!
    const mine = this.myOffers()
    const made = mine.length >= stages.length
    const out = made && mine.every((b) => this.outOwn.has(toBase64Url(b)))
    return {
      k: q.k,
      n: q.shares.length,
      offered: Math.min(...counts),
      mine: out ? 'offered' : made ? 'sending' : this.goBy() === 'person' ? 'confirm' : 'waiting',
    }
  }

  /** How many marshals' valid pieces this phone holds for a stage, of the k needed (any phone; undefined: no quorum). */
  progress(stageId: StageId): { offered: number; k: number } | undefined {
    const q = this.o.brief.quorum(stageId)
    return q ? { offered: this.validOffers(stageId).length, k: q.k } : undefined
  }

  /** The person says it is go time (the phone could not confirm its clock). */
  confirmGo(): void {
    if (this.goBy() !== 'person') return
    this.personSaysGo = this.o.brief.read().goAt
    this.armMarshal()
  }

  // --- marshal --------------------------------------------------------------------

  private myShare(stageId: StageId): Uint8Array | undefined {
    const q = this.o.brief.quorum(stageId)
    return q ? shareOf(this.o.me, q, stageId) : undefined
  }

  /**
   * Whether this phone's own offer may go out now: the action is on, the phone has been online a
   * while, and, on a connected socket, a server has answered since the offer was made (SETTLE_MS).
   */
  private mayPublishOwn(): boolean {
    return this.mayOpen() && this.settled && (this.topic?.online !== true || (this.ordered !== undefined && this.serverTime.answeredSince(this.ordered)))
  }

  private isMine(bytes: Uint8Array): boolean {
    return offerPlace(bytes)?.endsWith(`:${toBase64Url(this.o.me.signingPublicKey)}`) === true
  }

  /** Whether an offer may be passed on now: none while the core holds, this phone's own once it may go out. */
  private mayPass(bytes: Uint8Array): boolean {
    return this.isMine(bytes) ? this.mayPublishOwn() : this.mayOpen()
  }

  /** Online (a socket subscribed, or a mesh peer came): settles unless it already has. */
  private startSettling(): void {
    if (this.settled || this.settleTimer !== undefined || this.closed) return
    this.settleTimer = setTimeout(() => {
      this.settleTimer = undefined
      this.settled = true
      this.publishOwn()
    }, SETTLE_MS)
  }

  /** No socket connected now (one of several dropping changes nothing): settling starts again when one is back. */
  private readonly onSocketDown = (): void => {
    if (this.topic?.online !== true) this.wentOffline()
  }

  private wentOffline(): void {
    this.settled = false
    clearTimeout(this.settleTimer)
    this.settleTimer = undefined
    this.relayedOwn.clear()
    this.ordered = undefined
  }

  /** Sends this phone's own offers that have not gone out on this connection, once they may; else asks the server for its word and looks again. */
  private publishOwn(): void {
    clearTimeout(this.publishTimer)
    const mine = this.myOffers()
    if (mine.length === 0 || this.closed) return
    this.ordered ??= this.serverTime.mark()
    if (!this.mayPublishOwn()) {
      if (this.mayOpen() && this.settled && this.topic?.online === true) {
        this.serverTime.ask()
        this.publishTimer = setTimeout(() => this.publishOwn(), PONG_RETRY_MS)
      }
      return
    }
    const before = this.outOwn.size
    for (const bytes of mine) {
      const text = toBase64Url(bytes)
      if (!this.relayedOwn.has(text) && this.topic?.send(concat(Uint8Array.of(OFFER), bytes))) {
        this.relayedOwn.add(text)
        this.outOwn.add(text)
      }
    }
    this.share()
    if (this.outOwn.size !== before) this.o.changed()
  }

  /** Held or called off: this phone's own offer is withdrawn (kept nowhere, shown nowhere); at go again it is made again. */
  private dropOwn(): void {
    let dropped = false
    for (const [place, bytes] of this.held) if (this.isMine(bytes)) dropped = this.held.delete(place) || dropped
    this.relayedOwn.clear()
    this.outOwn.clear()
    this.ordered = undefined
    if (!dropped) return
    this.saveHeld()
    this.share()
    this.o.changed()
  }

  private myOffers(): Uint8Array[] {
    const me = toBase64Url(this.o.me.signingPublicKey)
    return this.o.brief.quorumStages().flatMap((id) => this.validOffers(id).filter((v) => v.offer.marshal === me).map((v) => v.bytes))
  }

  /**
   * Whether go has come for a marshal: 'clock' when this phone's clock and the server's both say so
   * (within the tolerance core phones use); 'person' when only one says so, or no server answers and
   * this phone's clock says so: the person decides, by a watch. Undefined: not yet, or held, called
   * off, no go time. Neither a fast server nor a pushed phone clock alone releases early.
   */
  private goBy(): 'clock' | 'person' | undefined {
    const { state, goAt } = this.o.brief.read()
    if (state !== 'scheduled' || goAt === undefined) return undefined
    const local = this.local()
    const server = this.serverTime.now()
    if (server !== undefined && server >= goAt && local >= goAt - CLOCK_TOLERANCE_MS) return 'clock'
    return local >= goAt || (server !== undefined && server >= goAt) ? 'person' : undefined
  }

  private armMarshal(): void {
    clearTimeout(this.timer)
    if (this.closed) return
    const stages = this.o.brief.quorumStages().filter((id) => this.myShare(id) !== undefined)
    if (stages.length === 0) return
    const { goAt, state } = this.o.brief.read()
    const by = this.goBy()
    if (by === 'clock' || (by === 'person' && this.personSaysGo === goAt)) {
      for (const id of stages) {
        const offer = makeShareOffer(this.o.briefId, id, this.myShare(id)!, this.o.me)
        const mine = this.held.get(`${id}:${toBase64Url(this.o.me.signingPublicKey)}`)
        if (!mine || !this.isValid(mine)) this.take(offer)
      }
      return
    }
    if (by === 'person') this.o.changed() // the screen asks the person
    if (state !== 'scheduled' || goAt === undefined) return
    // Looked at again when go is due by either clock, and every few seconds once it is by one.
    const server = this.serverTime.now()
    const due = Math.min(goAt - this.local(), server === undefined ? Infinity : goAt - server)
    this.timer = setTimeout(() => this.armMarshal(), Math.min(MAX_TIMER_MS, Math.max(due > 0 ? due : RECHECK_MS, 50)))
  }

  // --- every phone ----------------------------------------------------------------

  /** Reads an offer against the split in force; throws QuorumError. Remembered per offer and split. */
  private read(bytes: Uint8Array): ShareOffer {
    // Remembered against the piece the split in force commits this marshal to: two core phones can
    // split one key twice (same key id, other pieces), and an offer of the losing split is stale.
    const place = offerPlace(bytes)
    const stage = place?.split(':')[0] as StageId | undefined
    const commit = stage && this.o.brief.quorum(stage)?.shares.find((s) => `${stage}:${s.marshal}` === place)?.commit
    const memo = `${toBase64Url(bytes)}:${commit ?? ''}`
    const known = this.reads.get(memo)
    if (typeof known === 'string') throw new QuorumError(known)
    if (known) return known
    if (this.reads.size >= MAX_READ) this.reads.clear()
    try {
      const offer = readShareOffer(bytes, this.o.briefId, (id) => this.o.brief.quorum(id))
      this.reads.set(memo, offer)
      return offer
    } catch (e) {
      if (e instanceof QuorumError) this.reads.set(memo, e.problem)
      throw e
    }
  }

  private validOffers(stageId: StageId): { offer: ShareOffer; bytes: Uint8Array }[] {
    const out = new Map<string, { offer: ShareOffer; bytes: Uint8Array }>()
    for (const bytes of this.held.values()) {
      try {
        const offer = this.read(bytes)
        if (offer.stageId === stageId) out.set(offer.marshal, { offer, bytes })
      } catch {
        // Stale (a re-split since) or never valid: not counted.
      }
    }
    return [...out.values()]
  }

  /** Keeps an offer if it checks out and its marshal has none in force for its stage yet. */
  private keep(bytes: Uint8Array): boolean {
    // A place already taken by a valid offer takes nothing more: no check of what else is sent for it.
    const place = offerPlace(bytes)
    const had = place === undefined ? undefined : this.held.get(place)
    if (place === undefined || (had && this.isValid(had))) return false
    try {
      this.read(bytes)
    } catch (e) {
      if (e instanceof QuorumError) return false
      throw e
    }
    // Places of splits no longer in force go (bounded: stages × marshals of the splits in force).
    for (const [k, b] of this.held) if (!this.isValid(b)) this.held.delete(k)
    this.held.set(place, bytes)
    return true
  }

  private isValid(bytes: Uint8Array): boolean {
    try {
      this.read(bytes)
      return true
    } catch {
      return false
    }
  }

  /** Takes a valid offer: kept, saved, passed on (relay and mesh), and tried. */
  private take(bytes: Uint8Array, fromRelay = false): void {
    if (!this.keep(bytes)) return
    this.saveHeld()
    if (this.isMine(bytes)) this.publishOwn()
    else if (!fromRelay && this.mayOpen()) this.topic?.send(concat(Uint8Array.of(OFFER), bytes))
    this.share()
    this.o.changed()
    void this.open()
  }

  /** Combines k offers for every stage that has them; the first way to open a stage opens it everywhere it is told. */
  private open(): Promise<void> {
    if (this.opening) {
      this.openAgain = true
      return this.opening
    }
    // The last look at openAgain and the end of the pass happen in one step: a request between them
    // (a pass's end reached while its promise was still settling) was lost, and k offers sat unopened.
    this.opening = (async () => {
      try {
        do {
          this.openAgain = false
          await this.openAll()
        } while (this.openAgain && !this.closed)
      } finally {
        this.opening = undefined
      }
    })()
    return this.opening
  }

  private async openAll(): Promise<void> {
    for (const stageId of this.mayOpen() ? this.o.brief.quorumStages() : []) {
      const q = this.o.brief.quorum(stageId)!
      const valid = this.validOffers(stageId)
      if (valid.length < q.k || this.o.brief.openedBy(stageId, 'quorum')) continue
      const opensNow = !this.o.brief.isReleased(stageId)
      const key = await combineShares(q, valid.map((v) => v.offer))
      if (this.closed) return
      if (key && this.o.brief.acceptKey(stageId, 'quorum', key)) {
        if (opensNow) this.o.changed()
        this.o.record?.(stageId, 'quorum', concat(...valid.slice(0, q.k).map((v) => v.bytes)))
      }
    }
    for (const stageId of this.mayOpen() ? this.o.brief.timelockStages() : []) {
      const sealed = this.o.brief.timelock(stageId)!
      const beacon = this.beacons.get(`${sealed.chain.hash}:${sealed.round}`)
      if (beacon && !this.o.brief.openedBy(stageId, 'timelock')) await this.openWith(stageId, beacon)
      if (this.closed) return
    }
  }

  /** An honest phone opens nothing by these ways while the core holds or called off (a modified one may: SECURITY.md). */
  private mayOpen(): boolean {
    return this.o.brief.read().state === 'scheduled'
  }

  // --- beacons --------------------------------------------------------------------

  /** Time locks in force this phone has not opened yet, by when their round is published. */
  private pendingTimelocks(): { stageId: StageId; sealed: SealedTimelock }[] {
    return this.o.brief
      .timelockStages()
      .filter((id) => !this.o.brief.openedBy(id, 'timelock') && !this.o.brief.isReleased(id))
      .map((stageId) => ({ stageId, sealed: this.o.brief.timelock(stageId)! }))
      .sort((a, b) => roundTime(a.sealed.chain, a.sealed.round) - roundTime(b.sealed.chain, b.sealed.round))
  }

  /** Asks for the next pending round's beacon when it is due (by this phone's clock: the beacon itself proves the time). */
  private armBeacon(): void {
    clearTimeout(this.beaconTimer)
    if (this.closed || this.o.drand === undefined || !this.mayOpen()) return
    const next = this.pendingTimelocks().find((p) => !this.beacons.has(`${p.sealed.chain.hash}:${p.sealed.round}`))
    if (!next) return
    // The drand code loads and warms up now, not at go: checking the first beacon then is one pairing, not seconds.
    if (!this.warm) this.warm = warmUp(next.sealed.chain).catch(() => undefined)
    const due = roundTime(next.sealed.chain, next.sealed.round)
    // A crowd asks spread over a second, not all in the same millisecond.
    const wait = Math.max(0, due - Date.now()) + Math.random() * 1_000
    this.beaconTimer = setTimeout(() => void this.askForBeacon(next.sealed), Math.min(MAX_TIMER_MS, wait))
  }

  private async askForBeacon(sealed: SealedTimelock): Promise<void> {
    if (this.closed || this.o.drand === undefined) return
    try {
      const beacon = await fetchBeacon(this.o.drand, sealed.chain, sealed.round, this.o.fetch)
      if (beacon) {
        this.beaconTries = 0
        await this.takeBeacon(beaconMessage(sealed.chain.hash, beacon), false, 'own')
      }
    } catch {
      // The proxy is down, blocked or lied: ask the phones that hold the beacon too (now and then: each
      // answer also counts the true beacon up among forged ones), and the proxy again.
      if (Date.now() - this.askedAt >= ASK_EVERY_MS) {
        this.askedAt = Date.now()
        this.topic?.send(Uint8Array.of(ASK), undefined, false)
      }
    }
    if (this.closed || this.beacons.has(`${sealed.chain.hash}:${sealed.round}`)) return this.armBeacon()
    clearTimeout(this.beaconTimer)
    const wait = BEACON_RETRY_MS[Math.min(this.beaconTries++, BEACON_RETRY_MS.length - 1)]!
    this.beaconTimer = setTimeout(() => void this.askForBeacon(sealed), wait + Math.random() * 500)
  }

  /**
   * A beacon from anywhere: kept only if it is the true beacon of a time lock in force here. 'own'
   * (this phone fetched it, kept it, or a core phone recorded it in the brief) is checked at once;
   * 'other' (the relay, the mesh) waits its turn as a candidate.
   */
  private async takeBeacon(bytes: Uint8Array, quietly: boolean, from: 'own' | 'other'): Promise<void> {
    let read: BeaconRead
    try {
      read = readBeaconMessage(bytes)
    } catch {
      return
    }
    const id = `${read.chainHash}:${read.beacon.round}`
    const text = toBase64Url(bytes)
    if (this.beacons.has(id) || this.falseBeacons.has(text) || this.stageFor(read) === undefined) return
    if (from === 'other') return this.candidate(text, bytes, read)
    if (this.checkingBeacons.has(text)) return
    this.checkingBeacons.add(text)
    try {
      await this.checkBeacon(bytes, read, quietly)
    } finally {
      this.checkingBeacons.delete(text)
    }
  }

  private readonly checkingBeacons = new Set<string>()

  /** The time lock in force a beacon is for; undefined if none. */
  private stageFor(read: BeaconRead): StageId | undefined {
    return this.o.brief.timelockStages().find((s) => {
      const t = this.o.brief.timelock(s)!
      return t.chain.hash === read.chainHash && t.round === read.beacon.round
    })
  }

  /** Another phone's beacon: counted, kept among the candidates (the least sent goes when full), checked in turn. */
  private candidate(text: string, bytes: Uint8Array, read: BeaconRead): void {
    const times = (this.sentTimes.get(text) ?? 0) + 1
    this.sentTimes.delete(text)
    this.sentTimes.set(text, times)
    if (this.sentTimes.size > MAX_COUNTED) this.sentTimes.delete(this.sentTimes.keys().next().value!)
    const known = this.candidates.get(text)
    if (known) {
      known.times = times
      known.last = ++this.arrivals
    } else {
      if (this.candidates.size >= MAX_CANDIDATES) this.candidates.delete(this.drawn())
      this.candidates.set(text, { bytes, read, times, last: ++this.arrivals })
    }
    void this.checkCandidates()
  }

  /** The candidate sent most often, then most lately. */
  private mostSent(): string {
    let best: string | undefined
    let b = { times: 0, last: 0 }
    for (const [text, c] of this.candidates) if (best === undefined || (c.times - b.times || c.last - b.last) > 0) [best, b] = [text, c]
    return best!
  }

  /** A candidate drawn at random. */
  private drawn(): string {
    const keys = [...this.candidates.keys()]
    return keys[Math.floor(Math.random() * keys.length)]!
  }

  /** Checks candidates one at a time, within the bucket of checks; when it is empty, again once a check is due. */
  private async checkCandidates(): Promise<void> {
    if (this.checkingCandidates) return
    this.checkingCandidates = true
    try {
      while (!this.closed && this.candidates.size > 0) {
        const now = Date.now()
        this.tokens = { n: Math.min(FOREIGN_BURST, this.tokens.n + (now - this.tokens.at) / FOREIGN_EVERY_MS), at: now }
        if (this.tokens.n < 1) {
          clearTimeout(this.candidateTimer)
          this.candidateTimer = setTimeout(() => void this.checkCandidates(), Math.ceil((1 - this.tokens.n) * FOREIGN_EVERY_MS))
          return
        }
        const text = this.checksMade++ % 2 === 0 ? this.mostSent() : this.drawn()
        const c = this.candidates.get(text)!
        this.candidates.delete(text)
        if (this.beacons.has(`${c.read.chainHash}:${c.read.beacon.round}`) || this.falseBeacons.has(text) || this.stageFor(c.read) === undefined) continue
        this.tokens.n -= 1
        await this.checkBeacon(c.bytes, c.read, true)
      }
    } finally {
      this.checkingCandidates = false
    }
  }

  private async checkBeacon(bytes: Uint8Array, read: BeaconRead, quietly: boolean): Promise<void> {
    const id = `${read.chainHash}:${read.beacon.round}`
    const stageId = this.stageFor(read)
    const text = toBase64Url(bytes)
    if (stageId === undefined || this.falseBeacons.has(text)) return
    // A phone free to open checks the beacon by opening (openTimelock verifies it first): once, not twice.
    const opening = this.mayOpen() && !this.o.brief.openedBy(stageId, 'timelock')
    const verified = opening ? await this.openWith(stageId, bytes) : await verifyBeacon(this.o.brief.timelock(stageId)!.chain, read.beacon)
    if (!verified) {
      // Remembered, oldest forgotten first: a forgery sent again costs nothing.
      if (this.falseBeacons.size >= 1024) this.falseBeacons.delete(this.falseBeacons.values().next().value!)
      this.falseBeacons.add(text)
      return
    }
    if (this.closed || this.beacons.has(id)) return
    this.beacons.set(id, bytes)
    for (const [t, c] of this.candidates) if (`${c.read.chainHash}:${c.read.beacon.round}` === id) this.candidates.delete(t)
    this.saveHeld()
    if (!quietly) this.topic?.send(concat(Uint8Array.of(BEACON), bytes))
    this.share()
    void this.open()
  }

  /** Opens a stage's time lock with a beacon. False only if the beacon is not the chain's. One at a time per stage and beacon. */
  private openWith(stageId: StageId, beacon: Uint8Array): Promise<boolean> {
    const id = `${stageId}:${toBase64Url(beacon)}`
    let pending = this.openingLocks.get(id)
    if (!pending) {
      pending = this.openLock(stageId, beacon).finally(() => this.openingLocks.delete(id))
      this.openingLocks.set(id, pending)
    }
    return pending
  }

  private async openLock(stageId: StageId, beacon: Uint8Array): Promise<boolean> {
    const sealed = this.o.brief.timelock(stageId)
    if (!sealed) return false
    const { beacon: b } = readBeaconMessage(beacon)
    let key: SecretKey
    try {
      key = await openTimelock(sealed, b, this.o.briefId, stageId)
    } catch (e) {
      // Forged, or a true beacon and a box that does not open (the core's mistake): openTimelock told them apart.
      return !(e instanceof TimelockError && e.problem === 'forged-beacon')
    }
    if (this.closed) return true
    const opensNow = !this.o.brief.isReleased(stageId)
    if (this.o.brief.acceptKey(stageId, 'timelock', key)) {
      if (opensNow) this.o.changed()
      this.o.record?.(stageId, 'timelock', beacon)
    }
    return true
  }

  private onMessage(message: Uint8Array): void {
    if (message[0] === BEACON) {
      this.seenSinceAsk?.add(toBase64Url(message.slice(1)))
      void this.takeBeacon(message.slice(1), true, 'other')
    }
    else if (message[0] === OFFER) {
      const bytes = message.slice(1)
      this.seenSinceAsk?.add(toBase64Url(bytes))
      this.take(bytes, true)
    } else if (message[0] === ASK) this.answerSoon()
  }

  /** Offers that went by since a late phone asked: a phone answering sends only what nobody sent meanwhile. */
  private seenSinceAsk: Set<string> | undefined
  private answers = { minute: 0, count: 0 }

  /** A phone that (re)connects asks what it missed, and offers its own again. */
  private onSubscribed(): void {
    this.topic?.send(Uint8Array.of(ASK), undefined, false)
    this.startSettling()
    this.publishOwn()
  }

  /** Answers a late phone after a random wait, with what no other phone sent meanwhile. */
  private answerSoon(): void {
    if ((this.held.size === 0 && this.beacons.size === 0) || this.answerTimer !== undefined) return
    const minute = Math.floor(Date.now() / 60_000)
    if (this.answers.minute !== minute) this.answers = { minute, count: 0 }
    if (++this.answers.count > ANSWERS_PER_MINUTE) return
    this.seenSinceAsk = new Set()
    this.answerTimer = setTimeout(() => {
      const seen = this.seenSinceAsk ?? new Set<string>()
      this.answerTimer = undefined
      this.seenSinceAsk = undefined
      for (const stageId of this.o.brief.quorumStages()) {
        for (const v of this.validOffers(stageId)) {
          if (!seen.has(toBase64Url(v.bytes)) && this.mayPass(v.bytes)) this.topic?.send(concat(Uint8Array.of(OFFER), v.bytes), undefined, false)
        }
      }
      for (const bytes of this.beacons.values()) if (!seen.has(toBase64Url(bytes))) this.topic?.send(concat(Uint8Array.of(BEACON), bytes), undefined, false)
    }, Math.random() * ANSWER_WITHIN_MS)
  }

  /** Shares the valid offers held in the mesh: a peer that connects gets them with the room's first awareness. */
  private share(): void {
    if (!this.awareness) return
    const offers = this.o.brief.quorumStages().flatMap((id) => this.validOffers(id).filter((v) => this.mayPass(v.bytes)).map((v) => toBase64Url(v.bytes)))
    const shown = this.awareness.getStates().get(this.awareness.clientID)?.[MESH_FIELD]
    if (JSON.stringify(shown ?? []) !== JSON.stringify(offers)) this.awareness.setLocalStateField(MESH_FIELD, offers)
    // Shown to a peer: this phone's own offer is out.
    if (this.awareness.getStates().size > 1) for (const text of offers) if (this.isMine(fromBase64Url(text))) this.outOwn.add(text)
    if (this.beacons.size > 0) this.awareness.setLocalStateField(MESH_BEACONS, [...this.beacons.values()].map(toBase64Url))
  }

  private readonly onMesh = (changes: { added: number[]; updated: number[] }): void => {
    const awareness = this.awareness
    if (!awareness) return
    if (changes.added.some((id) => id !== awareness.clientID)) this.startSettling()
    for (const id of [...changes.added, ...changes.updated]) {
      if (id === awareness.clientID) continue
      const state = awareness.getStates().get(id)
      // A peer writes its own fields: anything, of any size. Bounded, typed, decoded with care.
      for (const b of meshStrings(state?.[MESH_BEACONS], 8, 200)) void this.takeBeacon(b, true, 'other')
      for (const o of meshStrings(state?.[MESH_FIELD], MAX_MARSHALS * 4, 400)) this.take(o, true)
    }
  }

}
