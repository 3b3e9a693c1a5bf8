// A campaign's timing, as signed orders: Schedule (the go instant), Hold, Resume and Go now. Any
// coordinator may give one; each cell's core phones act on the order in force as on their own.
//
// The campaign document is encrypted and only its writers' frames count, so an order already
// comes from a coordinator's phone. The order is signed besides, by the coordinator's campaign
// identity, over the campaign's id: it names who gave it (shown to every coordinator), a
// coordinator cannot put an order in another's name, and an order from one campaign replayed into
// another does not verify.
//
// Two coordinators may order at once, and a clock may be fast, so orders are ranked by a counter,
// not by time: an order's `seq` is one past the highest it saw. Every phone folds the same set the
// same way (by seq, then by signature bytes), so all converge on one state. An order whose seq
// jumps ahead (seq > highest accepted + 1) waits its turn (it counts only once the orders before it
// exist, and the next order passes it): no coordinator can order "forever last". Orders of a
// coordinator no longer in the campaign (its cell removed, or left) keep their place in the count,
// so leaving takes no other coordinator's order with it, but change nothing.
//
// order = seq (u32) | kind (u8) | go at, ms (u32 high | u32 low) | by: signing key (32) | signature (64)
// signed: campaign id (32) | seq | kind | go at
import * as Y from 'yjs'
import { concat, fromBase64Url, Reader, readU32, sign, toBase64Url, u32, verify, type DeviceIdentity, type DocId, type SigningPublicKey } from '../crypto'

export type CampaignOrderKind = 'schedule' | 'hold' | 'resume' | 'go'
const KINDS: readonly CampaignOrderKind[] = ['schedule', 'hold', 'resume', 'go']

export interface CampaignOrder {
  readonly seq: number
  readonly kind: CampaignOrderKind
  /** schedule: the campaign's go instant. go: when it was given. Others: 0. */
  readonly goAt: number
  /** The coordinator's campaign signing key (base64url). */
  readonly by: string
  /** `${seq}.${by}`: stable, and one per coordinator and counter. */
  readonly id: string
}

/** held: every cell waits (except one that opted out). went: Go now was given. */
export type CampaignGo = 'unset' | 'scheduled' | 'held' | 'went'

export interface CampaignTiming {
  readonly goAt: number | undefined
  readonly state: CampaignGo
  /** The last order taken into the state, and who gave it. */
  readonly order: CampaignOrder | undefined
  /** The highest seq accepted: the next order takes one past it. */
  readonly seq: number
}

export const ordersOf = (doc: Y.Doc): Y.Map<string> => doc.getMap<string>('orders')

const MAX_MS = 2 ** 53 - 1
const signedPart = (campaign: DocId, seq: number, kind: number, goAt: number): Uint8Array =>
  concat(fromBase64Url(campaign), u32(seq), Uint8Array.of(kind), u32(Math.floor(goAt / 2 ** 32)), u32(goAt % 2 ** 32))

/** Writes a new order numbered `seq`: one past the highest the giver's phone has counted (campaignTiming's seq + 1). */
export function giveOrder(doc: Y.Doc, campaign: DocId, me: DeviceIdentity, kind: CampaignOrderKind, goAt: number, seq: number): CampaignOrder {
  const at = Math.max(0, Math.min(MAX_MS, Math.round(goAt)))
  const body = signedPart(campaign, seq, KINDS.indexOf(kind), at)
  const sig = sign('campaign-order', body, me.signingSecretKey)
  const by = toBase64Url(me.signingPublicKey)
  const id = `${seq}.${by}`
  ordersOf(doc).set(id, toBase64Url(concat(body.subarray(32), me.signingPublicKey, sig)))
  return { seq, kind, goAt: at, by, id }
}

/** An order as stored, checked: undefined if it is malformed, not signed by `by`, or stored under another id. */
export function readOrder(campaign: DocId, id: string, stored: unknown): CampaignOrder | undefined {
  if (typeof stored !== 'string' || stored.length > 400) return undefined
  try {
    const r = new Reader(fromBase64Url(stored))
    const head = r.bytes(4 + 1 + 8)
    const key = r.bytes(32) as SigningPublicKey
    const sig = r.bytes(64)
    r.done()
    const seq = readU32(head, 0)
    const kind = KINDS[head[4]!]
    const goAt = readU32(head, 5) * 2 ** 32 + readU32(head, 9)
    const by = toBase64Url(key)
    if (!kind || seq < 1 || goAt > MAX_MS || id !== `${seq}.${by}`) return undefined
    if (!verify('campaign-order', signedPart(campaign, seq, head[4]!, goAt), sig, key)) return undefined
    return { seq, kind, goAt, by, id }
  } catch {
    return undefined
  }
}

export type OrderReader = (campaign: DocId, id: string, stored: unknown) => CampaignOrder | undefined

/**
 * readOrder, each stored order checked once: a coordinator that floods the map with orders costs one
 * signature check per order, not one per order at every later change.
 */
export function cachedOrderReader(max = 4096): OrderReader {
  const seen = new Map<string, CampaignOrder | undefined>()
  return (campaign, id, stored) => {
    const key = `${campaign}|${id}|${String(stored)}`
    if (seen.has(key)) return seen.get(key)
    if (seen.size >= max) seen.clear()
    const order = readOrder(campaign, id, stored)
    seen.set(key, order)
    return order
  }
}

/**
 * The campaign's timing: every valid order, folded in one order every phone shares. Orders of
 * `counted` keys (coordinators in force and those since gone) keep their place in the count; only
 * those of `coordinators` in force change the state.
 */
export function campaignTiming(doc: Y.Doc, campaign: DocId, coordinators: ReadonlySet<string>, read: OrderReader = readOrder, counted: ReadonlySet<string> = coordinators): CampaignTiming {
  const orders: { order: CampaignOrder; raw: string }[] = []
  ordersOf(doc).forEach((stored, id) => {
    // Whose it claims to be, before any signature is checked: nobody's orders cost a check.
    if (!counted.has(id.slice(id.indexOf('.') + 1))) return
    const order = read(campaign, id, stored)
    if (order) orders.push({ order, raw: stored })
  })
  orders.sort((a, b) => a.order.seq - b.order.seq || (a.raw < b.raw ? -1 : a.raw > b.raw ? 1 : 0))
  let seq = 0
  let goAt: number | undefined
  let state: CampaignGo = 'unset'
  let last: CampaignOrder | undefined
  for (const { order } of orders) {
    if (order.seq > seq + 1) break // a jump ahead: this one and all after it wait for the orders between
    seq = Math.max(seq, order.seq)
    if (!coordinators.has(order.by)) continue // gone since: counted, not followed
    last = order
    if (state === 'went') continue // nothing undoes a go
    if (order.kind === 'schedule') {
      goAt = order.goAt
      if (state === 'unset') state = 'scheduled'
    } else if (order.kind === 'hold') state = 'held'
    else if (order.kind === 'resume') state = goAt === undefined ? 'unset' : 'scheduled'
    else {
      state = 'went'
      goAt = Math.min(goAt ?? order.goAt, order.goAt)
    }
  }
  return { goAt, state, order: last, seq }
}
