// The participant brief: what participants may know. Written only by the core (the
// brief's roster); read by everyone in the action. Sealed stages live here from the
// start; their keys arrive as releases.
import * as Y from 'yjs'
import { fromBase64Url, toBase64Url, type BoxPublicKey, type DocId, type PublicIdentity } from '../crypto'
import { makeRelease, openStage, readRelease, ReleaseError, sealStage, stageKeyId, stageKindOf, LEGACY_LOCATION_LABEL, type Release, type StageContent, type StageId, type StageKind } from './stage'
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

export interface StageView {
  readonly id: StageId
  readonly kind: StageKind
  /** Present once a valid release opened the stage. */
  readonly content: StageContent | undefined
  readonly releasedAt: number | undefined
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
const announcementsOf = (doc: Y.Doc) => doc.getArray<Announcement>('announcements')

const str = (v: unknown): string => (typeof v === 'string' ? v : '')
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined)

export class BriefView {
  /** Releases that came from a QR code, not (yet) through the brief. */
  private readonly extra = new Map<StageId, Release>()
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

  isReleased(stageId: StageId): boolean {
    return this.reveal(stageId, stagesOf(this.doc).get(stageId)) !== undefined
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

  isReleased(id: StageId): boolean {
    return releasesOf(this.doc).has(id)
  }
}
