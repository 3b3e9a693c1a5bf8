// A campaign: local actions (cells) that share a script and one go instant. Each cell stays an
// ordinary action with its own core, brief, participants and sealed location. Only coordinators
// (one or more core phones of each cell) hold the campaign document, under an identity of this
// campaign only: what it holds is what the cells agree on (name, script, go timing as signed
// orders, messages between coordinators) and, per cell, only the name and time zone its
// coordinator chose to show. No participant, staging point, location or size of a cell enters it.
//
// A cell joins through a one-time campaign invite (the lobby handshake of any invite, answered by
// any coordinator online), can leave, and can be removed: the campaign's epoch then ends without
// its coordinators (new keys sealed to the others), and every open campaign invite is made again,
// since the removed ones knew their secrets.
//
// A cell's core phones act on the campaign's orders as on their own core's (session.ts
// applyCampaign): the campaign cannot reach into a cell's plan, so a coordinator cannot release,
// redirect or read another cell; it can only time the campaign, and a cell may opt out of holds.
import * as Y from 'yjs'
import { forgetIdentity, toBase64Url, type DeviceIdentity, type DocId, type PublicIdentity } from '../crypto'
import type { SecureDoc } from '../doc'
import { RoomLink, type LinkStatus, type TransportSettings } from '../transport'
import type { DocAccess } from './access'
import { cachedOrderReader, campaignTiming, giveOrder, type CampaignOrderKind, type CampaignTiming } from './campaign-order'
import { ModelError } from './errors'
import { inviteUrl } from './invite-link'
import { addInvite, addWriterOnce, InviteDesk, invitesOf, joinerAccess, reissueOpenInvites, stateOf, type Admitting } from './invites'
import { closeWithout, stillNeedsClosing } from './rotation'

/** A cell as the campaign shows it: what its coordinator chose to tell the others. */
interface CellEntry {
  /** The same for every coordinator of one cell (kept in that cell's plan). */
  readonly cell: string
  readonly name: string
  readonly timeZone: string
  readonly left?: true
}

export interface CampaignCell {
  readonly cell: string
  readonly name: string
  readonly timeZone: string
  readonly coordinators: number
  readonly mine: boolean
}

export interface CampaignMessage {
  readonly cellName: string
  readonly at: number
  readonly text: string
  readonly mine: boolean
}

export interface CampaignInviteView {
  readonly id: string
  readonly label: string
  readonly state: ReturnType<typeof stateOf> | 'removed'
  readonly expiresAt: number
}

export interface CampaignView {
  readonly name: string
  readonly script: string
  readonly cells: readonly CampaignCell[]
  readonly timing: CampaignTiming
  /** Which cell gave the order in force (its name), if any. */
  readonly orderedBy: string | undefined
  readonly messages: readonly CampaignMessage[]
  readonly invites: readonly CampaignInviteView[]
  /** This cell was removed from the campaign (or left): it hears nothing new. */
  readonly removed: boolean
}

const MAX_TEXT = 4000
const MAX_MESSAGES = 500
const CAMPAIGN_INVITE_VALID_MS = 7 * 24 * 3600_000

const metaOf = (doc: Y.Doc): Y.Map<string> => doc.getMap<string>('campaign')
const cellsOf = (doc: Y.Doc): Y.Map<CellEntry> => doc.getMap<CellEntry>('cells')
const messagesOf = (doc: Y.Doc): Y.Array<{ by: string; at: number; text: string }> => doc.getArray('messages')
const removedOf = (doc: Y.Doc): Y.Map<true> => doc.getMap<true>('removed')

/** What the campaign asks of the cell this phone coordinates. */
export interface CellSide {
  /** The cell's id in the campaign, its shown name and time zone. */
  readonly cell: () => { cell: string; name: string; timeZone: string }
  /** The campaign's timing changed: the cell acts on the order in force. */
  readonly apply: (timing: CampaignTiming) => void
  readonly changed: () => void
}

/** A coordinator's seat in a campaign: the campaign document, its room and its invites. */
export class Campaign {
  private link: RoomLink | undefined
  private desk: InviteDesk | undefined
  private pending = false
  /** Coalesced, and outside the transaction that changed the document (onChange may write to it). */
  private readonly watch = (): void => {
    if (this.pending) return
    this.pending = true
    queueMicrotask(() => {
      this.pending = false
      this.onChange()
    })
  }
  private closed = false
  private readonly readOrder = cachedOrderReader()

  constructor(
    readonly doc: SecureDoc,
    private access: DocAccess,
    readonly me: DeviceIdentity,
    private readonly side: CellSide,
    private readonly signalingUrls: readonly string[],
  ) {
    doc.plain.on('update', this.watch)
    doc.on('roster', this.watch)
    doc.on('epochs', this.watch)
    this.watch()
  }

  get id(): DocId {
    return this.access.docId
  }

  /** Joins the campaign's room (newest key) and answers its invites. */
  connect(access: DocAccess, transport: TransportSettings): void {
    this.access = access
    this.link?.leave()
    this.desk?.close()
    if (this.closed) return
    const newest = Math.max(...access.keys.keys())
    this.link = new RoomLink(this.doc, access.keys.get(newest)!, transport)
    this.desk = this.doc.canWrite ? new InviteDesk(this.doc, this.admission(), this.signalingUrls, () => this.gone()) : undefined
  }

  /** The campaign room's link status (undefined before it connects). */
  status(): LinkStatus | undefined {
    return this.link?.status()
  }

  close(): void {
    this.closed = true
    this.doc.plain.off('update', this.watch)
    this.doc.off('roster', this.watch)
    this.doc.off('epochs', this.watch)
    this.link?.leave()
    this.desk?.close()
    // Made from the seed at every open: nothing uses this copy after.
    forgetIdentity(this.me)
  }

  /** Coordinators whose orders count: writers now, neither removed nor gone. */
  coordinators(): Set<string> {
    const gone = this.gone()
    return new Set(this.doc.writers().map((w) => toBase64Url(w.signingPublicKey)).filter((k) => !gone.has(k)))
  }

  timing(): CampaignTiming {
    return campaignTiming(this.doc.plain, this.id, this.coordinators(), this.readOrder)
  }

  view(): CampaignView {
    const plain = this.doc.plain
    const mine = toBase64Url(this.me.signingPublicKey)
    const live = this.coordinators()
    const byCell = new Map<string, CampaignCell>()
    const nameOf = new Map<string, string>()
    cellsOf(plain).forEach((e, key) => {
      if (!live.has(key) || typeof e?.cell !== 'string') return
      nameOf.set(key, String(e.name))
      const had = byCell.get(e.cell)
      byCell.set(e.cell, {
        cell: e.cell,
        name: had?.name || String(e.name).slice(0, 200),
        timeZone: validZone(e.timeZone) ?? had?.timeZone ?? 'UTC',
        coordinators: (had?.coordinators ?? 0) + 1,
        mine: (had?.mine ?? false) || key === mine,
      })
    })
    const timing = this.timing()
    const messages = messagesOf(plain)
      .toArray()
      .slice(-MAX_MESSAGES)
      .filter((m) => typeof m?.text === 'string' && typeof m.at === 'number' && live.has(m.by))
      .map((m) => ({ cellName: nameOf.get(m.by) ?? '', at: m.at, text: m.text.slice(0, MAX_TEXT), mine: m.by === mine }))
    const invites: CampaignInviteView[] = []
    invitesOf(plain).forEach((e, id) => invites.push({ id, label: e.label ?? '', state: e.removed ? 'removed' : stateOf(e), expiresAt: e.expiresAt }))
    return {
      name: String(metaOf(plain).get('name') ?? '').slice(0, 200),
      script: String(metaOf(plain).get('script') ?? '').slice(0, MAX_TEXT),
      cells: [...byCell.values()].sort((a, b) => a.name.localeCompare(b.name)),
      timing,
      orderedBy: timing.order ? nameOf.get(timing.order.by) : undefined,
      messages,
      invites: invites.sort((a, b) => a.expiresAt - b.expiresAt),
      removed: this.doc.removedHere || !live.has(mine),
    }
  }

  // --- what a coordinator does ------------------------------------------------------

  set(field: 'name' | 'script', value: string): void {
    this.writable()
    metaOf(this.doc.plain).set(field, value.slice(0, MAX_TEXT))
    this.doc.flush()
  }

  /** Hold, Resume, Go now, or Schedule (the go instant, `goAt`): signed, for the whole campaign. */
  order(kind: CampaignOrderKind, goAt = Date.now()): void {
    this.writable()
    giveOrder(this.doc.plain, this.id, this.me, kind, goAt, this.coordinators(), this.readOrder)
    this.doc.flush()
  }

  message(text: string): void {
    this.writable()
    const trimmed = text.trim().slice(0, MAX_TEXT)
    if (trimmed) messagesOf(this.doc.plain).push([{ by: toBase64Url(this.me.signingPublicKey), at: Date.now(), text: trimmed }])
    this.doc.flush()
  }

  /** A one-time link another cell's core phone joins the campaign with. */
  invite(label: string, origin: string, validForMs = CAMPAIGN_INVITE_VALID_MS): string {
    this.writable()
    return inviteUrl(origin, addInvite(this.doc, this.me, 'cell', label, validForMs))
  }

  /**
   * Removes a cell (every coordinator of it): the campaign's epoch ends without them, and every
   * open campaign invite is made again (they knew its secrets).
   */
  removeCell(cell: string): void {
    this.writable()
    const keys: string[] = []
    cellsOf(this.doc.plain).forEach((e, key) => e?.cell === cell && keys.push(key))
    if (keys.includes(toBase64Url(this.me.signingPublicKey))) throw new ModelError('not-core', 'A coordinator cannot remove its own cell: leave the campaign instead.')
    const invites = invitesOf(this.doc.plain)
    this.doc.plain.transact(() => {
      for (const key of keys) removedOf(this.doc.plain).set(key, true)
      invites.forEach((e, id) => e.redeemedBy && keys.includes(e.redeemedBy) && !e.removed && invites.set(id, { ...e, removed: true }))
    })
    this.doc.flush()
    this.close_()
  }

  /** This cell leaves: its entry says so, and the next coordinator online ends the epoch without it. */
  leave(): void {
    this.writable()
    const mine = toBase64Url(this.me.signingPublicKey)
    const entry = cellsOf(this.doc.plain).get(mine)
    if (entry) cellsOf(this.doc.plain).set(mine, { ...entry, left: true })
    this.doc.flush()
  }

  // --- internals ---------------------------------------------------------------------

  private writable(): void {
    if (!this.doc.canWrite || this.view().removed) throw new ModelError('not-core', 'This cell is no longer in the campaign.')
  }

  /** Coordinators removed or gone: by the removals recorded, by leaving, and by every settled closure. */
  private gone(): Set<string> {
    const out = new Set<string>(this.doc.removedWriters())
    removedOf(this.doc.plain).forEach((_, k) => out.add(k))
    cellsOf(this.doc.plain).forEach((e, k) => e?.left && out.add(k))
    return out
  }

  private close_(): void {
    const gone = this.gone()
    if (closeWithout(this.doc, gone, { writers: this.doc.writers(), readers: [] })) {
      reissueOpenInvites(this.doc, this.me)
    }
  }

  private onChange(): void {
    if (this.closed) return
    const plain = this.doc.plain
    if (this.doc.canWrite && !this.view().removed) {
      // This cell's entry says what its core lets the others see, and follows its time zone.
      const mine = toBase64Url(this.me.signingPublicKey)
      const want = this.side.cell()
      const have = cellsOf(plain).get(mine)
      if (!have?.left && (have?.cell !== want.cell || have.name !== want.name || have.timeZone !== want.timeZone)) {
        cellsOf(plain).set(mine, { cell: want.cell, name: want.name, timeZone: want.timeZone })
        this.doc.flush()
      }
      // A cell removed or gone, still reading: the first coordinator to notice ends the epoch.
      if (this.doc.canClose && stillNeedsClosing(this.doc, this.gone())) this.close_()
    }
    this.side.apply(this.timing())
    this.side.changed()
  }

  private admission(): Admitting {
    const welcomeFor = (_tier: string, joiner: PublicIdentity) => ({ tier: 'cell' as const, admittedBy: this.me, campaign: joinerAccess(this.doc, this.access, joiner) })
    return {
      welcomeFor,
      admit: (tier, joiner) => {
        if (tier === 'cell') addWriterOnce(this.doc, joiner)
        return welcomeFor(tier, joiner)
      },
    }
  }
}

const validZone = (zone: unknown): string | undefined => {
  if (typeof zone !== 'string' || zone.length > 64) return undefined
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone })
    return zone
  } catch {
    return undefined
  }
}

