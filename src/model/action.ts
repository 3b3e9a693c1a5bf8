// An action as one phone keeps it: its role there, the documents it can open, and
// (for a participant) the identity it uses in this action only.
import { fromBase64Url, fromUtf8, randomBytes, toBase64Url, utf8, type Brand } from '../crypto'
import { accessFromJson, accessToJson, type DocAccess } from './access'
import { ModelError } from './errors'

/** This phone's own name for an action; never leaves the phone. */
export type ActionId = Brand<string, 'ActionId'>

/** remote: takes part from afar; its `brief` is the action's remote brief, which never holds the location. */
export type Role = 'core' | 'participant' | 'remote'

/** A core phone's seat in a campaign: the campaign document and the identity it coordinates with (this campaign only). */
export interface CampaignSeat {
  readonly access: DocAccess
  readonly identitySeed: Uint8Array
}

export interface ActionRecord {
  readonly id: ActionId
  readonly role: Role
  /** The core plan (core phones only). */
  readonly plan?: DocAccess
  readonly brief: DocAccess
  /** The remote brief (core phones of actions made since campaigns): what remote supporters read. */
  readonly remote?: DocAccess
  /** This phone coordinates its action in a campaign (core phones only). */
  readonly campaign?: CampaignSeat
  /**
   * Each action has an identity of its own on this phone (core and participant alike),
   * so its keys cannot link the person across actions. Older records lack it: the
   * device identity stands in.
   */
  readonly identitySeed?: Uint8Array
  /** Releases received by QR code (before or instead of the brief's own). */
  readonly releases?: readonly Uint8Array[]
  /** Marshals' share offers held (without-core.ts): a restart keeps what opened, or will open, a stage. */
  readonly offers?: readonly Uint8Array[]
  /** drand beacons checked against a time lock of this action (without-core.ts). */
  readonly beacons?: readonly Uint8Array[]
  readonly checkedInAt?: number
}

export const newActionId = (): ActionId => toBase64Url(randomBytes(16)) as ActionId

export function encodeAction(a: ActionRecord): Uint8Array {
  return utf8(
    JSON.stringify({
      v: 1,
      id: a.id,
      role: a.role,
      brief: accessToJson(a.brief),
      ...(a.plan ? { plan: accessToJson(a.plan) } : {}),
      ...(a.remote ? { remote: accessToJson(a.remote) } : {}),
      ...(a.campaign ? { campaign: { access: accessToJson(a.campaign.access), identitySeed: toBase64Url(a.campaign.identitySeed) } } : {}),
      ...(a.identitySeed ? { identitySeed: toBase64Url(a.identitySeed) } : {}),
      ...(a.releases?.length ? { releases: a.releases.map(toBase64Url) } : {}),
      ...(a.offers?.length ? { offers: a.offers.map(toBase64Url) } : {}),
      ...(a.beacons?.length ? { beacons: a.beacons.map(toBase64Url) } : {}),
      ...(a.checkedInAt !== undefined ? { checkedInAt: a.checkedInAt } : {}),
    }),
  )
}

export function decodeAction(bytes: Uint8Array): ActionRecord {
  try {
    const j = JSON.parse(fromUtf8(bytes)) as Record<string, unknown>
    if (j.v !== 1 || typeof j.id !== 'string' || (j.role !== 'core' && j.role !== 'participant' && j.role !== 'remote')) throw new Error()
    const seat = j.campaign as { access?: unknown; identitySeed?: unknown } | undefined
    return {
      id: j.id as ActionId,
      role: j.role,
      brief: accessFromJson(j.brief),
      ...(j.plan ? { plan: accessFromJson(j.plan) } : {}),
      ...(j.remote ? { remote: accessFromJson(j.remote) } : {}),
      ...(seat && typeof seat.identitySeed === 'string' ? { campaign: { access: accessFromJson(seat.access), identitySeed: fromBase64Url(seat.identitySeed) } } : {}),
      ...(typeof j.identitySeed === 'string' ? { identitySeed: fromBase64Url(j.identitySeed) } : {}),
      ...(Array.isArray(j.releases) ? { releases: j.releases.map((r) => fromBase64Url(String(r))) } : {}),
      ...(Array.isArray(j.offers) ? { offers: j.offers.map((r) => fromBase64Url(String(r))) } : {}),
      ...(Array.isArray(j.beacons) ? { beacons: j.beacons.map((r) => fromBase64Url(String(r))) } : {}),
      ...(typeof j.checkedInAt === 'number' ? { checkedInAt: j.checkedInAt } : {}),
    }
  } catch {
    throw new ModelError('corrupt-record', 'A saved action could not be read; it was left untouched.')
  }
}
