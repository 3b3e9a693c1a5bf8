// One action, open on this phone. A core phone holds the plan and the brief, answers
// invites and check-ins, and releases sealed stages at go time. A participant phone
// holds only the brief: it never joins the plan's room and never holds the core key.
import * as Y from 'yjs'
import { identityFromSeed, toBase64Url, type DeviceIdentity, type PublicIdentity, type SecretKey } from '../crypto'
import { keepCompact, type SecureDoc } from '../doc'
import { RoomLink, type LinkStatus, type SealedTopic, type TransportSettings } from '../transport'
import type { ActionId, ActionRecord, Role } from './action'
import { BriefEditor, BriefView, wipeAt, type ArmedWays, type BriefField, type BriefText, type GoState, type StageView } from './brief'
import { ackMessage, checkinMessage, checkinTopic, isAckFor, readCheckin } from './checkin'
import { GoClock, type ClockVerdict } from './clock'
import { ModelError } from './errors'
import { actionAdmission, addInvite, InviteDesk, invitesIn, invitesOf, joinerOf, linkOf, reissueOpenInvites, revokeInvite, stateOf, type InviteState } from './invites'
import { inviteUrl, type InviteTier } from './invite-link'
import { PlanView, type CoreStage } from './plan'
import { MAX_MARSHALS, QUICKNET, type DrandChain } from './ways'
import type { MarshalView, WithoutCore } from './without-core'
import { isCode, locationOf, newStageId, releaseCode, releaseFromCode, stageKeyId, type StageContent, type StageId, type StageKind } from './stage'
import { closeWithout, stillNeedsClosing, type Members } from './rotation'
import type { DocAccess } from './access'
import type { Campaign, CampaignView } from './campaign'
import type { CampaignOrderKind, CampaignTiming } from './campaign-order'
import { vouchBoxFor, openVouchBox, MAX_VOUCHES } from './vouch'
import { decodeInvite, encodeInvite, InviteLinkError } from './invite-link'
import { fromBase64Url as fromB64, randomBytes, type SecretKey as Key } from '../crypto'

export interface InviteSummary {
  readonly id: string
  readonly tier: InviteTier
  readonly label: string
  readonly state: InviteState | 'removed'
  readonly expiresAt: number
  /** Made to replace a link a removed core member knew: send it again. */
  readonly replaces: boolean
  /** A participant's to pass on: the invite that admitted the person vouching (its id). */
  readonly vouchedBy: string | undefined
}

export interface CheckinSummary {
  readonly label: string
  readonly at: number
}

export type CheckinState = 'not-yet' | 'sending' | 'confirmed'

const INVITE_VALID_MS = 7 * 24 * 3600_000
/** How many rooms of earlier epochs a phone stays in (catch-up only). */
const PREVIOUS_ROOMS = 2
const CHECKIN_RETRY_MS = [2_000, 4_000, 8_000, 15_000]
const MAX_TIMER_MS = 2 ** 31 - 1
/** How often a core phone that cannot confirm its clock looks again, once a stage is due. */
const CLOCK_RECHECK_MS = 5_000

type Tier = 'brief' | 'plan' | 'remote'

export class ActionSession {
  readonly plan: PlanView | undefined
  readonly brief: BriefView
  private readonly briefEditor: BriefEditor | undefined
  /** Core phones: the remote brief (remote supporters' only document), kept in step with the brief. */
  readonly remoteDoc: SecureDoc | undefined
  private readonly remoteEditor: BriefEditor | undefined
  /** The campaign seat: its code loads (from the precache, offline too) only for an action in a campaign. */
  private campaignSeat: Campaign | undefined
  private readonly campaignDocument: SecureDoc | undefined
  /** Resolves once the campaign seat is up (at once for an action in no campaign). */
  readonly campaignReady: Promise<void>
  private links: RoomLink[] = []
  private desk: InviteDesk | undefined
  private checkins: SealedTopic | undefined
  /**
   * What opens a stage when no core phone is online at go (marshals' offers, drand beacons). Its code
   * (Shamir, drand) loads only for an action that arms a way, or holds what one passed on.
   */
  private withoutCore: WithoutCore | undefined
  private waysLoading: Promise<WithoutCore | undefined> | undefined
  /** The brief room's key, sockets and mesh, for the without-core topic once it loads. */
  private briefRoom: { key: SecretKey; link: RoomLink } | undefined
  private rearming = false
  private rearmAgain = false
  /** Core phones: the clock go time is released by, checked against the server and the other core phones. */
  readonly clock = new GoClock(() => {
    this.notify()
    this.armGo()
  })
  private goTimer: ReturnType<typeof setTimeout> | undefined
  private checkinTimer: ReturnType<typeof setTimeout> | undefined
  private checkinState: CheckinState
  private readonly stopWatching: (() => void)[] = []
  private readonly listeners = new Set<() => void>()
  private transport: TransportSettings
  private closedSession = false
  private maintainTimer: ReturnType<typeof setTimeout> | undefined
  /** Changes whenever the session is opened anew (after a rewind): screens key on it. */
  static opened = 0
  readonly serial = ++ActionSession.opened

  constructor(
    private record: ActionRecord,
    readonly planDoc: SecureDoc | undefined,
    readonly briefDoc: SecureDoc,
    readonly me: DeviceIdentity,
    private readonly signalingUrls: readonly string[],
    transport: TransportSettings,
    private readonly save: (record: ActionRecord) => Promise<void>,
    /** Opens the action again from the store (a closure excluded frames already shown). */
    private readonly reopen: (record: ActionRecord) => void = () => {},
    more: { remoteDoc?: SecureDoc; campaignDoc?: SecureDoc } = {},
  ) {
    this.remoteDoc = planDoc ? more.remoteDoc : undefined
    this.remoteEditor = this.remoteDoc && record.remote ? new BriefEditor(this.remoteDoc.plain, record.remote.docId) : undefined
    this.plan = planDoc ? new PlanView(planDoc.plain) : undefined
    this.brief = new BriefView(briefDoc.plain, record.brief.docId, () => briefDoc.writers())
    this.briefEditor = planDoc ? new BriefEditor(briefDoc.plain, record.brief.docId) : undefined
    this.checkinState = record.checkedInAt !== undefined ? 'confirmed' : 'not-yet'
    this.transport = transport
    // The core may require relay-only for the whole action: follow it when it changes.
    let relayOnly = this.brief.read().relayOnly
    this.stopWatching.push(
      this.brief.onChange(() => {
        const now = this.brief.read().relayOnly
        if (now === relayOnly) return
        relayOnly = now
        queueMicrotask(() => !this.closedSession && this.connect(this.transport))
      }),
    )
    const docs: [SecureDoc, Tier][] = [[briefDoc, 'brief']]
    if (planDoc) docs.push([planDoc, 'plan'])
    if (this.remoteDoc) docs.push([this.remoteDoc, 'remote'])
    for (const [doc, tier] of docs) {
      const onKeys = (): void => this.adopt(doc, tier)
      const onRewind = (): void => void this.rewind()
      // A closure changes what screens show (this phone removed, say) without touching the plaintext.
      const onEpochs = (): void => {
        this.maintainSoon()
        queueMicrotask(() => !this.closedSession && this.notify())
      }
      doc.on('keys', onKeys)
      doc.on('rewind', onRewind)
      doc.on('epochs', onEpochs)
      this.stopWatching.push(() => {
        doc.off('keys', onKeys)
        doc.off('rewind', onRewind)
        doc.off('epochs', onEpochs)
      })
      // A core phone folds loose edits into snapshots, so a late phone catches up in a few frames.
      this.stopWatching.push(keepCompact(doc))
    }
    for (const r of record.releases ?? []) {
      try {
        this.brief.acceptRelease(r)
      } catch {
        // A stored release that no longer checks out (roster changed): ignored.
      }
    }
    if (this.remoteEditor) this.stopWatching.push(this.brief.onChange(() => this.mirrorRemote()))
    this.campaignDocument = planDoc && record.campaign ? more.campaignDoc : undefined
    this.campaignReady = this.campaignDocument ? this.seatInCampaign(this.campaignDocument) : Promise.resolve()
    if (planDoc && more.campaignDoc && record.campaign) {
      const onKeys = (): void => {
        const now = this.record.campaign
        if (!now) return
        this.record = { ...this.record, campaign: { ...now, access: keysOf(now.access, more.campaignDoc!) } }
        this.save(this.record).catch(() => {})
        queueMicrotask(() => !this.closedSession && this.connect(this.transport))
      }
      more.campaignDoc.on('keys', onKeys)
      this.stopWatching.push(() => more.campaignDoc!.off('keys', onKeys))
    }
    if (this.planDoc) {
      const arm = (): void => this.armGo()
      this.stopWatching.push(this.brief.onChange(arm), this.plan!.onChange(() => this.publishCheckinCount()))
      this.stopWatching.push(this.plan!.onChange(() => this.resealStale()), this.brief.onChange(() => this.resealStale()))
      this.stopWatching.push(this.plan!.onChange(() => void this.rearmWays()), this.brief.onChange(() => void this.rearmWays()))
      // A removal recorded by another core phone (maybe while it was offline) may need closing here.
      const removals = (): void => this.maintainSoon()
      removedOf(planDoc!).observe(removals)
      invitesOf(planDoc!.plain).observe(removals)
      this.stopWatching.push(() => removedOf(planDoc!).unobserve(removals), () => invitesOf(planDoc!.plain).unobserve(removals))
    }
    // Keys a document took up (or left) from closures while it opened: the record follows.
    const fingerprint = (a: DocAccess): string => [...a.keys].sort(([x], [y]) => x - y).map(([e, k]) => `${e}:${toBase64Url(k)}`).join()
    for (const [doc, tier] of docs) {
      const now = keysOf(this.record[tier]!, doc)
      if (fingerprint(now) !== fingerprint(this.record[tier]!)) this.record = { ...this.record, [tier]: now }
    }
    if (this.campaignDocument && this.record.campaign) {
      const now = keysOf(this.record.campaign.access, this.campaignDocument)
      if (fingerprint(now) !== fingerprint(this.record.campaign.access)) this.record = { ...this.record, campaign: { ...this.record.campaign, access: now } }
    }
    if (this.record !== record) this.save(this.record).catch(() => {})
    this.connect(transport)
    this.armGo()
    this.maintainSoon()
    this.stopWatching.push(this.brief.onChange(() => this.needsWays() && void this.ways()))
    if (this.needsWays()) void this.ways()
  }

  private async seatInCampaign(doc: SecureDoc): Promise<void> {
    try {
      const { Campaign } = await import('./campaign')
      const seat = this.record.campaign
      if (this.closedSession || !seat) return
      this.campaignSeat = new Campaign(doc, seat.access, identityFromSeed(seat.identitySeed), {
        cell: () => this.cellInCampaign(),
        apply: (timing) => this.applyCampaign(timing),
        changed: () => queueMicrotask(() => !this.closedSession && this.notify()),
      }, this.signalingUrls)
      this.campaignSeat.connect(seat.access, this.brief.read().relayOnly ? { ...this.transport, relayOnly: true } : this.transport)
      this.notify()
    } catch {
      // Could not load (an old cache) or the campaign is unusable: the action goes on without it.
    }
  }

  /** Whether this action needs the without-core code: a way is armed, or this phone holds what one passed on. */
  private needsWays(): boolean {
    return !this.withoutCore && (this.brief.armsAnyWay() || (this.record.offers?.length ?? 0) > 0 || (this.record.beacons?.length ?? 0) > 0)
  }

  /** The without-core machinery, loaded (from the precache, offline too) the first time it is needed. */
  private ways(): Promise<WithoutCore | undefined> {
    if (this.withoutCore) return Promise.resolve(this.withoutCore)
    this.waysLoading ??= import('./without-core').then(
      ({ WithoutCore }) => {
        if (this.closedSession) return undefined
        const { record, planDoc } = this
        this.withoutCore = new WithoutCore({
          brief: this.brief,
          briefId: record.brief.docId,
          me: this.me,
          stored: { offers: record.offers ?? [], beacons: record.beacons ?? [] },
          save: ({ offers, beacons }) => {
            this.record = { ...this.record, offers, beacons }
            this.save(this.record).catch(() => {})
          },
          drand: drandUrlOf(this.signalingUrls),
          changed: () => queueMicrotask(() => !this.closedSession && this.notify()),
          record: planDoc
            ? (stageId, way, evidence) => {
                if (!this.briefDoc.canWrite || this.briefEditor!.isRecorded(stageId, way)) return
                this.briefEditor!.record(stageId, way, evidence)
                this.briefDoc.flush()
              }
            : undefined,
        })
        if (this.briefRoom) this.withoutCore.attach(this.briefRoom.key, this.briefRoom.link.sockets, this.briefRoom.link.awareness, this.planDoc !== undefined)
        this.notify()
        return this.withoutCore
      },
      () => {
        this.waysLoading = undefined // could not load (an old cache): the next change tries again
        return undefined
      },
    )
    return this.waysLoading
  }

  get id(): ActionId {
    return this.record.id
  }

  /** The campaign document (coordinator phones only). */
  get campaignDoc(): SecureDoc | undefined {
    return this.campaignDocument
  }

  /** The action's record as it stands (for the phone, to add a campaign seat). */
  recordNow(): ActionRecord {
    return this.record
  }

  get role(): Role {
    return this.record.role
  }

  /** The documents' access (keys): for the model, to wipe on lock. */
  get access(): Pick<ActionRecord, 'plan' | 'brief' | 'remote' | 'campaign'> {
    return this.record
  }

  /** (Re)joins the action's rooms with these settings. */
  connect(phoneSettings: TransportSettings): void {
    this.transport = phoneSettings
    // Relay-only when this phone asks for it, or when the core asks it of everyone in the action.
    const transport = this.brief.read().relayOnly ? { ...phoneSettings, relayOnly: true } : phoneSettings
    this.desk?.close()
    this.checkins?.close()
    this.clock.stop()
    for (const link of this.links) link.leave()
    const { record } = this
    const epochs = (a: DocAccess): number[] => [...a.keys.keys()].sort((x, y) => y - x)
    const newest = (a: DocAccess): SecretKey => a.keys.get(epochs(a)[0]!)!
    // After a rotation the two rooms before stay open too: a phone that was away can still
    // find the closures there, and two core phones that each closed twice while apart still
    // meet in the room of the epoch they share, where their closures settle alike. Those
    // relays only answer catch-up: sending each new frame there live would show a removed
    // member, as it happens, that the action goes on.
    const previous = (doc: SecureDoc, a: DocAccess, over = transport): RoomLink[] =>
      epochs(a)
        .slice(1, PREVIOUS_ROOMS + 1)
        .map((e) => new RoomLink(doc, a.keys.get(e)!, { ...over, relayLive: false }))
    // The remote brief's rooms run through the server relay only: no WebRTC between remote
    // supporters and core phones, so a remote supporter never learns a core phone's address.
    const remoteTransport = { ...transport, mesh: false }
    const briefTransport = record.role === 'remote' ? remoteTransport : transport
    const briefLink = new RoomLink(this.briefDoc, newest(record.brief), briefTransport)
    this.links = [briefLink, ...previous(this.briefDoc, record.brief, briefTransport)]
    if (this.remoteDoc && record.remote) this.links.push(new RoomLink(this.remoteDoc, newest(record.remote), remoteTransport), ...previous(this.remoteDoc, record.remote, remoteTransport))
    if (record.campaign) {
      try {
        this.campaignSeat?.connect(record.campaign.access, transport)
      } catch {
        // A campaign its coordinators filled with something this phone cannot use: the action goes on without it.
      }
    }
    const briefKey = newest(record.brief)
    // Check-ins share the brief room's sockets: same people, same tier, nothing new to link.
    if (this.planDoc && record.plan) {
      const planLink = new RoomLink(this.planDoc, newest(record.plan), transport)
      this.links.unshift(planLink, ...previous(this.planDoc, record.plan))
      this.clock.start(newest(record.plan), planLink.sockets, planLink.awareness, toBase64Url(this.me.signingPublicKey))
      const admission = actionAdmission({ plan: this.planDoc, brief: this.briefDoc, remote: this.remoteDoc }, () => ({ plan: this.record.plan!, brief: this.record.brief, ...(this.record.remote ? { remote: this.record.remote } : {}) }), this.me)
      this.desk = new InviteDesk(this.planDoc, admission, this.signalingUrls, () => this.removedKeys())
      this.checkins = checkinTopic(briefKey, (bytes) => this.onCheckin(bytes), briefLink.sockets)
    } else if (record.role === 'participant') {
      this.checkins = checkinTopic(briefKey, (bytes) => this.onAck(bytes), briefLink.sockets)
      if (this.checkinState === 'sending') this.sendCheckin(0)
    }
    this.briefRoom = { key: briefKey, link: briefLink }
    this.withoutCore?.attach(briefKey, briefLink.sockets, briefLink.awareness, this.planDoc !== undefined)
  }

  /** Online if any of the action's rooms is; peers of the busiest room. */
  status(): LinkStatus {
    const all = this.links.map((l) => l.status())
    return {
      online: all.some((s) => s.online),
      peers: Math.max(0, ...all.map((s) => s.peers)),
      lastReceivedAt: all.reduce<number | undefined>((t, s) => (s.lastReceivedAt !== undefined && (t === undefined || s.lastReceivedAt > t) ? s.lastReceivedAt : t), undefined),
    }
  }

  onStatus(listener: () => void): () => void {
    for (const l of this.links) l.on('status', listener)
    const links = this.links
    return () => links.forEach((l) => l.off('status', listener))
  }

  stages(): StageView[] {
    return this.brief.stages()
  }

  /** When every phone wipes this action by itself (undefined while no time is set). */
  wipeAt(): number | undefined {
    return wipeAt(this.brief.read())
  }

  /** Calls back on any change to what this session shows (plan, brief, check-in). */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener)
    const stops = [this.brief.onChange(listener), this.plan?.onChange(listener)]
    // Who writes (the core's size) changes without a plaintext change.
    for (const doc of [this.briefDoc, this.planDoc]) doc?.on('roster', listener)
    return () => {
      this.listeners.delete(listener)
      for (const stop of stops) stop?.()
      for (const doc of [this.briefDoc, this.planDoc]) doc?.off('roster', listener)
    }
  }

  // --- core ----------------------------------------------------------------------

  invite(tier: InviteTier, label: string, origin: string, validForMs = INVITE_VALID_MS): string {
    const plan = this.corePlan()
    return inviteUrl(origin, addInvite(plan, this.me, tier, label, validForMs))
  }

  revoke(inviteId: string): void {
    revokeInvite(this.corePlan(), inviteId)
  }

  /** How many phones are in the core (write the plan). */
  coreSize(): number {
    return this.planDoc?.writers().length ?? 0
  }

  invites(): InviteSummary[] {
    if (!this.planDoc) return []
    const out: InviteSummary[] = []
    const replacements = new Set<string>()
    invitesIn(this.planDoc.plain).forEach(([, e]) => e.replacedBy && replacements.add(e.replacedBy))
    invitesIn(this.planDoc.plain).forEach(([id, e]) =>
      out.push({ id, tier: e.tier, label: e.label ?? '', state: e.removed ? 'removed' : stateOf(e), expiresAt: e.expiresAt, replaces: replacements.has(id), vouchedBy: e.vouchedBy }),
    )
    return out.sort((a, b) => a.expiresAt - b.expiresAt)
  }

  /** An invite's link again (to send a replacement once more). */
  inviteLink(inviteId: string, origin: string): string | undefined {
    const entry = invitesOf(this.corePlan().plain).get(inviteId)
    return entry && stateOf(entry) === 'open' ? linkOf(entry, origin) : undefined
  }

  setBrief(field: BriefField, value: string): void {
    this.editor().set(field, value)
  }

  setBriefNumber(field: 'stagingLat' | 'stagingLon', value: number | undefined): void {
    this.editor().setNumber(field, value)
    this.briefDoc.flush()
  }

  setTimes(times: { gatherAt?: number; goAt?: number; endsAt?: number; wipeAfterMs?: number; timeZone?: string }): void {
    this.editor().setTimes(times)
    this.briefDoc.flush()
  }

  announce(text: string): void {
    this.editor().announce(text)
    this.briefDoc.flush()
  }

  /** The action location as the core holds it (the same stage on every core phone). */
  location(): CoreStage | undefined {
    return this.plan ? locationOf(this.plan.stages()) : undefined
  }

  /** Writes a stage's content: in the clear into the plan, sealed into the brief. */
  setStage(content: StageContent, kind: StageKind = 'location', id?: StageId): StageId {
    const plan = this.plan
    if (!plan) throw notCore()
    const stageId = id ?? (kind === 'location' ? locationOf(plan.stages())?.id : undefined) ?? newStageId()
    const key = plan.putStage(stageId, kind, content)
    this.editor().sealStage(stageId, kind, key, content)
    this.planDoc!.flush()
    this.briefDoc.flush()
    return stageId
  }

  /** "Go now": releases every sealed stage at once. */
  goNow(): void {
    this.editor().setTimes({ goAt: Date.now() })
    this.editor().setState('scheduled')
    this.releaseDue(Number.POSITIVE_INFINITY)
  }

  hold(): void {
    this.setGoState('held')
    this.ownGoState()
  }

  resume(): void {
    this.setGoState('scheduled')
    this.ownGoState()
  }

  /** The core decided hold or resume itself: a campaign's Go now or Resume no longer overrides it. */
  private ownGoState(): void {
    if (!this.planDoc?.canWrite || cellOf(this.planDoc).get('campaignHeld') !== true) return
    cellOf(this.planDoc).delete('campaignHeld')
    this.planDoc.flush()
  }

  /** Moves go later by `minutes` (before go only). */
  delay(minutes: number): void {
    const goAt = this.brief.read().goAt
    if (goAt === undefined) return
    this.editor().setTimes({ goAt: goAt + minutes * 60_000 })
    this.briefDoc.flush()
  }

  /** Tells every participant the action is off; nothing will be released. */
  /** Every phone shows the call-off in its own language: no words of the core's go with it. */
  callOff(): void {
    this.setGoState('called-off')
  }

  /** The release of `stageId` as a code for a QR code; releases it in the brief too. */
  releaseCodeFor(stageId: StageId): string {
    const key = this.plan?.stageKey(stageId)
    if (!key) throw notCore()
    const record = this.editor().release(stageId, key, this.me)
    this.briefDoc.flush()
    return releaseCode(record)
  }

  /** Requires TURN relays only for every phone in this action. */
  setActionRelayOnly(on: boolean): void {
    this.editor().setRelayOnly(on)
    this.briefDoc.flush()
  }

  setShowCheckins(show: boolean): void {
    this.editor().setCheckins(show, this.checkinList().length)
    this.briefDoc.flush()
  }

  /** Participants an invite admitted and nobody removed, by identity, with their invite's label. */
  private admittedParticipants(): Map<string, string> {
    const out = new Map<string, string>()
    if (!this.planDoc) return out
    const removed = this.removedKeys()
    invitesIn(this.planDoc.plain).forEach(([, e]) => {
      if (e.tier === 'participant' && e.redeemedBy && !e.removed && !removed.has(e.redeemedBy)) out.set(e.redeemedBy, e.label ?? '')
    })
    return out
  }

  /** Check-ins that count: one per admitted participant (never an identity no invite admitted, nor a removed one). */
  checkinList(): CheckinSummary[] {
    if (!this.planDoc) return []
    const admitted = this.admittedParticipants()
    return [...this.plan!.checkins()]
      .filter(([who]) => admitted.has(who))
      .map(([who, at]) => ({ label: admitted.get(who)!, at }))
      .sort((a, b) => a.at - b.at)
  }

  /**
   * Removes whoever joined with invite `inviteId` (any one core member may). Every
   * document it could read ends its epoch without it (new keys sealed to everyone who
   * stays); for a core member, every secret the plan held is replaced too. The removed
   * phone reads nothing written after, writes nothing anyone accepts, and every lobby
   * refuses it. Removing someone already removed does nothing.
   */
  async removeMember(inviteId: string): Promise<void> {
    const entry = invitesOf(this.corePlan().plain).get(inviteId)
    if (!entry?.redeemedBy || entry.removed) return
    await this.removeKeys([entry.redeemedBy], entry.tier === 'core' ? 'core' : entry.tier === 'remote' ? 'remote' : 'participant')
  }

  /** The core's members: each writer of the plan, named by its invite (or as the first member). */
  coreMembers(): { id: string; label: string; me: boolean; invited: boolean }[] {
    if (!this.planDoc) return []
    const labels = new Map<string, string>()
    invitesIn(this.planDoc.plain).forEach(([, e]) => e.redeemedBy && e.tier === 'core' && labels.set(e.redeemedBy, e.label))
    const mine = toBase64Url(this.me.signingPublicKey)
    return this.planDoc.writers().map((w) => {
      const id = toBase64Url(w.signingPublicKey)
      return { id, label: labels.get(id) ?? '', me: id === mine, invited: labels.has(id) }
    })
  }

  /** Removes a core member by key: also one who joined without an invite (the first member). */
  removeCoreMember(id: string): Promise<void> {
    return this.removeKeys([id], 'core')
  }

  /**
   * Removes everyone in `keys` (all of one tier) in one step: one new epoch of each document they
   * could read. Vouched invites they still held are withdrawn, and their sealed links dropped.
   */
  private async removeKeys(keys: readonly string[], tier: 'core' | 'participant' | 'remote'): Promise<void> {
    const planDoc = this.corePlan()
    const already = this.removedKeys()
    const gone = keys.filter((k) => k !== toBase64Url(this.me.signingPublicKey) && !already.has(k))
    if (gone.length === 0) return
    // A marshal's share opens the key in force: removing it means a new key, split among the others.
    const marshal = this.brief.quorumStages().some((id) => this.brief.quorum(id)!.shares.some((s) => gone.includes(s.marshal)))
    const invites = invitesOf(planDoc.plain)
    planDoc.plain.transact(() => {
      const voucherIds = new Set<string>()
      invitesIn(planDoc.plain).forEach(([id, e]) => {
        if (e.redeemedBy && gone.includes(e.redeemedBy)) {
          voucherIds.add(id)
          if (!e.removed) invites.set(id, { ...e, removed: true })
        }
      })
      // What they could still pass on is withdrawn with them.
      invitesIn(planDoc.plain).forEach(([id, e]) => e.vouchedBy && voucherIds.has(e.vouchedBy) && stateOf(e) === 'open' && invites.set(id, { ...e, revoked: true }))
      for (const id of voucherIds) this.dropVouchBox(id)
      for (const k of gone) removedOf(planDoc).set(k, tier)
    })
    planDoc.flush()
    this.briefDoc.flush()
    if (tier !== 'remote') this.closeFor(this.briefDoc, 'brief')
    if (tier !== 'participant' && this.remoteDoc) this.closeFor(this.remoteDoc, 'remote')
    if (tier === 'core') {
      this.closeFor(planDoc, 'plan')
      this.replaceSecrets()
    } else if (marshal) this.resealStages()
    await this.save(this.record)
    this.notify()
  }

  // --- vouching --------------------------------------------------------------------

  /**
   * Core: lets the participant admitted by `inviteId` pass on `count` invites (at most
   * MAX_VOUCHES open at once). They are the core's own kind of invite, answered by any core phone;
   * the participant gets the links sealed to it in the brief.
   */
  allowVouching(inviteId: string, count: number, validForMs = INVITE_VALID_MS): void {
    const planDoc = this.corePlan()
    const invites = invitesOf(planDoc.plain)
    const voucher = invites.get(inviteId)
    if (!voucher || voucher.tier !== 'participant' || !voucher.redeemedBy || !voucher.redeemedBox || voucher.removed || this.removedKeys().has(voucher.redeemedBy)) {
      throw new ModelError('not-participant', 'Only a participant who joined and was not removed can pass on invites.')
    }
    const open = invitesIn(planDoc.plain).filter(([, e]) => e.vouchedBy === inviteId && stateOf(e) === 'open').length
    if (!Number.isInteger(count) || count < 1 || open + count > MAX_VOUCHES) {
      throw new ModelError('too-many-vouches', `A participant can hold at most ${MAX_VOUCHES} open invites to pass on.`)
    }
    for (let i = 0; i < count; i++) addInvite(planDoc, this.me, 'participant', '', validForMs, inviteId)
    this.resealVouches(inviteId)
  }

  /** Core: how many open invites each participant may still pass on, by the invite that admitted it. */
  vouchesOpen(inviteId: string): number {
    if (!this.planDoc) return 0
    return invitesIn(this.planDoc.plain).filter(([, e]) => e.vouchedBy === inviteId && stateOf(e) === 'open').length
  }

  /** Participant: the invites the core let this phone pass on, as links (those not yet expired). */
  vouchLinks(origin: string): string[] {
    const out: string[] = []
    vouchesOf(this.briefDoc).forEach((box) => {
      for (const code of openVouchBox(this.me, box) ?? []) {
        try {
          out.push(inviteUrl(origin, decodeInvite(code)))
        } catch (e) {
          if (!(e instanceof InviteLinkError)) throw e // expired or unreadable: not shown
        }
      }
    })
    return out
  }

  /**
   * Core: removes the person `inviteId` admitted and everyone their vouching brought in, and
   * everyone those brought in, in one step: one new brief epoch without any of them; their open
   * invites withdrawn.
   */
  async removeBranch(inviteId: string): Promise<number> {
    const invites = invitesOf(this.corePlan().plain)
    const branch = new Set([inviteId])
    for (let grew = true; grew; ) {
      grew = false
      invitesIn(this.corePlan().plain).forEach(([id, e]) => e.vouchedBy && branch.has(e.vouchedBy) && !branch.has(id) && branch.add(id) && (grew = true))
    }
    const keys: string[] = []
    for (const id of branch) {
      const e = invites.get(id)
      if (e?.tier === 'participant' && e.redeemedBy) keys.push(e.redeemedBy)
      else if (e && stateOf(e) === 'open') invites.set(id, { ...e, revoked: true })
    }
    this.planDoc!.flush()
    await this.removeKeys(keys, 'participant')
    return keys.length
  }

  /** The voucher's box in the brief holds exactly its open vouched invites. */
  private resealVouches(voucherId: string): void {
    const planDoc = this.corePlan()
    const invites = invitesOf(planDoc.plain)
    const voucher = invites.get(voucherId)
    if (!voucher?.redeemedBox) return
    const codes: string[] = []
    invites.forEach((e) => {
      if (e.vouchedBy !== voucherId || stateOf(e) !== 'open') return
      const answerKey = identityFromSeed(fromB64(e.answerer)).signingPublicKey
      codes.push(encodeInvite({ tier: e.tier, expiresAt: e.expiresAt, secret: fromB64(e.secret) as Key, answerKey }))
    })
    const boxes = vouchBoxesOf(planDoc)
    const boxId = boxes.get(voucherId) ?? toBase64Url(randomBytes(16))
    boxes.set(voucherId, boxId)
    vouchesOf(this.briefDoc).set(boxId, vouchBoxFor(fromB64(voucher.redeemedBox) as PublicIdentity['boxPublicKey'], codes))
    planDoc.flush()
    this.briefDoc.flush()
  }

  private dropVouchBox(voucherId: string): void {
    const boxId = vouchBoxesOf(this.planDoc!).get(voucherId)
    if (boxId === undefined) return
    vouchesOf(this.briefDoc).delete(boxId)
    vouchBoxesOf(this.planDoc!).delete(voucherId)
  }

  // --- remote supporters -------------------------------------------------------------

  /** Core: what remote supporters do at go (amplify, watch, legal support, call). */
  setRemoteTask(text: string): void {
    if (!this.remoteEditor || !this.remoteDoc?.canWrite) throw notCore()
    this.remoteEditor.setRemote({ remoteTask: text })
    this.remoteDoc.flush()
  }

  /** Core: the remote brief as remote supporters read it (undefined for an action made before remote supporters). */
  remoteBrief(): BriefText | undefined {
    return this.remoteDoc ? new BriefView(this.remoteDoc.plain, this.record.remote!.docId, () => this.remoteDoc!.writers()).read() : undefined
  }

  /**
   * Core phones: the remote brief follows the brief's timing (go instant, time zone, hold or
   * call-off) and, once the location is released, says the action went: never where.
   */
  private mirrorRemote(): void {
    const editor = this.remoteEditor
    const doc = this.remoteDoc
    if (!editor || !doc?.canWrite) return
    const b = this.brief.read()
    const r = new BriefView(doc.plain, this.record.remote!.docId, () => doc.writers()).read()
    const location = locationOf(this.brief.stages())
    const went = location !== undefined && this.brief.isReleased(location.id)
    let changed = false
    if (r.goAt !== b.goAt && b.goAt !== undefined) (editor.setTimes({ goAt: b.goAt }), (changed = true))
    if (r.timeZone !== b.timeZone) (editor.setTimes({ timeZone: b.timeZone }), (changed = true))
    if (r.endsAt !== b.endsAt && b.endsAt !== undefined) (editor.setTimes({ endsAt: b.endsAt }), (changed = true))
    if (r.wipeAfterMs !== b.wipeAfterMs) (editor.setTimes({ wipeAfterMs: b.wipeAfterMs }), (changed = true))
    if (r.state !== b.state) (editor.setState(b.state), (changed = true))
    if (r.relayOnly !== b.relayOnly) (editor.setRelayOnly(b.relayOnly), (changed = true))
    if (went && r.wentAt === undefined) (editor.setRemote({ wentAt: Date.now() }), (changed = true))
    if (changed) doc.flush()
  }

  // --- campaign ----------------------------------------------------------------------

  /** The campaign this phone coordinates its cell in, as it stands (undefined: none). */
  campaign(): (CampaignView & { ignoresHold: boolean; cellName: string }) | undefined {
    if (!this.campaignSeat) return undefined
    return { ...this.campaignSeat.view(), ignoresHold: cellOf(this.planDoc!).get('ignoreHold') === true, cellName: this.cellInCampaign().name }
  }

  /** A coordinator's act for the whole campaign: Hold, Resume, Go now, or Schedule the go instant. */
  campaignOrder(kind: CampaignOrderKind, goAt?: number): void {
    this.seat().order(kind, goAt)
  }

  /** Delays the campaign's go instant by `minutes` (a new, signed Schedule order). */
  campaignDelay(minutes: number): void {
    const goAt = this.seat().timing().goAt
    if (goAt !== undefined) this.seat().order('schedule', goAt + minutes * 60_000)
  }

  setCampaign(field: 'name' | 'script', value: string): void {
    this.seat().set(field, value)
  }

  campaignMessage(text: string): void {
    this.seat().message(text)
  }

  campaignInvite(label: string, origin: string, validForMs?: number): string {
    return this.seat().invite(label, origin, validForMs)
  }

  removeCell(cell: string): void {
    this.seat().removeCell(cell)
  }

  leaveCampaign(): void {
    this.seat().leave()
  }

  /** Core: this cell does not follow a campaign-wide hold (it still follows Schedule and Go now). */
  setIgnoreCampaignHold(on: boolean): void {
    cellOf(this.corePlan()).set('ignoreHold', on)
    this.planDoc!.flush()
  }

  /** Core: the name other cells see for this one (never the plan's title unless the core types it). */
  setCellName(name: string): void {
    cellOf(this.corePlan()).set('name', name.slice(0, 200))
    this.planDoc!.flush()
    this.campaignSeat && queueMicrotask(() => this.notify())
  }

  private seat(): Campaign {
    if (!this.campaignSeat) throw new ModelError('not-core', 'This action is not in a campaign.')
    return this.campaignSeat
  }

  /** The cell's id and name in its campaigns (kept in the plan: every core phone of the cell shares them). */
  private cellInCampaign(): { cell: string; name: string; timeZone: string } {
    const m = cellOf(this.planDoc!)
    let cell = m.get('cell')
    if (typeof cell !== 'string' && this.planDoc!.canWrite) {
      cell = toBase64Url(randomBytes(16))
      m.set('cell', cell)
      this.planDoc!.flush()
    }
    const name = m.get('name')
    return { cell: typeof cell === 'string' ? cell : '', name: typeof name === 'string' ? name : '', timeZone: this.brief.read().timeZone }
  }

  /**
   * The campaign's order in force, acted on as the cell's own core would: once per order (recorded
   * in the plan, so a cell's own later change stands until the campaign orders again). A cell that
   * called off stays off; a cell that opted out of holds does not hold.
   */
  private applyCampaign(t: CampaignTiming): void {
    if (!t.order || !this.planDoc?.canWrite || !this.briefDoc.canWrite || this.closedSession) return
    const m = cellOf(this.planDoc)
    if (m.get('applied') === t.order.id) return
    const b = this.brief.read()
    m.set('applied', t.order.id)
    this.planDoc.flush()
    // A cell its own core called off, or held, stays so: the campaign times cells, it does not overrule their cores.
    const heldByCampaign = m.get('campaignHeld') === true
    if (b.state === 'called-off' || (b.state === 'held' && !heldByCampaign)) return
    if (t.state === 'went') return this.goNow()
    if (t.goAt !== undefined && b.goAt !== t.goAt) this.setTimes({ goAt: t.goAt })
    if (t.state === 'held' && t.order.kind === 'hold' && b.state === 'scheduled' && m.get('ignoreHold') !== true) {
      this.setGoState('held')
      m.set('campaignHeld', true)
      this.planDoc.flush()
    }
    if (t.state === 'scheduled' && t.order.kind === 'resume' && heldByCampaign) {
      this.setGoState('scheduled')
      m.delete('campaignHeld')
      this.planDoc.flush()
    }
  }


  /** Everyone removed from this action, by signing key: by the plan's record and by every settled closure. */
  private removedKeys(): Set<string> {
    const out = new Set<string>([...this.briefDoc.removedWriters(), ...(this.planDoc?.removedWriters() ?? []), ...(this.remoteDoc?.removedWriters() ?? [])])
    if (this.planDoc) {
      removedOf(this.planDoc).forEach((_, k) => out.add(k))
      invitesIn(this.planDoc.plain).forEach(([, e]) => e.removed && e.redeemedBy && out.add(e.redeemedBy))
    }
    return out
  }

  private members(tier: Tier): Members {
    const doc = this.docOf(tier)!
    const readers: PublicIdentity[] = []
    if (tier !== 'plan' && this.planDoc) {
      const reads = tier === 'brief' ? 'participant' : 'remote'
      invitesIn(this.planDoc.plain).forEach(([, e]) => {
        const joiner = e.tier === reads ? joinerOf(e) : undefined
        if (joiner) readers.push(joiner)
      })
    }
    return { writers: doc.writers(), readers }
  }

  private docOf(tier: Tier): SecureDoc | undefined {
    return tier === 'brief' ? this.briefDoc : tier === 'plan' ? this.planDoc : this.remoteDoc
  }

  private closeFor(doc: SecureDoc, tier: Tier): boolean {
    return closeWithout(doc, this.removedKeys(), this.members(tier))
  }

  /**
   * What a removed core member knew in the clear, replaced under the new keys: every stage
   * resealed under a key of its own, a new check-in key, every open invite withdrawn and
   * made again.
   */
  private replaceSecrets(): void {
    if (!this.planDoc?.canWrite || !this.briefDoc.canWrite) return
    const plan = this.plan!
    this.resealStages()
    this.editor().setCheckinKey(plan.renewCheckinKeys().boxPublicKey)
    reissueOpenInvites(this.planDoc!, this.me)
    // Vouched links were among them: each voucher's box gets the new ones.
    for (const voucher of [...vouchBoxesOf(this.planDoc!).keys()]) this.resealVouches(voucher)
    this.planDoc!.flush()
    this.briefDoc.flush()
  }

  /** Every stage under a new key (its quorum is split again by rearmWays). */
  private resealStages(): void {
    for (const stage of this.plan!.stages()) this.resealStage(stage)
  }

  /**
   * A stage under a new key: in the plan (its own release time kept) and sealed into the brief. Not
   * once it is out (by whichever way): a new key then protects nothing, and every screen showing it would
   * go blank until a release of the new key.
   */
  private resealStage(stage: CoreStage): void {
    if (this.brief.isReleased(stage.id)) return
    const key = this.plan!.putStage(stage.id, stage.kind, stage.content, stage.releaseAt)
    this.editor().sealStage(stage.id, stage.kind, key, stage.content)
    this.planDoc!.flush()
    this.briefDoc.flush()
  }

  /** Core phones: a stage whose box in the brief is not sealed under the plan's key (two core phones edited it at once) is sealed again. */
  private resealStale(): void {
    if (!this.planDoc?.canWrite || !this.briefDoc.canWrite) return
    for (const stage of this.plan!.stages()) {
      const key = this.plan!.stageKey(stage.id)!
      const sealed = this.brief.sealedKeyId(stage.id)
      if (sealed !== undefined && sealed !== stageKeyId(key) && !this.briefEditor!.isReleased(stage.id)) {
        this.briefEditor!.sealStage(stage.id, stage.kind, key, stage.content)
        this.briefDoc.flush()
      }
    }
  }

  /**
   * After closures change (a race, a conflict, a removal that lost): a core phone that
   * finds someone removed still reading, or an epoch no closure ends, closes again.
   * A short random wait lets one core phone do it rather than all at once; a race
   * between them is settled like any other.
   */
  private maintainSoon(): void {
    if (!this.planDoc || this.closedSession) return
    clearTimeout(this.maintainTimer)
    this.maintainTimer = setTimeout(() => this.maintain(), 50 + Math.random() * 300)
  }

  private maintain(): void {
    if (this.closedSession || !this.planDoc?.canWrite) return
    const gone = this.removedKeys()
    let planClosed = false
    for (const [doc, tier] of [[this.briefDoc, 'brief'], [this.planDoc, 'plan'], [this.remoteDoc, 'remote']] as const) {
      if (!doc?.canClose) continue
      if (stillNeedsClosing(doc, gone) && this.closeFor(doc, tier) && tier === 'plan') planClosed = true
    }
    if (planClosed) this.replaceSecrets()
  }

  /** True when the core ended the brief's epoch without this phone (every removal does): it was removed. */
  removed(): boolean {
    return this.briefDoc.removedHere
  }

  /** A document's keys changed (its own closure, another phone's, or a race that went the other way). */
  private adopt(doc: SecureDoc, tier: Tier): void {
    const access = this.record[tier]
    if (!access) return
    this.record = { ...this.record, [tier]: keysOf(access, doc) }
    this.save(this.record).catch(() => {}) // locked meanwhile: the store's closure gives the key again
    // Outside the closure's transaction: moving rooms rebuilds the links. (Edits of this phone
    // a closure left out are sealed again under the new key by the document itself.)
    queueMicrotask(() => {
      if (this.closedSession) return
      this.connect(this.transport)
      this.notify()
    })
  }

  private async rewind(): Promise<void> {
    if (this.closedSession) return
    await this.save(this.record).catch(() => {})
    if (!this.closedSession) this.reopen(this.record)
  }

  // --- marshals -------------------------------------------------------------------

  /**
   * Core: the drand chain a time lock would use, as this server names it: drand's quicknet (known to
   * the app), or another chain the server's operator runs (its info checked against its hash, and
   * shown as such: whoever holds that chain's key can open the lock early). Throws TimelockError.
   */
  async timelockNetwork(fetchFn: typeof fetch = fetch): Promise<{ chain: DrandChain; quicknet: boolean }> {
    const { chainFromInfo, TimelockError } = await import('./timelock')
    const base = drandUrlOf(this.signalingUrls)
    if (base === undefined) throw new TimelockError('unreachable')
    const json = async (url: string): Promise<unknown> => {
      try {
        const r = await fetchFn(url, { cache: 'no-store', credentials: 'omit', redirect: 'error' })
        if (!r.ok) throw new TimelockError('unreachable')
        return (await r.json()) as unknown
      } catch (e) {
        throw e instanceof TimelockError ? e : new TimelockError('unreachable')
      }
    }
    const named = (await json(`${base}/chain`)) as { hash?: unknown } | null
    const hash = named?.hash
    if (typeof hash !== 'string' || !/^[0-9a-f]{64}$/.test(hash)) throw new TimelockError('malformed')
    if (hash === QUICKNET.hash) return { chain: QUICKNET, quicknet: true }
    const chain = await chainFromInfo(await json(`${base}/${hash}/info`))
    return { chain, quicknet: false }
  }

  /** Core: the time lock as set (undefined: off). */
  timelockSetting(): { chain: DrandChain; quicknet: boolean } | undefined {
    const chain = this.plan?.timelockChain()
    return chain ? { chain, quicknet: chain.hash === QUICKNET.hash && chain.publicKey === QUICKNET.publicKey } : undefined
  }

  /** Core: encrypts every stage key to go time on this chain (undefined: off; an armed lock already sent cannot be taken back). */
  setTimelock(chain: DrandChain | undefined): void {
    const plan = this.plan
    if (!plan || !this.planDoc?.canWrite) throw notCore()
    plan.setTimelockChain(chain)
    this.planDoc.flush()
  }

  /** A marshal's own clock, which tests push forward as a fake tower would. */
  get marshalClock(): { local: () => number } | undefined {
    return this.withoutCore
  }

  /** On a marshal's phone: how many shares are offered and whether this one is; undefined elsewhere. */
  marshal(): MarshalView | undefined {
    return this.withoutCore?.marshal()
  }

  /** Marshals' pieces this phone holds for the location, of the k needed (undefined: no quorum armed). */
  quorumProgress(): { offered: number; k: number } | undefined {
    const location = locationOf(this.stages())
    return location ? this.withoutCore?.progress(location.id) : undefined
  }

  /** A marshal's person says it is go time, when the phone cannot confirm its own clock. */
  confirmGo(): void {
    this.withoutCore?.confirmGo()
  }

  /** A marshal's released share as a QR code's text (for phones with no network). */
  myShareCode(): string | undefined {
    return this.withoutCore?.myCode()
  }

  /** The ways armed that open the action location with no core phone online at go. */
  armed(): ArmedWays {
    const location = locationOf(this.stages())
    return location ? this.brief.armed(location.id) : { quorum: undefined, timelock: undefined }
  }

  /** Core: the participants who could be marshals (admitted, not removed), and whether they are. */
  marshalChoices(): { id: string; label: string; marshal: boolean }[] {
    const chosen = new Set(this.plan?.quorumSetting()?.marshals ?? [])
    return [...this.admittedParticipants()].map(([id, label]) => ({ id, label, marshal: chosen.has(id) }))
  }

  /** Core: the quorum as set: k of the chosen marshals (undefined: off). */
  quorumSetting(): { k: number; marshals: readonly string[] } | undefined {
    return this.plan?.quorumSetting()
  }

  /**
   * Core: any k of these marshals (participants' ids from marshalChoices) open every stage at go
   * with no core phone; undefined turns it off. Throws ModelError if k of them cannot.
   */
  setQuorum(setting: { k: number; marshals: readonly string[] } | undefined): void {
    const plan = this.plan
    if (!plan || !this.planDoc?.canWrite) throw notCore()
    if (setting) {
      const admitted = this.admittedParticipants()
      const marshals = [...new Set(setting.marshals)]
      if (!marshals.every((m) => admitted.has(m))) throw new ModelError('not-participant', 'A marshal must be a participant who joined and was not removed.')
      if (!Number.isInteger(setting.k) || setting.k < 2 || setting.k > marshals.length || marshals.length > MAX_MARSHALS) {
        throw new ModelError('bad-quorum', `Choose at least two marshals, and how many of them (at least 2) must release together (at most ${MAX_MARSHALS} marshals).`)
      }
      plan.setQuorumSetting({ k: setting.k, marshals })
    } else plan.setQuorumSetting(undefined)
    this.planDoc.flush()
  }

  /**
   * Core phones: every stage's split follows the plan: its key in force (a new version, a removal),
   * the marshals chosen (never a removed one), and k. Splitting is asynchronous; a change meanwhile
   * runs it again. Two core phones that split at once both write a valid split; one wins everywhere.
   */
  private async rearmWays(): Promise<void> {
    if (this.rearming) {
      this.rearmAgain = true
      return
    }
    this.rearming = true
    try {
      do {
        this.rearmAgain = false
        if (this.closedSession || !this.planDoc?.canWrite || !this.briefDoc.canWrite) return
        const plan = this.plan!
        const setting = plan.quorumSetting()
        const identities = new Map<string, PublicIdentity>()
        const removed = this.removedKeys()
        invitesIn(this.planDoc.plain).forEach(([, e]) => {
          const joiner = e.tier === 'participant' && !e.removed ? joinerOf(e) : undefined
          if (joiner && e.redeemedBy && !removed.has(e.redeemedBy)) identities.set(e.redeemedBy, joiner)
        })
        const marshals = (setting?.marshals ?? []).filter((m) => identities.has(m))
        const k = setting?.k ?? 0
        // A stage that is out needs no other way to open.
        for (const stage of plan.stages().filter((st) => !this.brief.isReleased(st.id))) {
          const key = plan.stageKey(stage.id)!
          const have = this.brief.quorum(stage.id)
          // Marshals release at go: a stage with a later time of its own (dispersal, say) is not split.
          const wanted = k >= 2 && marshals.length >= k && stage.releaseAt === undefined
          const same = have && have.k === k && have.shares.length === marshals.length && have.shares.every((s) => marshals.includes(s.marshal))
          if (have && !(wanted && same)) {
            // Pieces of this key are out: turned off, a marshal dropped, k changed. Only a new key
            // makes the old pieces useless; the next pass splits it (if wanted).
            this.briefEditor!.setQuorum(stage.id, undefined)
            this.resealStage(stage)
            continue
          }
          if (!wanted || have || this.brief.sealedKeyId(stage.id) !== stageKeyId(key)) continue
          const { splitStageKey } = await import('./quorum')
          const quorum = await splitStageKey(key, this.record.brief.docId, stage.id, k, marshals.map((m) => identities.get(m)!))
          if (this.closedSession || !this.briefDoc.canWrite) return
          // The key may have changed while splitting: then this split is stale, and the change runs it again.
          if (plan.stageKey(stage.id) && stageKeyId(plan.stageKey(stage.id)!) === quorum.keyId) this.briefEditor!.setQuorum(stage.id, quorum)
        }
        // The time lock follows the key in force and go time (a delay encrypts to the later round).
        const chain = plan.timelockChain()
        const { goAt } = this.brief.read()
        const lock = chain !== undefined && goAt !== undefined ? await import('./timelock') : undefined
        for (const stage of plan.stages().filter((st) => !this.brief.isReleased(st.id))) {
          const key = plan.stageKey(stage.id)!
          const keyId = stageKeyId(key)
          const have = this.brief.timelock(stage.id)
          if (!lock || chain === undefined || goAt === undefined) {
            if (have) this.briefEditor!.setTimelock(stage.id, undefined)
            continue
          }
          const due = stage.releaseAt ?? goAt
          if ((have && have.chain.hash === chain.hash && have.round === lock.roundAt(chain, due)) || this.brief.sealedKeyId(stage.id) !== keyId) continue
          const sealed = await lock.timelockStageKey(key, this.record.brief.docId, stage.id, chain, due)
          if (this.closedSession || !this.briefDoc.canWrite) return
          if (plan.stageKey(stage.id) && stageKeyId(plan.stageKey(stage.id)!) === keyId) this.briefEditor!.setTimelock(stage.id, sealed, keyId)
        }
        this.briefDoc.flush()
      } while (this.rearmAgain)
    } finally {
      this.rearming = false
    }
  }

  // --- participant ---------------------------------------------------------------

  get checkin(): CheckinState {
    return this.checkinState
  }

  /** "I am at the staging point": sent until a core phone confirms it. */
  checkIn(): void {
    if (this.planDoc || this.checkinState !== 'not-yet') return
    this.checkinState = 'sending'
    this.sendCheckin(0)
    this.notify()
  }

  /**
   * A release scanned from a QR code: works with no network. A core phone's release opens the
   * stage (throws ReleaseError); a marshal's share counts toward its quorum (throws QuorumError),
   * and opens the stage once k marshals' are in (undefined before).
   */
  async acceptReleaseCode(code: string): Promise<StageView | undefined> {
    if (isCode('SHARE', code)) {
      const before = new Set(this.stages().filter((s) => s.content).map((s) => s.id))
      const ways = await this.ways()
      if (!ways) throw new ModelError('bad-message', 'This phone could not load what reads a marshal’s code. Open Blossom once with a connection.')
      await ways.takeCode(code)
      return this.stages().find((s) => s.content && !before.has(s.id))
    }
    const record = releaseFromCode(code)
    const stage = this.brief.acceptRelease(record)
    this.record = { ...this.record, releases: [...(this.record.releases ?? []), record] }
    await this.save(this.record)
    this.notify()
    return stage
  }

  async close(): Promise<void> {
    this.clock.stop()
    this.closedSession = true
    clearTimeout(this.goTimer)
    clearTimeout(this.checkinTimer)
    clearTimeout(this.maintainTimer)
    for (const stop of this.stopWatching) stop()
    this.desk?.close()
    this.checkins?.close()
    this.withoutCore?.close()
    this.campaignSeat?.close()
    for (const link of this.links) link.leave()
    await Promise.all([this.planDoc?.close(), this.briefDoc.close(), this.remoteDoc?.close(), this.campaignDocument?.close()])
  }

  // --- internals -----------------------------------------------------------------

  private corePlan(): SecureDoc {
    if (!this.planDoc?.canWrite) throw notCore()
    return this.planDoc
  }

  private editor(): BriefEditor {
    if (!this.briefEditor || !this.briefDoc.canWrite) throw notCore()
    return this.briefEditor
  }

  private setGoState(state: GoState): void {
    this.editor().setState(state)
    this.briefDoc.flush()
  }

  /** Core phones: releases what is due now and sets a timer for what is due next. */
  private armGo(): void {
    clearTimeout(this.goTimer)
    if (!this.plan || !this.briefDoc.canWrite) return
    const { state, goAt } = this.brief.read()
    if (state !== 'scheduled' || goAt === undefined) return
    // Never on a clock nobody confirms: hold, and look again (a reference arriving looks again at once).
    const now = this.clock.releaseNow()
    if (now === undefined) {
      if (this.dueByOwnClock()) this.goTimer = setTimeout(() => this.armGo(), CLOCK_RECHECK_MS)
      else if (this.nextDue() !== undefined) this.goTimer = setTimeout(() => this.armGo(), Math.min(MAX_TIMER_MS, Math.max(0, this.nextDue()! - this.clock.local())))
      return
    }
    const next = this.releaseDue(now)
    if (next !== undefined) this.goTimer = setTimeout(() => this.armGo(), Math.min(MAX_TIMER_MS, Math.max(0, next - now)))
  }

  /** When the next unreleased stage is due. */
  private nextDue(): number | undefined {
    const goAt = this.brief.read().goAt
    let next: number | undefined
    for (const stage of this.plan?.stages() ?? []) {
      const due = stage.releaseAt ?? goAt
      if (due !== undefined && !this.briefEditor!.isReleased(stage.id) && (next === undefined || due < next)) next = due
    }
    return next
  }

  private dueByOwnClock(): boolean {
    const next = this.nextDue()
    return this.brief.read().state === 'scheduled' && next !== undefined && next <= this.clock.local()
  }

  /**
   * Core phones: why this phone's clock does not decide go time, if it does not. `off`: its clock
   * is this far from the server's and the other core phones' (positive: ahead). `holding`: a stage
   * is due by its own clock, but nothing confirms that clock, so it waits.
   */
  clockNote(): { kind: 'off'; byMs: number } | { kind: 'holding' } | undefined {
    if (!this.plan) return undefined
    const verdict: ClockVerdict = this.clock.verdict()
    if (verdict.kind === 'off') return verdict
    if (verdict.kind === 'unconfirmed' && this.dueByOwnClock()) return { kind: 'holding' }
    return undefined
  }

  /** Releases every stage due by `now`; returns when the next one is due. */
  private releaseDue(now: number): number | undefined {
    const goAt = this.brief.read().goAt
    let next: number | undefined
    let released = false
    for (const stage of this.plan!.stages()) {
      const due = stage.releaseAt ?? goAt
      if (due === undefined || this.briefEditor!.isReleased(stage.id)) continue
      if (due <= now) {
        const key = this.plan!.stageKey(stage.id)!
        // A box sealed under another key (two core phones' edits meeting) is sealed again first (resealStale).
        const sealed = this.brief.sealedKeyId(stage.id)
        if (sealed !== undefined && sealed !== stageKeyId(key)) continue
        this.briefEditor!.release(stage.id, key, this.me)
        released = true
      } else if (next === undefined || due < next) next = due
    }
    if (released) this.briefDoc.flush()
    return next
  }

  private onCheckin(bytes: Uint8Array): void {
    const plan = this.plan
    if (!plan || !this.planDoc?.canWrite) return
    const checkin = readCheckin(this.record.brief.docId, plan.checkinKeys(), bytes)
    if (!checkin) return
    // Anyone holding the brief can sign check-ins for identities it makes up: only those an invite admitted count.
    const who = toBase64Url(checkin.who)
    if (!this.admittedParticipants().has(who)) return
    if (plan.recordCheckin(who, checkin.at)) this.planDoc.flush()
    this.checkins?.send(ackMessage(checkin))
  }

  private publishCheckinCount(): void {
    const brief = this.brief.read()
    const count = this.checkinList().length
    if (brief.showCheckins && brief.checkins !== count && this.briefDoc.canWrite) {
      this.briefEditor!.setCheckins(true, count)
      this.briefDoc.flush()
    }
  }

  private sendCheckin(attempt: number): void {
    clearTimeout(this.checkinTimer)
    const to = this.brief.checkinKey()
    if (to) this.checkins?.send(checkinMessage(this.record.brief.docId, this.me, to))
    this.checkinTimer = setTimeout(() => this.sendCheckin(attempt + 1), CHECKIN_RETRY_MS[Math.min(attempt, CHECKIN_RETRY_MS.length - 1)])
  }

  private onAck(bytes: Uint8Array): void {
    if (this.checkinState !== 'sending' || !isAckFor(this.me, bytes)) return
    clearTimeout(this.checkinTimer)
    this.checkinState = 'confirmed'
    this.record = { ...this.record, checkedInAt: Date.now() }
    void this.save(this.record)
    this.notify()
  }

  private notify(): void {
    for (const listener of this.listeners) listener()
  }
}

const notCore = () => new ModelError('not-core', 'Only core members can do this.')

/** A document's access with exactly the keys the document holds now. */
const keysOf = (a: DocAccess, doc: SecureDoc): DocAccess => ({ ...a, keys: new Map(doc.keyEpochs().map((e) => [e, doc.keyOf(e)!])) })

/** The plan's record of removals (signing key -> tier), kept apart from invites: the first member has none. */
const removedOf = (plan: SecureDoc): Y.Map<'core' | 'participant' | 'remote'> => plan.plain.getMap('removed')
/** The cell's side of campaigns, in its plan: its id and name there, the order last acted on, whether it ignores holds. */
const cellOf = (plan: SecureDoc): Y.Map<unknown> => plan.plain.getMap('campaign')
/** Vouching: which brief box holds a voucher's links (plan), and the boxes (brief). */
const vouchBoxesOf = (plan: SecureDoc): Y.Map<string> => plan.plain.getMap('vouchBoxes')
const vouchesOf = (brief: SecureDoc): Y.Map<Uint8Array> => brief.plain.getMap('vouches')

/** The app server's drand proxy, beside its signaling socket (ws://host/signal -> http://host/drand). */
export function drandUrlOf(signalingUrls: readonly string[]): string | undefined {
  const first = signalingUrls[0]
  if (first === undefined) return undefined
  try {
    const url = new URL(first)
    url.protocol = url.protocol === 'wss:' ? 'https:' : 'http:'
    url.pathname = '/drand'
    url.search = ''
    return url.toString()
  } catch {
    return undefined
  }
}

/** The identity a phone uses in an action: its own for core, the action's own for participants. */
export const identityIn = (record: ActionRecord, device: DeviceIdentity): DeviceIdentity =>
  record.identitySeed ? identityFromSeed(record.identitySeed) : device
