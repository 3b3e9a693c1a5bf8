// The participant brief: what participants may know. Written only by the core (the
// brief's roster); read by everyone in the action. Sealed stages live here from the
// start; their keys arrive as releases, by any of three ways that compose per stage:
//
//   core      a release signed by a core phone (releases[stage id], or a QR code)
//   quorum    k marshals' share offers (quorum.ts): the split is in quorums[stage id]
//   timelock  a drand beacon for the round the key is encrypted to: timelocks[stage id]
//
// Each way that opened a stage is recorded beside the others (releases[stage id + '/' + way]),
// never over them: a core phone that comes back writes what the marshals or the beacon did.
import * as Y from 'yjs'
import { fromBase64Url, toBase64Url, type BoxPublicKey, type DocId, type PublicIdentity } from '../crypto'
import { MAX_MARSHALS, QUICKNET, roundTime, type SealedQuorum, type SealedTimelock } from './ways'
import { makeRelease, openStage, readRelease, releasedKeyId, ReleaseError, sealStage, stageKeyId, stageKindOf, LEGACY_LOCATION_LABEL, type Release, type StageContent, type StageId, type StageKind } from './stage'
import type { DeviceIdentity, SecretKey } from '../crypto'

export const BRIEF_FIELDS = ['stagingPoint', 'bring', 'conduct', 'dispersal'] as const
export type BriefField = (typeof BRIEF_FIELDS)[number]

/** scheduled: releases itself at go time. held: waits for the core. called-off: never releases. */
export type GoState = 'scheduled' | 'held' | 'called-off'

export interface BriefText {
  readonly stagingPoint: string
  readonly bring: string
  readonly conduct: string
  readonly dispersal: string
  /** UTC instant (ms since epoch) of go, if set. */
  readonly gatherAt: number | undefined
  readonly goAt: number | undefined
  /** IANA zone the core plans in, e.g. Europe/Berlin; times are shown in the phone's own zone too. */
  readonly timeZone: string
  readonly state: GoState
  readonly showCheckins: boolean
  readonly checkins: number | undefined
  readonly stagingLat: number | undefined
  readonly stagingLon: number | undefined
  /** When the action ends (UTC); unset: six hours after go. */
  readonly endsAt: number | undefined
  /** How long after the end every phone wipes the action by itself. */
  readonly wipeAfterMs: number
  /** The core requires TURN relays only for everyone in this action. */
  readonly relayOnly: boolean
  /** The remote brief only: what remote supporters do at go (amplify, watch, legal support, call). */
  readonly remoteTask: string
  /** The remote brief only: when the action went (its location released), the remote supporters' go signal. */
  readonly wentAt: number | undefined
}

export const DEFAULT_WIPE_AFTER_MS = 24 * 3600_000
const DEFAULT_LENGTH_MS = 6 * 3600_000

/** When phones wipe this action: the end plus the core's delay. Undefined while no time is set. */
export function wipeAt(b: BriefText): number | undefined {
  const end = b.endsAt ?? (b.goAt !== undefined ? b.goAt + DEFAULT_LENGTH_MS : undefined)
  return end === undefined ? undefined : end + b.wipeAfterMs
}

export interface Announcement {
  readonly at: number
  readonly text: string
}

/** How a stage's key reaches phones. */
export type ReleaseWay = 'core' | 'quorum' | 'timelock'

export interface StageView {
  readonly id: StageId
  readonly kind: StageKind
  /** Present once a valid release opened the stage. */
  readonly content: StageContent | undefined
  readonly releasedAt: number | undefined
}

/** The ways armed for a stage besides the core's own: what opens it if no core phone is online at go. */
export interface ArmedWays {
  /** k of n marshals. */
  readonly quorum: { readonly k: number; readonly n: number } | undefined
  /** The drand round the key is encrypted to, when it is published, and whether the chain is drand's quicknet. */
  readonly timelock: { readonly round: number; readonly at: number; readonly quicknet: boolean } | undefined
}

interface SealedStage {
  readonly kind?: StageKind
  /** Only for phones of the version before kinds (LEGACY_LOCATION_LABEL). */
  readonly label?: string
  readonly box: Uint8Array
  /** Which key sealed it (stage.ts stageKeyId): the core reseals when plan and brief disagree. */
  readonly keyId?: string
}

const fields = (doc: Y.Doc) => doc.getMap<unknown>('brief')
const stagesOf = (doc: Y.Doc) => doc.getMap<SealedStage>('stages')
const releasesOf = (doc: Y.Doc) => doc.getMap<Uint8Array>('releases')
const quorumsOf = (doc: Y.Doc) => doc.getMap<unknown>('quorums')
const timelocksOf = (doc: Y.Doc) => doc.getMap<unknown>('timelocks')

/** A time lock as stored: the box and which stage key it holds (stage.ts stageKeyId), so a stale one is never taken. */
interface StoredTimelock extends SealedTimelock {
  readonly keyId: string
}

function timelockFrom(stored: unknown): StoredTimelock | undefined {
  const t = stored as Partial<StoredTimelock> | undefined
  const c = t?.chain
  if (!t || typeof t.keyId !== 'string' || typeof t.box !== 'string' || !Number.isSafeInteger(t.round) || !c) return undefined
  const chainOk = typeof c.hash === 'string' && typeof c.publicKey === 'string' && typeof c.scheme === 'string' && Number.isFinite(c.period) && Number.isFinite(c.genesisTime)
  return chainOk ? (t as StoredTimelock) : undefined
}
/** Where a way other than the core's records that it opened a stage (the core's own keeps the bare id, as before ways). */
const recordKey = (stageId: StageId, way: Exclude<ReleaseWay, 'core'>): string => `${stageId}/${way}`

/** A quorum as stored, checked for shape: a core phone wrote it, but an older or broken one may have. */
function quorumFrom(stored: unknown): SealedQuorum | undefined {
  const q = stored as Partial<SealedQuorum> | undefined
  if (!q || !Number.isInteger(q.k) || typeof q.keyId !== 'string' || !Array.isArray(q.shares) || q.shares.length > MAX_MARSHALS) return undefined
  if (q.k! < 2 || q.k! > q.shares.length) return undefined
  const wellFormed = q.shares.every((s) => typeof s?.marshal === 'string' && s.box instanceof Uint8Array && typeof s.commit === 'string')
  return wellFormed ? (q as SealedQuorum) : undefined
}
const announcementsOf = (doc: Y.Doc) => doc.getArray<Announcement>('announcements')

const str = (v: unknown): string => (typeof v === 'string' ? v : '')
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined)

export class BriefView {
  /** Releases that came from a QR code, not (yet) through the brief. */
  private readonly extra = new Map<StageId, Release>()
  /** Keys other ways gave (marshals' shares combined, a beacon): each checked against the sealed box when used. */
  private readonly keysBy = new Map<StageId, Map<Exclude<ReleaseWay, 'core'>, SecretKey>>()
  private readonly revealedAt = new Map<StageId, number>()

  constructor(
    readonly doc: Y.Doc,
    readonly briefId: DocId,
    private readonly core: () => readonly PublicIdentity[],
  ) {}

  read(): BriefText {
    const m = fields(this.doc)
    const state = m.get('state')
    return {
      stagingPoint: str(m.get('stagingPoint')),
      bring: str(m.get('bring')),
      conduct: str(m.get('conduct')),
      dispersal: str(m.get('dispersal')),
      gatherAt: num(m.get('gatherAt')),
      goAt: num(m.get('goAt')),
      timeZone: str(m.get('timeZone')) || 'UTC',
      state: state === 'held' || state === 'called-off' ? state : 'scheduled',
      showCheckins: m.get('showCheckins') === true,
      checkins: num(m.get('checkins')),
      stagingLat: num(m.get('stagingLat')),
      stagingLon: num(m.get('stagingLon')),
      endsAt: num(m.get('endsAt')),
      wipeAfterMs: num(m.get('wipeAfterMs')) ?? DEFAULT_WIPE_AFTER_MS,
      relayOnly: m.get('relayOnly') === true,
      remoteTask: str(m.get('remoteTask')),
      wentAt: num(m.get('wentAt')),
    }
  }

  announcements(): Announcement[] {
    return announcementsOf(this.doc)
      .toArray()
      .filter((a) => typeof a?.text === 'string' && typeof a.at === 'number')
  }

  /** The check-in key participants seal their check-ins to. */
  checkinKey(): BoxPublicKey | undefined {
    const k = fields(this.doc).get('checkinKey')
    if (typeof k !== 'string') return undefined
    const bytes = fromBase64Url(k)
    return bytes.length === 32 ? (bytes as BoxPublicKey) : undefined
  }

  stages(): StageView[] {
    const out: StageView[] = []
    stagesOf(this.doc).forEach((sealed, id) => {
      const stageId = id as StageId
      const content = this.reveal(stageId, sealed)
      out.push({ id: stageId, kind: stageKindOf(sealed?.kind), content, releasedAt: content ? this.revealedAt.get(stageId) : undefined })
    })
    return out
  }

  /** Applies a release from a QR code: checked against the core and the sealed stage. Throws ReleaseError. */
  acceptRelease(record: Uint8Array): StageView {
    const release = readRelease(record, this.briefId, this.core())
    const sealed = stagesOf(this.doc).get(release.stageId)
    if (!sealed) throw new ReleaseError('wrong-key')
    const content = openStage(release.key, this.briefId, release.stageId, sealed.box)
    this.extra.set(release.stageId, release)
    this.revealedAt.set(release.stageId, this.revealedAt.get(release.stageId) ?? Date.now())
    return { id: release.stageId, kind: stageKindOf(sealed.kind), content, releasedAt: this.revealedAt.get(release.stageId) }
  }

  /**
   * Takes a stage key another way gave (quorum, timelock). True if it opens the stage's box in
   * force; a key for an earlier version, or a wrong one, is not kept.
   */
  acceptKey(stageId: StageId, way: Exclude<ReleaseWay, 'core'>, key: SecretKey): boolean {
    const sealed = stagesOf(this.doc).get(stageId)
    if (!sealed || !(sealed.box instanceof Uint8Array)) return false
    try {
      openStage(key, this.briefId, stageId, sealed.box)
    } catch {
      return false
    }
    const ways = this.keysBy.get(stageId) ?? new Map<Exclude<ReleaseWay, 'core'>, SecretKey>()
    ways.set(way, key)
    this.keysBy.set(stageId, ways)
    return true
  }

  isReleased(stageId: StageId): boolean {
    return this.reveal(stageId, stagesOf(this.doc).get(stageId)) !== undefined
  }

  /** The marshals' quorum in force for a stage: only a split of the key its box is sealed under counts. */
  quorum(stageId: StageId): SealedQuorum | undefined {
    const q = quorumFrom(quorumsOf(this.doc).get(stageId))
    return q && q.keyId === this.sealedKeyId(stageId) ? q : undefined
  }

  /** The time lock in force for a stage: only one of the key its box is sealed under counts. */
  timelock(stageId: StageId): SealedTimelock | undefined {
    const t = timelockFrom(timelocksOf(this.doc).get(stageId))
    return t && t.keyId === this.sealedKeyId(stageId) ? { chain: t.chain, round: t.round, box: t.box } : undefined
  }

  timelockStages(): StageId[] {
    return [...timelocksOf(this.doc).keys()].map((id) => id as StageId).filter((id) => this.timelock(id) !== undefined)
  }

  /** Whether a way other than the core's opened the stage's version in force on this phone. */
  openedBy(stageId: StageId, way: Exclude<ReleaseWay, 'core'>): boolean {
    const key = this.keysBy.get(stageId)?.get(way)
    const sealed = stagesOf(this.doc).get(stageId)
    if (!key || !sealed || !(sealed.box instanceof Uint8Array)) return false
    try {
      openStage(key, this.briefId, stageId, sealed.box)
      return true
    } catch {
      return false // a key for an earlier version: the core resealed since
    }
  }

  /** Whether the core armed any way besides its own (in force or not: a phone loads the code to read it). */
  armsAnyWay(): boolean {
    return quorumsOf(this.doc).size > 0 || timelocksOf(this.doc).size > 0
  }

  /** Stages with a quorum in force. */
  quorumStages(): StageId[] {
    return [...quorumsOf(this.doc).keys()].map((id) => id as StageId).filter((id) => this.quorum(id) !== undefined)
  }

  /** What another way recorded in the brief for a stage (a core phone wrote it once it learned it). */
  recorded(stageId: StageId, way: Exclude<ReleaseWay, 'core'>): Uint8Array | undefined {
    const r = releasesOf(this.doc).get(recordKey(stageId, way))
    return r instanceof Uint8Array ? r : undefined
  }

  /** The ways armed for the action's stages (the location's, when stages differ): what the release screen and the brief say. */
  armed(stageId: StageId): ArmedWays {
    const q = this.quorum(stageId)
    const t = this.timelock(stageId)
    return {
      quorum: q ? { k: q.k, n: q.shares.length } : undefined,
      timelock: t ? { round: t.round, at: roundTime(t.chain, t.round), quicknet: t.chain.hash === QUICKNET.hash && t.chain.publicKey === QUICKNET.publicKey } : undefined,
    }
  }

  /** The id of the key the brief's box of this stage is sealed under. */
  sealedKeyId(stageId: StageId): string | undefined {
    return stagesOf(this.doc).get(stageId)?.keyId
  }

  onChange(listener: () => void): () => void {
    const handler = (): void => listener()
    this.doc.on('afterTransaction', handler)
    return () => this.doc.off('afterTransaction', handler)
  }

  private reveal(stageId: StageId, sealed: SealedStage | undefined): StageContent | undefined {
    if (!sealed || !(sealed.box instanceof Uint8Array)) return undefined
    for (const key of this.keysBy.get(stageId)?.values() ?? []) {
      try {
        const content = openStage(key, this.briefId, stageId, sealed.box)
        if (!this.revealedAt.has(stageId)) this.revealedAt.set(stageId, Date.now())
        return content
      } catch {
        // A key for an earlier version of the stage: the core resealed since.
      }
    }
    const candidates: Release[] = []
    const extra = this.extra.get(stageId)
    if (extra) candidates.push(extra)
    const record = releasesOf(this.doc).get(stageId)
    if (record instanceof Uint8Array) {
      try {
        candidates.push(readRelease(record, this.briefId, this.core()))
      } catch {
        // Not from the core, or forged: as if absent.
      }
    }
    for (const release of candidates) {
      if (release.stageId !== stageId) continue
      try {
        const content = openStage(release.key, this.briefId, stageId, sealed.box)
        if (!this.revealedAt.has(stageId)) this.revealedAt.set(stageId, Date.now())
        return content
      } catch {
        // A release whose key does not open this stage: ignored.
      }
    }
    return undefined
  }
}

/** The core's writes to the brief. Every method writes through the brief's frames, signed. */
export class BriefEditor {
  constructor(
    private readonly doc: Y.Doc,
    private readonly briefId: DocId,
  ) {}

  set(field: BriefField, value: string): void {
    fields(this.doc).set(field, value)
  }

  setNumber(field: 'stagingLat' | 'stagingLon', value: number | undefined): void {
    if (value === undefined) fields(this.doc).delete(field)
    else fields(this.doc).set(field, value)
  }

  setTimes(times: { gatherAt?: number; goAt?: number; endsAt?: number; wipeAfterMs?: number; timeZone?: string }): void {
    this.doc.transact(() => {
      const m = fields(this.doc)
      if (times.endsAt !== undefined) m.set('endsAt', times.endsAt)
      if (times.wipeAfterMs !== undefined) m.set('wipeAfterMs', times.wipeAfterMs)
      if (times.gatherAt !== undefined) m.set('gatherAt', times.gatherAt)
      if (times.goAt !== undefined) m.set('goAt', times.goAt)
      if (times.timeZone !== undefined) m.set('timeZone', times.timeZone)
    })
  }

  setRelayOnly(on: boolean): void {
    fields(this.doc).set('relayOnly', on)
  }

  /** The remote brief's own fields. */
  setRemote(patch: { remoteTask?: string; wentAt?: number }): void {
    this.doc.transact(() => {
      if (patch.remoteTask !== undefined) fields(this.doc).set('remoteTask', patch.remoteTask)
      if (patch.wentAt !== undefined) fields(this.doc).set('wentAt', patch.wentAt)
    })
  }

  setState(state: GoState): void {
    fields(this.doc).set('state', state)
  }

  setCheckins(show: boolean, count: number | undefined): void {
    this.doc.transact(() => {
      fields(this.doc).set('showCheckins', show)
      if (show && count !== undefined) fields(this.doc).set('checkins', count)
      else fields(this.doc).delete('checkins')
    })
  }

  setCheckinKey(key: BoxPublicKey): void {
    fields(this.doc).set('checkinKey', toBase64Url(key))
  }

  announce(text: string, at = Date.now()): void {
    announcementsOf(this.doc).push([{ at, text }])
  }

  sealStage(id: StageId, kind: StageKind, key: SecretKey, content: StageContent): void {
    stagesOf(this.doc).set(id, { kind, ...(kind === 'location' ? { label: LEGACY_LOCATION_LABEL } : {}), box: sealStage(key, this.briefId, id, content), keyId: stageKeyId(key) })
  }

  release(id: StageId, key: SecretKey, signer: DeviceIdentity): Uint8Array {
    const record = makeRelease(this.briefId, id, key, signer)
    releasesOf(this.doc).set(id, record)
    return record
  }

  /** Whether the core released the version of the stage in force (a release of an earlier key opens nothing now). */
  isReleased(id: StageId): boolean {
    const release = releasesOf(this.doc).get(id)
    const keyId = stagesOf(this.doc).get(id)?.keyId
    // A stage sealed before key ids were written says nothing of its version: a release of it counts.
    return release instanceof Uint8Array && (keyId === undefined || releasedKeyId(release) === keyId)
  }

  /** Arms (or, with undefined, disarms) the marshals' quorum of a stage. */
  setQuorum(id: StageId, quorum: SealedQuorum | undefined): void {
    if (quorum === undefined) quorumsOf(this.doc).delete(id)
    else quorumsOf(this.doc).set(id, { k: quorum.k, keyId: quorum.keyId, shares: quorum.shares.map((s) => ({ ...s })) })
  }

  /** Arms (or disarms) the time lock of a stage; `keyId` names the stage key inside. */
  setTimelock(id: StageId, sealed: SealedTimelock | undefined, keyId?: string): void {
    if (sealed === undefined || keyId === undefined) timelocksOf(this.doc).delete(id)
    else timelocksOf(this.doc).set(id, { chain: { ...sealed.chain }, round: sealed.round, box: sealed.box, keyId })
  }

  /** Records that another way opened a stage (what it was: the offers, the beacon), beside the core's release. */
  record(id: StageId, way: Exclude<ReleaseWay, 'core'>, evidence: Uint8Array): void {
    releasesOf(this.doc).set(recordKey(id, way), evidence)
  }

  isRecorded(id: StageId, way: Exclude<ReleaseWay, 'core'>): boolean {
    return releasesOf(this.doc).has(recordKey(id, way))
  }
}
