// The core side of invites: the plan lists them (so every core phone knows them),
// and any online core phone answers join requests in their lobbies.
//
// One invite, one joiner, even when two phones use one link at once on two core
// phones: a core phone first writes its claim (this joiner redeems this invite) into
// the plan, and answers (welcome, or "already used") only once the claim it sees has
// stayed the same for SETTLE_MS. Concurrent claims converge to one winner on every
// replica (Yjs map entries are last-writer-wins by a rule every replica applies
// alike), so core phones that can reach each other admit exactly one. Two core phones
// cut off from each other during the settle window could each admit one joiner; the
// core would then remove one (SECURITY.md, known limits).
import * as Y from 'yjs'
import { fromBase64Url, identityFromSeed, IDENTITY_SEED_BYTES, toBase64Url, type DeviceIdentity, type PublicIdentity, type SecretKey } from '../crypto'
import type { SecureDoc } from '../doc'
import { ownSockets, releaseSockets, type SealedTopic } from '../transport'
import type { DocAccess } from './access'
import { inviteUrl, newInvite, type NewInvite, type InviteTier } from './invite-link'
import { inviteIdOf, lobbyTopic, readLobbyMessage, refusal, welcome, type JoinRequest, type RefusalReason, type Welcome } from './lobby'

/** How an invite is recorded in the core plan. */
export interface InviteEntry {
  readonly secret: string
  /** Seed of the invite's answer key: only core phones can sign welcomes and refusals. */
  readonly answerer: string
  readonly tier: InviteTier
  /** A name the core gave this invite ("Ana", "marshal 2"): how its joiner appears in check-ins. */
  readonly label: string
  readonly expiresAt: number
  readonly createdBy: string
  readonly redeemedBy?: string
  /** The joiner's box key: where new keys are sealed when keys rotate. */
  readonly redeemedBox?: string
  readonly revoked?: true
  /** The joiner was removed by the core (keys rotated without it). */
  readonly removed?: true
  /** Withdrawn because a removed core member knew its secrets; this invite replaces it. */
  readonly replacedBy?: string
  /** A participant's to pass on: the invite (id) that admitted the person who vouches with it. */
  readonly vouchedBy?: string
}

export type InviteState = 'open' | 'used' | 'expired' | 'revoked'

/** How long a claim must look unchanged before a core phone acts on it. */
export const SETTLE_MS = 1500
/** A used invite's lobby stays open this long after expiry, for joiners that missed their welcome. */
const LOBBY_GRACE_MS = 24 * 3600_000

export const invitesOf = (plan: Y.Doc): Y.Map<InviteEntry> => plan.getMap<InviteEntry>('invites')

const TIERS: readonly InviteTier[] = ['core', 'participant', 'remote', 'cell']
const b64Length = (v: unknown): number => {
  try {
    return typeof v === 'string' ? fromBase64Url(v).length : -1
  } catch {
    return -1
  }
}

/**
 * Whether an entry is one an honest phone could have written: every writer of the document can put
 * anything in the map, and a malformed entry must not stop a phone from opening its action.
 */
export function wellFormedInvite(e: unknown): e is InviteEntry {
  const x = e as Partial<InviteEntry> | null
  return (
    typeof x === 'object' &&
    x !== null &&
    TIERS.includes(x.tier as InviteTier) &&
    b64Length(x.secret) === 32 &&
    b64Length(x.answerer) === IDENTITY_SEED_BYTES &&
    Number.isSafeInteger(x.expiresAt) &&
    (x.label === undefined || typeof x.label === 'string') &&
    (x.redeemedBy === undefined || b64Length(x.redeemedBy) === 32) &&
    (x.redeemedBox === undefined || b64Length(x.redeemedBox) === 32)
  )
}

/** The document's invites that are well formed, by id. */
export function invitesIn(doc: Y.Doc): [string, InviteEntry][] {
  const out: [string, InviteEntry][] = []
  invitesOf(doc).forEach((e, id) => wellFormedInvite(e) && out.push([id, e]))
  return out
}

export function stateOf(entry: InviteEntry, now = Date.now()): InviteState {
  if (entry.revoked) return 'revoked'
  if (entry.redeemedBy) return 'used'
  if (entry.expiresAt <= now) return 'expired'
  return 'open'
}

export function addInvite(plan: SecureDoc, me: DeviceIdentity, tier: InviteTier, label: string, validForMs: number, vouchedBy?: string): NewInvite {
  const invite = newInvite(tier, Date.now() + validForMs)
  invitesOf(plan.plain).set(inviteIdOf(invite.secret), {
    secret: toBase64Url(invite.secret),
    answerer: toBase64Url(invite.answerer.seed),
    tier,
    label,
    expiresAt: invite.expiresAt,
    createdBy: toBase64Url(me.signingPublicKey),
    ...(vouchedBy ? { vouchedBy } : {}),
  })
  plan.flush()
  return invite
}

/** The link of an invite, made again from what the plan holds (for the core to send once more). */
export function linkOf(entry: InviteEntry, origin: string): string {
  const answerKey = identityFromSeed(fromBase64Url(entry.answerer)).signingPublicKey
  return inviteUrl(origin, { tier: entry.tier, expiresAt: entry.expiresAt, secret: fromBase64Url(entry.secret) as SecretKey, answerKey })
}

/** The joiner an invite admitted, as a public identity (to seal new keys to it). */
export const joinerOf = (entry: InviteEntry): PublicIdentity | undefined =>
  entry.redeemedBy && entry.redeemedBox
    ? { signingPublicKey: fromBase64Url(entry.redeemedBy) as PublicIdentity['signingPublicKey'], boxPublicKey: fromBase64Url(entry.redeemedBox) as PublicIdentity['boxPublicKey'] }
    : undefined

/**
 * Withdraws every open invite and makes a new one in its place (same tier, label and
 * expiry): a removed core member held the old ones' lobby secrets and answer keys, so it
 * could answer them as the core. The old links are refused by honest core phones; the
 * core must send the new ones (the plan lists them as replacements).
 */
export function reissueOpenInvites(plan: SecureDoc, me: DeviceIdentity, now = Date.now()): string[] {
  const invites = invitesOf(plan.plain)
  const made: string[] = []
  invites.forEach((entry, id) => {
    if (stateOf(entry, now) !== 'open') return
    const invite = newInvite(entry.tier, entry.expiresAt)
    const newId = inviteIdOf(invite.secret)
    invites.set(newId, {
      secret: toBase64Url(invite.secret),
      answerer: toBase64Url(invite.answerer.seed),
      tier: entry.tier,
      label: entry.label,
      expiresAt: entry.expiresAt,
      createdBy: toBase64Url(me.signingPublicKey),
      ...(entry.vouchedBy ? { vouchedBy: entry.vouchedBy } : {}),
    })
    invites.set(id, { ...entry, revoked: true, replacedBy: newId })
    made.push(newId)
  })
  plan.flush()
  return made
}

export function revokeInvite(plan: SecureDoc, id: string): void {
  const invites = invitesOf(plan.plain)
  const entry = invites.get(id)
  if (!entry || entry.redeemedBy) return
  invites.set(id, { ...entry, revoked: true })
  plan.flush()
}

interface Channel {
  readonly lobby: SealedTopic
  readonly secret: SecretKey
  readonly answerer: DeviceIdentity
}

/**
 * What joining through one of a document's invites gives: `welcomeFor` says what a welcome holds
 * (changing nothing: a refusal is padded to its length), `admit` also makes the joiner a writer
 * where its tier writes.
 */
export interface Admitting {
  welcomeFor(tier: InviteTier, joiner: PublicIdentity): Welcome
  admit(tier: InviteTier, joiner: PublicIdentity): Welcome
}

/** Answers join requests for every invite one document lists (an action's plan, a campaign). */
export class InviteDesk {
  private readonly lobbies = new Map<string, SealedTopic>()
  /** Per invite: the claim this phone last saw, and since when. */
  private readonly seen = new Map<string, { claim: string | undefined; since: number }>()
  /** One pending look per invite and joiner, however often the joiner asks meanwhile. */
  private readonly retries = new Map<string, ReturnType<typeof setTimeout>>()
  private readonly sync = (): void => this.refresh()

  constructor(
    /** The document that lists the invites (any of its writers answers). */
    private readonly plan: SecureDoc,
    private readonly admission: Admitting,
    private readonly signalingUrls: readonly string[],
    /** Everyone removed from the action (signing keys, base64url): refused in every lobby, for good. */
    private readonly removed: () => ReadonlySet<string>,
    /**
     * Bounds on the lobbies a writer's entries can open (each is a connection to the server): the
     * most at once, and how far ahead an invite may expire.
     */
    private readonly bounds: { maxLobbies: number; maxValidMs: number } = { maxLobbies: Number.POSITIVE_INFINITY, maxValidMs: Number.POSITIVE_INFINITY },
  ) {
    invitesOf(plan.plain).observe(this.sync)
    this.refresh()
  }

  close(): void {
    invitesOf(this.plan.plain).unobserve(this.sync)
    for (const id of [...this.lobbies.keys()]) this.closeLobby(id)
    for (const t of this.retries.values()) clearTimeout(t)
  }

  private refresh(): void {
    const now = Date.now()
    for (const [id, entry] of invitesIn(this.plan.plain)) {
      this.observe(id, entry.redeemedBy, now)
      // Used and withdrawn invites keep listening for a while: a joiner must hear why it cannot join.
      const listening = entry.expiresAt + LOBBY_GRACE_MS > now && entry.expiresAt <= now + this.bounds.maxValidMs
      const room = this.lobbies.size < this.bounds.maxLobbies
      if (listening && room && !this.lobbies.has(id)) this.open(id, fromBase64Url(entry.secret) as SecretKey, identityFromSeed(fromBase64Url(entry.answerer)))
      if (!listening && this.lobbies.has(id)) this.closeLobby(id)
    }
  }

  private observe(id: string, claim: string | undefined, now: number): void {
    const last = this.seen.get(id)
    if (!last || last.claim !== claim) this.seen.set(id, { claim, since: now })
  }

  private open(id: string, secret: SecretKey, answerer: DeviceIdentity): void {
    const lobby = lobbyTopic(secret, (bytes) => {
      try {
        const m = readLobbyMessage(secret, bytes)
        if (m.t === 'join') this.answer(id, { lobby, secret, answerer }, m)
      } catch {
        // Anyone holding the link can write here; unreadable messages are ignored.
      }
    })
    // Each lobby on sockets of its own: the server cannot count an action's open invites.
    for (const socket of ownSockets(this.signalingUrls, lobby)) lobby.attach(socket)
    this.lobbies.set(id, lobby)
  }

  private closeLobby(id: string): void {
    const lobby = this.lobbies.get(id)
    if (!lobby) return
    const sockets = lobby.attachedSockets()
    lobby.close()
    releaseSockets(sockets, lobby)
    this.lobbies.delete(id)
  }

  private answer(id: string, channel: Channel, request: JoinRequest): void {
    const { lobby, secret, answerer } = channel
    const invites = invitesOf(this.plan.plain)
    const entry = invites.get(id)
    if (!wellFormedInvite(entry) || !this.plan.canWrite) return
    const joiner = toBase64Url(request.joiner.signingPublicKey)
    const now = Date.now()
    // A removed member is out for good, whatever link it uses; and whoever opens the invite
    // of someone removed is told so (it is that person, or someone they passed the link to).
    // A refusal is as long as the welcome this invite would get, so its size says nothing.
    const refuse = (why: RefusalReason): void => {
      const welcomeLength = welcome(secret, answerer, request.joiner, this.admission.welcomeFor(entry.tier, request.joiner)).length
      lobby.send(refusal(secret, answerer, request.joiner, why, welcomeLength))
    }
    if (entry.removed || this.removed().has(joiner)) return refuse('removed')
    if (entry.revoked) return refuse('revoked')
    if (!entry.redeemedBy) {
      if (entry.expiresAt <= now) return refuse('expired')
      invites.set(id, { ...entry, redeemedBy: joiner, redeemedBox: toBase64Url(request.joiner.boxPublicKey) })
      this.plan.flush()
    }
    const claim = invites.get(id)!.redeemedBy
    this.observe(id, claim, now)
    const settledFor = now - this.seen.get(id)!.since
    if (settledFor < SETTLE_MS) {
      // Not yet sure this claim wins: look again once it has had time to meet any other.
      const key = `${id}/${joiner}`
      if (!this.retries.has(key)) {
        this.retries.set(
          key,
          setTimeout(() => {
            this.retries.delete(key)
            this.answer(id, channel, request)
          }, SETTLE_MS - settledFor + 50),
        )
      }
      return
    }
    if (claim !== joiner) return refuse('used')
    lobby.send(welcome(secret, answerer, request.joiner, this.admission.admit(entry.tier, request.joiner)))
  }
}

/** Admission to an action: a core joiner writes the plan and both briefs; a participant reads the brief; a remote supporter the remote brief. */
export function actionAdmission(docs: { plan: SecureDoc; brief: SecureDoc; remote: SecureDoc | undefined }, access: () => { plan: DocAccess; brief: DocAccess; remote?: DocAccess }, me: PublicIdentity): Admitting {
  const welcomeFor = (tier: InviteTier, joiner: PublicIdentity): Welcome => {
    const now = access()
    const brief = joinerAccess(docs.brief, now.brief, joiner)
    if (tier === 'participant') return { tier, admittedBy: me, brief }
    // A campaign invite has no place in a plan: whoever wrote one gets nothing through it.
    if (tier === 'cell') return { tier, admittedBy: me }
    const remote = docs.remote && now.remote ? joinerAccess(docs.remote, now.remote, joiner) : undefined
    if (tier === 'remote') return { tier, admittedBy: me, ...(remote ? { remote } : {}) }
    return { tier, admittedBy: me, plan: joinerAccess(docs.plan, now.plan, joiner), brief, ...(remote ? { remote } : {}) }
  }
  return {
    welcomeFor,
    admit(tier, joiner) {
      if (tier === 'core') for (const doc of [docs.brief, docs.remote, docs.plan]) if (doc) addWriterOnce(doc, joiner)
      return welcomeFor(tier, joiner)
    },
  }
}

/** Makes `joiner` a writer of `doc` (once) and sends it. */
export function addWriterOnce(doc: SecureDoc, joiner: PublicIdentity): void {
  if (!doc.writers().some((w) => sameSigner(w, joiner))) doc.addWriter(joiner)
  doc.flush()
}

/**
 * A document's access for a joiner: every epoch's key, trusting the writers of the oldest one
 * (later epochs' writers follow from the closures that ended the ones before). The joiner is not
 * among them: it becomes a writer through the signed roster entry admit() adds, as every other phone
 * sees it, so all phones agree on who could close an epoch.
 */
export function joinerAccess(doc: SecureDoc, access: DocAccess, joiner: PublicIdentity): DocAccess {
  const oldest = Math.min(...access.keys.keys())
  return { ...access, roster: { epoch: oldest, writers: doc.writers(oldest).filter((w) => !sameSigner(w, joiner)) } }
}

const sameSigner = (a: PublicIdentity, b: PublicIdentity): boolean => toBase64Url(a.signingPublicKey) === toBase64Url(b.signingPublicKey)
