// A campaign: local actions (cells) that share a script and one go instant. Each cell stays an
// ordinary action with its own core, brief, participants and sealed location. Only coordinators
// (one or more core phones of each cell) hold the campaign document, under an identity of this
// campaign only: what it holds is what the cells agree on (name, script, go timing as signed
// orders, messages between coordinators) and, per cell, only the name and time zone its
// coordinator chose to show. No participant, staging point, location or size of a cell enters it.
//
// A cell joins through a one-time campaign invite (the lobby handshake every invite uses, answered by
// whichever coordinator is online), can leave, and can be removed: the campaign's epoch then ends without
// its coordinators (new keys sealed to the others), and every open campaign invite is made again,
// since the removed ones knew their secrets.
//
// A cell's core phones act on the campaign's orders as on their own core's (session.ts
// applyCampaign): the campaign cannot reach into a cell's plan, so a coordinator cannot release,
// redirect or read another cell; it can only time the campaign, and a cell may opt out of holds.
import * as Y from 'yjs'
import { concat, contentHash, forgetIdentity, fromBase64Url, sign, toBase64Url, utf8, verify, type DeviceIdentity, type DocId, type PublicIdentity, type SigningPublicKey } from '../crypto'
import type { SecureDoc } from '../doc'
import { RoomLink, type LinkStatus, type TransportSettings } from '../transport'
import type { DocAccess } from './access'
import { cachedOrderReader, campaignTiming, giveOrder, type CampaignOrderKind, type CampaignTiming } from './campaign-order'
import { ModelError } from './errors'
import { inviteUrl } from './invite-link'
import { addInvite, addWriterOnce, InviteDesk, invitesIn, invitesOf, joinerAccess, reissueOpenInvites, stateOf, type Admitting } from './invites'
import { closeWithout, stillNeedsClosing } from './rotation'

/**
 * A cell as the campaign shows it: what its coordinator chose to tell the others. Signed by the
 * coordinator whose key it is stored under, so no coordinator can rename another's cell, or make it
 * look as if it left; messages are signed the same way.
 */
interface CellEntry {
  /** The same for every coordinator of one cell (kept in that cell's plan). */
  readonly cell: string
  readonly name: string
  readonly timeZone: string
  readonly left?: true
  readonly sig: string
}

interface StoredMessage {
  readonly by: string
  readonly at: number
  readonly text: string
  readonly sig: string
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
  /** Which cell gave the order in force (its name); undefined before the first order. */
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
const messagesOf = (doc: Y.Doc): Y.Array<StoredMessage> => doc.getArray('messages')
/** How many open campaign invites a phone listens for, and how far ahead one may expire: bounds on what a coordinator's entries cost the others. */
const MAX_CAMPAIGN_LOBBIES = 32
const MAX_CAMPAIGN_INVITE_MS = 31 * 24 * 3600_000
/** How many rooms of earlier epochs the seat stays in (catch-up only), as an action does. */
const PREVIOUS_ROOMS = 2
/** After a cell leaves, coordinators other than the first (by key) wait this long before ending the epoch themselves. */
const LEAVE_CLOSE_AFTER_MS = 10_000

const entryBytes = (campaign: DocId, key: string, what: 'cell' | 'message', fields: readonly unknown[]): Uint8Array =>
  concat(fromBase64Url(campaign), fromBase64Url(key), utf8(what), utf8(JSON.stringify(fields)))
const cellFields = (e: Omit<CellEntry, 'sig'>): unknown[] => [e.cell, e.name, e.timeZone, e.left === true]

/** Checks a 'campaign-entry' signature (the seat's own, remembering what it checked). */
type EntryCheck = (message: Uint8Array, sig: string, key: string) => boolean

/**
 * Each signed entry checked once: the view is read at every change, and a signature check per cell
 * and message each time would grow with the campaign's history. Remembered by hash, per seat (gone
 * when it closes), so no message text lingers in this memory.
 */
function entryChecker(max = 4096): EntryCheck {
  const seen = new Map<string, boolean>()
  return (message, sig, key) => {
    const id = `${toBase64Url(contentHash(message))}|${sig}|${key}`
    const known = seen.get(id)
    if (known !== undefined) return known
    let ok = false
    try {
      ok = verify('campaign-entry', message, fromBase64Url(sig), fromBase64Url(key) as SigningPublicKey)
    } catch {
      ok = false // a signature or key that is not base64url
    }
    if (seen.size >= max) seen.clear()
    seen.set(id, ok)
    return ok
  }
}

/** A stored cell entry, if well formed and signed by `key`. */
function readCell(check: EntryCheck, campaign: DocId, key: string, e: unknown): CellEntry | undefined {
  const x = e as Partial<CellEntry> | null
  if (typeof x !== 'object' || x === null || typeof x.cell !== 'string' || typeof x.name !== 'string' || typeof x.timeZone !== 'string' || typeof x.sig !== 'string') return undefined
  if (x.cell.length > 64 || x.name.length > 200 || (x.left !== undefined && x.left !== true)) return undefined
  try {
    return check(entryBytes(campaign, key, 'cell', cellFields(x as CellEntry)), x.sig, key) ? (x as CellEntry) : undefined
  } catch {
    return undefined // a key that is not base64url
  }
}

function readMessage(check: EntryCheck, campaign: DocId, m: unknown): StoredMessage | undefined {
  const x = m as Partial<StoredMessage> | null
  if (typeof x !== 'object' || x === null || typeof x.by !== 'string' || typeof x.text !== 'string' || typeof x.at !== 'number' || typeof x.sig !== 'string' || x.text.length > MAX_TEXT) return undefined
  try {
    return check(entryBytes(campaign, x.by, 'message', [x.at, x.text]), x.sig, x.by) ? (x as StoredMessage) : undefined
  } catch {
    return undefined // a key that is not base64url
  }
}
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
  private links: RoomLink[] = []
  private leaveTimer: ReturnType<typeof setTimeout> | undefined
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
  private readonly checkEntry = entryChecker()

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

  /**
   * Joins the campaign's room (newest key) and the two before it (catch-up only: a coordinator that
   * was away during a removal finds the closure there, and two that closed apart meet), and answers
   * its invites (a joiner answers too, once its roster entry has arrived: the desk checks at each ask).
   */
  connect(access: DocAccess, transport: TransportSettings): void {
    this.access = access
    for (const link of this.links) link.leave()
    this.desk?.close()
    if (this.closed) return
    const epochs = [...access.keys.keys()].sort((x, y) => y - x)
    this.links = [
      new RoomLink(this.doc, access.keys.get(epochs[0]!)!, transport),
      ...epochs.slice(1, PREVIOUS_ROOMS + 1).map((e) => new RoomLink(this.doc, access.keys.get(e)!, { ...transport, relayLive: false })),
    ]
    this.desk = new InviteDesk(this.doc, this.admission(), this.signalingUrls, () => this.gone(), { maxLobbies: MAX_CAMPAIGN_LOBBIES, maxValidMs: MAX_CAMPAIGN_INVITE_MS })
  }

  /** The campaign room's link status (undefined before it connects). */
  status(): LinkStatus | undefined {
    return this.links[0]?.status()
  }

  close(): void {
    this.closed = true
    this.doc.plain.off('update', this.watch)
    this.doc.off('roster', this.watch)
    this.doc.off('epochs', this.watch)
    for (const link of this.links) link.leave()
    this.desk?.close()
    clearTimeout(this.leaveTimer)
    // Made from the seed at every open: nothing uses this copy after.
    forgetIdentity(this.me)
  }

  /** Coordinators whose orders count: writers now, neither removed nor gone. */
  coordinators(): Set<string> {
    const gone = this.gone()
    return new Set(this.doc.writers().map((w) => toBase64Url(w.signingPublicKey)).filter((k) => !gone.has(k)))
  }

  /**
   * The campaign's timing. Orders of coordinators since gone still hold their place in the count
   * (so a cell that leaves cannot take later orders with it), but change nothing.
   */
  timing(): CampaignTiming {
    const inForce = this.coordinators()
    return campaignTiming(this.doc.plain, this.id, inForce, this.readOrder, new Set([...inForce, ...this.gone()]))
  }

  view(): CampaignView {
    const plain = this.doc.plain
    const mine = toBase64Url(this.me.signingPublicKey)
    const live = this.coordinators()
    const byCell = new Map<string, CampaignCell>()
    const nameOf = new Map<string, string>()
    // Every coordinator in force shows, also one that never named its cell (it shows unnamed, and
    // can be removed like every other): none can coordinate unseen.
    for (const key of live) {
      const e = readCell(this.checkEntry, this.id, key, cellsOf(plain).get(key))
      const cell = e?.cell ?? key
      nameOf.set(key, e?.name ?? '')
      const had = byCell.get(cell)
      byCell.set(cell, {
        cell,
        name: had?.name || (e?.name ?? ''),
        timeZone: validZone(e?.timeZone) ?? had?.timeZone ?? 'UTC',
        coordinators: (had?.coordinators ?? 0) + 1,
        mine: (had?.mine ?? false) || key === mine,
      })
    }
    const timing = this.timing()
    const messages = messagesOf(plain)
      .toArray()
      .slice(-MAX_MESSAGES)
      .map((m) => readMessage(this.checkEntry, this.id, m))
      .filter((m): m is StoredMessage => m !== undefined && live.has(m.by))
      .map((m) => ({ cellName: nameOf.get(m.by) ?? '', at: m.at, text: m.text, mine: m.by === mine }))
    const invites: CampaignInviteView[] = []
    invitesIn(plain).forEach(([id, e]) => invites.push({ id, label: e.label ?? '', state: e.removed ? 'removed' : stateOf(e), expiresAt: e.expiresAt }))
    return {
      name: String(metaOf(plain).get('name') ?? '').slice(0, 200),
      script: String(metaOf(plain).get('script') ?? '').slice(0, MAX_TEXT),
      cells: [...byCell.values()].sort((a, b) => a.name.localeCompare(b.name)),
      timing,
      orderedBy: timing.order ? nameOf.get(timing.order.by) : undefined,
      messages,
      invites: invites.sort((a, b) => a.expiresAt - b.expiresAt),
      removed: this.isRemoved(live),
    }
  }

  /** This cell was removed from the campaign, or left: it writes nothing more. */
  private isRemoved(live = this.coordinators()): boolean {
    return this.doc.removedHere || !live.has(toBase64Url(this.me.signingPublicKey))
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
    giveOrder(this.doc.plain, this.id, this.me, kind, goAt, this.timing().seq + 1)
    this.doc.flush()
  }

  message(text: string): void {
    this.writable()
    const trimmed = text.trim().slice(0, MAX_TEXT)
    const by = toBase64Url(this.me.signingPublicKey)
    const at = Date.now()
    const sig = toBase64Url(sign('campaign-entry', entryBytes(this.id, by, 'message', [at, trimmed]), this.me.signingSecretKey))
    if (trimmed) messagesOf(this.doc.plain).push([{ by, at, text: trimmed, sig }])
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
    const mine = toBase64Url(this.me.signingPublicKey)
    // A coordinator that took this cell's id (or never named a cell: its id is its key) goes with it; this phone never removes itself.
    const keys = [...this.coordinators()].filter((key) => key !== mine && (key === cell || readCell(this.checkEntry, this.id, key, cellsOf(this.doc.plain).get(key))?.cell === cell))
    if (keys.length === 0) throw new ModelError('not-core', 'A coordinator cannot remove its own cell: leave the campaign instead.')
    const invites = invitesOf(this.doc.plain)
    this.doc.plain.transact(() => {
      for (const key of keys) removedOf(this.doc.plain).set(key, true)
      invitesIn(this.doc.plain).forEach(([id, e]) => e.redeemedBy && keys.includes(e.redeemedBy) && !e.removed && invites.set(id, { ...e, removed: true }))
    })
    this.doc.flush()
    this.close_()
  }

  /** This cell leaves: its entry says so, and the next coordinator online ends the epoch without it. */
  leave(): void {
    this.writable()
    const mine = toBase64Url(this.me.signingPublicKey)
    const entry = readCell(this.checkEntry, this.id, mine, cellsOf(this.doc.plain).get(mine))
    this.putCell({ cell: entry?.cell ?? mine, name: entry?.name ?? '', timeZone: entry?.timeZone ?? 'UTC', left: true })
  }

  // --- internals ---------------------------------------------------------------------

  private writable(): void {
    if (!this.doc.canWrite || this.isRemoved()) throw new ModelError('not-core', 'This cell is no longer in the campaign.')
  }

  /** Coordinators removed or gone: by the removals recorded, by leaving (signed), and by every settled closure. */
  private gone(): Set<string> {
    const out = new Set<string>(this.doc.removedWriters())
    removedOf(this.doc.plain).forEach((_, k) => out.add(k))
    cellsOf(this.doc.plain).forEach((e, k) => readCell(this.checkEntry, this.id, k, e)?.left && out.add(k))
    return out
  }

  private putCell(e: Omit<CellEntry, 'sig'>): void {
    const mine = toBase64Url(this.me.signingPublicKey)
    const sig = toBase64Url(sign('campaign-entry', entryBytes(this.id, mine, 'cell', cellFields(e)), this.me.signingSecretKey))
    cellsOf(this.doc.plain).set(mine, { ...e, sig })
    this.doc.flush()
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
    if (this.doc.canWrite && !this.isRemoved()) {
      // This cell's entry says what its core lets the others see, and follows its time zone.
      const mine = toBase64Url(this.me.signingPublicKey)
      const want = this.side.cell()
      const have = readCell(this.checkEntry, this.id, mine, cellsOf(plain).get(mine))
      if (!have?.left && (have?.cell !== want.cell || have.name !== want.name || have.timeZone !== want.timeZone)) {
        this.putCell({ cell: want.cell, name: want.name.slice(0, 200), timeZone: want.timeZone })
      }
      // A cell removed or gone, still reading: one coordinator ends the epoch. The first by key does
      // it at once; the others only if it has not after a while (it may be offline), so a leave
      // does not split the campaign into as many epochs as coordinators saw it.
      if (this.doc.canClose && stillNeedsClosing(this.doc, this.gone())) {
        const first = [...this.coordinators()].sort()[0]
        if (first === mine) this.close_()
        else if (this.leaveTimer === undefined) {
          this.leaveTimer = setTimeout(() => {
            this.leaveTimer = undefined
            if (!this.closed && this.doc.canClose && stillNeedsClosing(this.doc, this.gone())) this.close_()
          }, LEAVE_CLOSE_AFTER_MS * (1 + Math.random()))
        }
      }
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

