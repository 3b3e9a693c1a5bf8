// The core plan: what only the core knows. The UI sees plain strings and a change
// signal; keys stay inside the model.
import * as Y from 'yjs'
import { boxKeysFromSeed, fromBase64Url, randomBytes, toBase64Url, type SecretKey } from '../crypto'
import type { CheckinKeys } from './checkin'
import type { DrandChain } from './ways'
import { LEGACY_LOCATION_LABEL, stageKindOf, type StageContent, type StageId, type StageKind } from './stage'

export const PLAN_FIELDS = ['title', 'notes', 'marshals'] as const
export type PlanField = (typeof PLAN_FIELDS)[number]
export type PlanText = Readonly<Record<PlanField, string>>

export interface QuorumSetting {
  readonly k: number
  readonly marshals: readonly string[]
}

/** A stage as the core holds it: its content in the clear and its key. */
export interface CoreStage {
  readonly id: StageId
  readonly kind: StageKind
  readonly content: StageContent
  /** Released with go unless set: a later stage (dispersal, say) may have its own time. */
  readonly releaseAt: number | undefined
}

interface StoredStage {
  readonly kind?: StageKind
  /** Only for phones of the version before kinds (LEGACY_LOCATION_LABEL). */
  readonly label?: string
  readonly key: string
  readonly text: string
  readonly lat?: number
  readonly lon?: number
  readonly releaseAt?: number
}

export class PlanView {
  constructor(readonly doc: Y.Doc) {}

  read(): PlanText {
    return { title: this.text('title').toString(), notes: this.text('notes').toString(), marshals: this.text('marshals').toString() }
  }

  /** Replaces a field's text by the smallest edit, so concurrent edits elsewhere in it merge. */
  set(field: PlanField, value: string): void {
    const text = this.text(field)
    const old = text.toString()
    if (old === value) return
    let start = 0
    while (start < old.length && start < value.length && old[start] === value[start]) start++
    let end = 0
    while (end < old.length - start && end < value.length - start && old[old.length - 1 - end] === value[value.length - 1 - end]) end++
    this.doc.transact(() => {
      if (old.length - start - end > 0) text.delete(start, old.length - start - end)
      if (value.length - start - end > 0) text.insert(start, value.slice(start, value.length - end))
    })
  }

  stages(): CoreStage[] {
    const out: CoreStage[] = []
    this.stageMap().forEach((s, id) => {
      out.push({
        id: id as StageId,
        kind: stageKindOf(s.kind),
        content: { text: s.text, ...(s.lat !== undefined && s.lon !== undefined ? { lat: s.lat, lon: s.lon } : {}) },
        releaseAt: s.releaseAt,
      })
    })
    return out
  }

  /** Internal to the model: a stage's key. */
  stageKey(id: StageId): SecretKey | undefined {
    const s = this.stageMap().get(id)
    return s ? (fromBase64Url(s.key) as SecretKey) : undefined
  }

  /**
   * Creates or updates a stage; returns its key. Every version gets a new key: a release
   * then opens only the version in force, never an earlier one still in the brief's log,
   * and after a removal the removed member's copy of the key opens nothing new.
   */
  putStage(id: StageId, kind: StageKind, content: StageContent, releaseAt?: number): SecretKey {
    const key = randomBytes(32) as SecretKey
    this.stageMap().set(id, {
      kind,
      ...(kind === 'location' ? { label: LEGACY_LOCATION_LABEL } : {}),
      key: toBase64Url(key),
      text: content.text,
      ...(content.lat !== undefined && content.lon !== undefined ? { lat: content.lat, lon: content.lon } : {}),
      ...(releaseAt !== undefined ? { releaseAt } : {}),
    })
    return key
  }

  /** A new check-in key pair (a core member was removed: it knew the old one). */
  renewCheckinKeys(): CheckinKeys {
    this.doc.getMap<string>('secrets').set('checkin', toBase64Url(randomBytes(32)))
    return this.checkinKeys()
  }

  /** The check-in key pair, made once per action by the first core phone that needs it. */
  checkinKeys(): CheckinKeys {
    const secrets = this.doc.getMap<string>('secrets')
    let seed = secrets.get('checkin')
    if (typeof seed !== 'string') {
      seed = toBase64Url(randomBytes(32))
      secrets.set('checkin', seed)
    }
    return boxKeysFromSeed(fromBase64Url(seed))
  }

  /** Check-ins recorded: participant key -> when. */
  checkins(): Map<string, number> {
    const out = new Map<string, number>()
    this.doc.getMap<number>('checkins').forEach((at, who) => typeof at === 'number' && out.set(who, at))
    return out
  }

  recordCheckin(who: string, at: number): boolean {
    const map = this.doc.getMap<number>('checkins')
    if (map.has(who)) return false
    map.set(who, at)
    return true
  }

  /** The marshals' quorum the core chose (off: undefined): k of the marshals, by their action signing keys. */
  quorumSetting(): QuorumSetting | undefined {
    const m = this.doc.getMap<unknown>('quorum')
    const k = m.get('k')
    const marshals = m.get('marshals')
    if (typeof k !== 'number' || !Array.isArray(marshals) || !marshals.every((x) => typeof x === 'string')) return undefined
    return { k, marshals: marshals as string[] }
  }

  setQuorumSetting(setting: QuorumSetting | undefined): void {
    const m = this.doc.getMap<unknown>('quorum')
    this.doc.transact(() => {
      if (setting === undefined) m.clear()
      else {
        m.set('k', setting.k)
        m.set('marshals', [...setting.marshals])
      }
    })
  }

  /** The drand chain the core encrypts stage keys to go time with (off: undefined). */
  timelockChain(): DrandChain | undefined {
    const c = this.doc.getMap<unknown>('timelock').get('chain') as Partial<DrandChain> | undefined
    return c && typeof c.hash === 'string' && typeof c.publicKey === 'string' && typeof c.scheme === 'string' && Number.isFinite(c.period) && Number.isFinite(c.genesisTime)
      ? (c as DrandChain)
      : undefined
  }

  setTimelockChain(chain: DrandChain | undefined): void {
    const m = this.doc.getMap<unknown>('timelock')
    if (chain === undefined) m.delete('chain')
    else m.set('chain', { ...chain })
  }

  onChange(listener: () => void): () => void {
    const handler = (): void => listener()
    this.doc.on('afterTransaction', handler)
    return () => this.doc.off('afterTransaction', handler)
  }

  private stageMap(): Y.Map<StoredStage> {
    return this.doc.getMap<StoredStage>('stages')
  }

  private text(field: PlanField): Y.Text {
    return this.doc.getText(field)
  }
}
