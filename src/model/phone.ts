// A phone, unlocked: its identity, its actions (each open, synced and answering
// invites while the app runs), and the way to join new ones. Locking closes all of
// it and forgets every key.
import { ObservableV2 } from 'lib0/observable'
import { forgetIdentity, fromUtf8, identityFromSeed, newIdentity, publicPart, randomKey, toBase64Url, utf8, wipe, type DeviceIdentity } from '../crypto'
import { SecureDoc, newDocId } from '../doc'
import { openBlossomDB, Vault, type BlossomDB } from '../store'
import { ownSockets, releaseSockets, type TransportSettings } from '../transport'
import type { DocAccess } from './access'
import { decodeAction, encodeAction, newActionId, type ActionId, type ActionRecord, type CampaignSeat, type Role } from './action'
import { BriefEditor } from './brief'
import { ModelError } from './errors'
import { decodeInvite, InviteLinkError, type Invite, type InviteTier } from './invite-link'
import { isFromCore, joinRequest, lobbyTopic, openWelcome, readLobbyMessage, type RefusalReason, type Welcome } from './lobby'
import { ActionSession, identityIn } from './session'
import { applySettings, decodeSettings, encodeSettings, type DeviceSettings } from './settings'

export interface ActionSummary {
  readonly id: ActionId
  readonly role: Role
  readonly title: string
}

export type JoinProblem = RefusalReason | 'link'

export class JoinError extends Error {
  override readonly name = 'JoinError'
  constructor(
    readonly problem: JoinProblem,
    message: string,
  ) {
    super(message)
  }
}

const refusalText: Record<RefusalReason, string> = {
  used: 'This invite was already used. Each invite works once: ask for a new one.',
  expired: 'This invite has expired. Ask the person who invited you for a new one.',
  revoked: 'This invite was withdrawn. Ask the person who invited you for a new one.',
  removed: 'You were removed from this action by its core. This invite no longer works.',
}

/**
 * Where a join stands, as the joining phone knows it: `connecting` (no server reached yet, the
 * request waits), `asking` (sent, a core phone online answers within seconds), `unanswered` (sent
 * again and again with no answer: no core phone seems online), `admitted` (welcomed; opening).
 */
export type JoinStep = 'connecting' | 'asking' | 'unanswered' | 'admitted'

type JoinEvents = { progress: (step: JoinStep) => void }

/** A join in progress: asks in the lobby until a core phone answers. */
export class JoinAttempt extends ObservableV2<JoinEvents> {
  readonly done: Promise<ActionId>
  private stop: () => void = () => {}

  constructor(start: (attempt: JoinAttempt, settle: (r: Promise<ActionId>) => void) => () => void) {
    super()
    let resolve!: (r: Promise<ActionId>) => void
    this.done = new Promise<ActionId>((r) => (resolve = r))
    let settled = false
    // A join request is repeated, so answers can arrive twice: only the first counts.
    const settle = (result: Promise<ActionId>): void => {
      if (settled) return void result.catch(() => {})
      settled = true
      resolve(result)
    }
    this.stop = start(this, settle)
    this.done.finally(() => this.cancel()).catch(() => {})
  }

  cancel(): void {
    this.stop()
    this.stop = () => {}
  }
}

const JOIN_RETRY_MS = [1_000, 2_000, 4_000, 8_000, 15_000]
/** Requests that went out (about 3 s of them) before the phone says no core phone has answered. */
const UNANSWERED_AFTER = 2

const EXPIRY_CHECK_MS = 60_000
/** Locking waits at most this long for saves under way. */
const LOCK_SAVE_WAIT_MS = 1_000

/** A practice action a person prepares for the duress passphrase to open. */
export interface Decoy {
  readonly title: string
  readonly notes: string
  readonly stagingPoint: string
}

export class Phone {
  private readonly sessions = new Map<ActionId, ActionSession>()
  /** Actions whose records could not be read (left untouched on disk). */
  unreadable = 0
  private expiryTimer: ReturnType<typeof setInterval> | undefined
  private readonly listeners = new Set<() => void>()

  /** Calls back when actions appear or disappear (joined, created, expired). */
  onActionsChange(listener: () => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }
  private saving: Promise<void> = Promise.resolve()

  private constructor(
    /** Where this phone keeps everything (a new one after a duress wipe). */
    readonly db: BlossomDB,
    private readonly vault: Vault,
    readonly identity: DeviceIdentity,
    private readonly baseTransport: TransportSettings,
    private current: DeviceSettings,
  ) {
    // Unlocked: ask the server for its STUN and TURN servers before any room connects.
    baseTransport.serverIce?.warm?.()
  }

  get settings(): DeviceSettings {
    return this.current
  }

  get transport(): TransportSettings {
    return applySettings(this.baseTransport, this.current)
  }

  /** Saves new settings and reconnects every room with them. */
  async updateSettings(patch: Partial<DeviceSettings>): Promise<void> {
    this.current = { ...this.current, ...patch }
    await this.vault.putSecret('settings', encodeSettings(this.current))
    for (const session of this.sessions.values()) session.connect(this.transport)
  }

  /** First run: makes the vault and this phone's identity. */
  static async setUp(db: BlossomDB, passphrase: string, transport: TransportSettings): Promise<Phone> {
    const vault = await Vault.create(db, passphrase)
    const identity = newIdentity()
    await vault.putSecret('identity', identity.seed)
    await vault.putSecret('actions', utf8('[]'))
    return Phone.start(db, vault, identity, transport)
  }

  /**
   * Opens the vault (StoreError 'wrong-passphrase' if not right) and every action in it.
   * The duress passphrase instead wipes everything, silently, and opens a new empty phone
   * under that same passphrase: to whoever watches, an app with nothing in it.
   */
  static async unlock(db: BlossomDB, passphrase: string, transport: TransportSettings): Promise<Phone> {
    const { vault, duress } = await Vault.open(db, passphrase)
    if (duress) {
      const decoy = await vault.decoy().catch(() => undefined)
      vault.lock()
      await Vault.wipeAll(db)
      const phone = await Phone.setUp(await openBlossomDB(db.name), passphrase, transport)
      // Whatever goes wrong with the decoy, the person forced to unlock sees an ordinary (empty) app.
      if (decoy) await phone.plantDecoy(decoy).catch(() => undefined)
      return phone
    }
    await vault.ensureSpare()
    const seed = await vault.getSecret('identity')
    if (!seed) throw new ModelError('corrupt-record', 'This phone’s identity is missing from its storage.')
    return Phone.start(db, vault, identityFromSeed(seed), transport)
  }

  private static async start(db: BlossomDB, vault: Vault, identity: DeviceIdentity, transport: TransportSettings): Promise<Phone> {
    const phone = new Phone(db, vault, identity, transport, decodeSettings(await vault.getSecret('settings')))
    for (const id of await phone.actionIds()) {
      try {
        const bytes = await vault.getSecret(`action:${id}`)
        if (bytes) await phone.open(decodeAction(bytes))
      } catch {
        // One unreadable action must not lock the person out of the others.
        phone.unreadable++
      }
    }
    await phone.wipeExpired()
    phone.expiryTimer = setInterval(() => void phone.wipeExpired(), EXPIRY_CHECK_MS)
    return phone
  }

  list(): ActionSummary[] {
    return [...this.sessions.values()].map((s) => ({
      id: s.id,
      role: s.role,
      // Participants see no title (it is the core's); they see the staging point.
      title: s.plan?.read().title ?? s.brief.read().stagingPoint,
    }))
  }

  get(id: ActionId): ActionSession {
    const s = this.sessions.get(id)
    if (!s) throw new ModelError('unknown-action', 'This action is not on this phone.')
    return s
  }

  /** A new action with this phone as its first core member: a plan, a brief, a sealed location. */
  async createAction(title: string): Promise<ActionId> {
    // The core signs with an identity of this action only: participants of two actions cannot tell they share an organizer.
    const me = newIdentity()
    const access = (): DocAccess => ({
      docId: newDocId(),
      keys: new Map([[0, randomKey()]]),
      roster: { epoch: 0, writers: [publicPart(me)] },
    })
    const record: ActionRecord = { id: newActionId(), role: 'core', plan: access(), brief: access(), remote: access(), identitySeed: me.seed }
    await this.save(record)
    const session = await this.open(record)
    session.plan!.set('title', title)
    new BriefEditor(session.briefDoc.plain, record.brief.docId).setCheckinKey(session.plan!.checkinKeys().boxPublicKey)
    session.setStage({ text: '' })
    return record.id
  }

  /** A one-time invite link for `tier`, recorded in the plan so any core phone can answer it. */
  invite(id: ActionId, tier: InviteTier, origin: string, label = '', validForMs?: number): string {
    return this.get(id).invite(tier, label, origin, validForMs)
  }

  /** What an invite link admits to, before anything is asked: InviteLinkError for a bad link. */
  static describeInvite(link: string): { tier: InviteTier; expiresAt: number } {
    const { tier, expiresAt } = decodeInvite(link)
    return { tier, expiresAt }
  }

  /** Joins with an invite link or code. InviteLinkError for a bad link; `done` rejects with JoinError. */
  join(link: string): JoinAttempt {
    const invite = decodeInvite(link)
    if (invite.tier === 'cell') throw new InviteLinkError('campaign')
    return new JoinAttempt((attempt, settle) => this.runJoin(invite, attempt, settle))
  }

  /**
   * Sets a passphrase that, entered at unlock, wipes this phone and opens it with nothing but the
   * decoy, if one is given: a practice action of the person's own making, made anew then as an
   * ordinary action (storage shows neither the decoy nor that a duress passphrase exists).
   */
  setDuressPassphrase(current: string, duress: string, decoy?: Decoy): Promise<void> {
    return this.vault.setDuressPassphrase(current, duress, decoy && utf8(JSON.stringify(decoy)))
  }

  /** After a duress unlock: the decoy, made as an action of this (new, empty) phone. */
  private async plantDecoy(bytes: Uint8Array): Promise<void> {
    let decoy: Partial<Decoy>
    try {
      decoy = JSON.parse(fromUtf8(bytes)) as Partial<Decoy>
    } catch {
      return
    }
    if (typeof decoy.title !== 'string' || decoy.title === '') return
    const session = this.get(await this.createAction(decoy.title))
    if (typeof decoy.notes === 'string') session.plan!.set('notes', decoy.notes)
    if (typeof decoy.stagingPoint === 'string') session.setBrief('stagingPoint', decoy.stagingPoint)
    session.planDoc!.flush()
  }

  changePassphrase(current: string, next: string): Promise<void> {
    return this.vault.changePassphrase(current, next)
  }

  /** Removes every key and every stored byte of every action from this phone. */
  async panicWipe(): Promise<void> {
    await this.lock()
    await Vault.wipeAll(this.db)
  }

  /**
   * Wipes every action past its end plus the core's delay: its documents, keys and
   * record. Runs at unlock and every minute, on every phone, online or not.
   */
  async wipeExpired(now = Date.now()): Promise<ActionId[]> {
    const gone: ActionId[] = []
    for (const session of [...this.sessions.values()]) {
      const at = session.wipeAt()
      if (at === undefined || at > now) continue
      await this.removeAction(session)
      gone.push(session.id)
    }
    if (gone.length > 0) for (const listener of this.listeners) listener()
    return gone
  }

  private async removeAction(session: ActionSession): Promise<void> {
    this.sessions.delete(session.id)
    await session.close()
    for (const access of accessesOf(session)) {
      await this.vault.deleteDoc(access.docId)
      access.keys.forEach((key) => wipe(key))
    }
    await this.vault.deleteSecret(`action:${session.id}`)
    const next = this.saving.then(async () => {
      const ids = await this.actionIds()
      await this.vault.putSecret('actions', utf8(JSON.stringify(ids.filter((id) => id !== session.id))))
    })
    this.saving = next.catch(() => {})
    await next
  }

  /** Closes every action and forgets every key. */
  async lock(): Promise<void> {
    clearInterval(this.expiryTimer)
    const sessions = [...this.sessions.values()]
    await Promise.all(sessions.map((s) => s.close()))
    // What a session changed just before (offers that opened a stage, say) is written first, or it is
    // lost with the key; a store that hangs does not keep the phone unlocked for more than a moment.
    let waited: ReturnType<typeof setTimeout> | undefined
    await Promise.race([this.saving, new Promise((r) => (waited = setTimeout(r, LOCK_SAVE_WAIT_MS)))])
    clearTimeout(waited)
    for (const s of sessions) {
      for (const access of accessesOf(s)) access.keys.forEach((key) => wipe(key))
      if (s.me !== this.identity) forgetIdentity(s.me)
    }
    this.sessions.clear()
    forgetIdentity(this.identity)
    this.vault.lock()
  }

  /** A welcome into a new action (core, participant or remote supporter). Throws ModelError if it lacks a document its tier reads. */
  private joinAction(w: Welcome, me: DeviceIdentity): () => Promise<ActionId> {
    const incomplete = (): never => {
      throw new ModelError('bad-message', 'The welcome was incomplete.')
    }
    const record: ActionRecord =
      w.tier === 'core'
        ? { id: newActionId(), role: 'core', plan: w.plan ?? incomplete(), brief: w.brief ?? incomplete(), ...(w.remote ? { remote: w.remote } : {}), identitySeed: me.seed }
        : w.tier === 'remote'
          ? { id: newActionId(), role: 'remote', brief: w.remote ?? incomplete(), identitySeed: me.seed }
          : w.tier === 'participant'
            ? { id: newActionId(), role: 'participant', brief: w.brief ?? incomplete(), identitySeed: me.seed }
            : incomplete()
    return () => this.save(record).then(() => this.open(record)).then(() => record.id)
  }

  /**
   * A new campaign, with action `id` (a core action on this phone) as its first cell and this phone
   * its coordinator; `cellName` is all the other cells will see of it.
   */
  async startCampaign(id: ActionId, name: string, cellName: string): Promise<void> {
    const session = this.get(id)
    if (session.role !== 'core' || session.recordNow().campaign) throw new ModelError('not-core', 'Only a core phone of an action not yet in a campaign can start one.')
    const me = newIdentity()
    const access: DocAccess = { docId: newDocId(), keys: new Map([[0, randomKey()]]), roster: { epoch: 0, writers: [publicPart(me)] } }
    session.setCellName(cellName)
    await this.seatIn(session, { access, identitySeed: me.seed })
    this.get(id).setCampaign('name', name)
  }

  /** A core phone joins its action `id` to a campaign, with a campaign invite (tier cell). */
  joinCampaign(id: ActionId, link: string, cellName: string): JoinAttempt {
    const session = this.get(id)
    if (session.role !== 'core' || session.recordNow().campaign) throw new ModelError('not-core', 'Only a core phone of an action not yet in a campaign can join one.')
    const invite = decodeInvite(link)
    if (invite.tier !== 'cell') throw new InviteLinkError('malformed')
    return new JoinAttempt((attempt, settle) =>
      this.runJoin(invite, attempt, settle, (w, me) => {
        if (!w.campaign) throw new ModelError('bad-message', 'The welcome was incomplete.')
        const access = w.campaign
        return async () => {
          this.get(id).setCellName(cellName)
          await this.seatIn(this.get(id), { access, identitySeed: me.seed })
          return id
        }
      }),
    )
  }

  /** Saves the campaign seat in the action's record and opens the action again with it. */
  private async seatIn(session: ActionSession, seat: CampaignSeat): Promise<void> {
    const record: ActionRecord = { ...session.recordNow(), campaign: seat }
    await this.save(record)
    await session.close()
    await (await this.open(record)).campaignReady
    for (const listener of this.listeners) listener()
  }

  private runJoin(
    invite: Invite,
    attempt: JoinAttempt,
    settle: (r: Promise<ActionId>) => void,
    welcomed: (w: Welcome, me: DeviceIdentity) => () => Promise<ActionId> = (w, me) => this.joinAction(w, me),
  ): () => void {
    // Every join gets a fresh identity for this action alone, core and participant alike.
    const me = newIdentity()
    let tries = 0
    let sent = 0
    let joined = false
    let stopped = false
    let timer: ReturnType<typeof setTimeout> | undefined
    const lobby = lobbyTopic(invite.secret, (bytes) => {
      let m
      try {
        m = readLobbyMessage(invite.secret, bytes)
      } catch {
        return
      }
      if (m.t === 'join' || toBase64Url(m.to) !== toBase64Url(me.signingPublicKey)) return
      // Only the core holds the invite's answer key; anyone else with the link cannot answer.
      if (!isFromCore(invite.secret, invite.answerKey, m)) return
      if (m.t === 'refused') return settle(Promise.reject(new JoinError(m.why, refusalText[m.why])))
      try {
        const w = openWelcome(me, m.box)
        if (w.tier !== invite.tier) throw new ModelError('bad-message', 'The welcome was for another kind of invite.')
        const done = welcomed(w, me)
        // The core answers every repeated request: only the first welcome makes an action.
        if (joined) return
        joined = true
        attempt.emit('progress', ['admitted'])
        settle(done())
      } catch {
        // A welcome that does not open for us is someone else's, or forged: keep waiting.
      }
    }, () => ask()) // (re)subscribed: ask at once; a request sent before the socket opened went nowhere
    const sockets = ownSockets(this.baseTransport.signalingUrls, lobby)
    for (const socket of sockets) lobby.attach(socket)
    function ask(): void {
      clearTimeout(timer)
      if (joined || stopped) return
      const out = lobby.send(joinRequest(invite.secret, me))
      if (out) sent++
      // A core phone online answers the first request or two that went out; after that, none seems to be.
      attempt.emit('progress', [!out ? 'connecting' : sent <= UNANSWERED_AFTER ? 'asking' : 'unanswered'])
      timer = setTimeout(ask, JOIN_RETRY_MS[Math.min(tries++, JOIN_RETRY_MS.length - 1)])
    }
    // After the caller has subscribed: the first step is reported too.
    queueMicrotask(ask)
    return () => {
      stopped = true
      clearTimeout(timer)
      lobby.close()
      releaseSockets(sockets, lobby)
    }
  }

  private async open(record: ActionRecord): Promise<ActionSession> {
    const identity = identityIn(record, this.identity)
    const openDoc = (a: DocAccess): Promise<SecureDoc> =>
      SecureDoc.open({ docId: a.docId, keys: a.keys, roster: a.roster, identity, store: this.vault.docStore })
    const planDoc = record.plan ? await openDoc(record.plan) : undefined
    const briefDoc = await openDoc(record.brief)
    const remoteDoc = record.plan && record.remote ? await openDoc(record.remote) : undefined
    const seat = record.campaign
    // Whatever the campaign holds, it must never keep the cell's own action from opening.
    const campaignDoc =
      record.plan && seat
        ? await SecureDoc.open({ docId: seat.access.docId, keys: seat.access.keys, roster: seat.access.roster, identity: identityFromSeed(seat.identitySeed), store: this.vault.docStore }).catch(() => undefined)
        : undefined
    const session = new ActionSession(record, planDoc, briefDoc, identity, this.baseTransport.signalingUrls, this.transport, (r) => this.save(r), (r) => void this.reopen(r), {
      ...(remoteDoc ? { remoteDoc } : {}),
      ...(campaignDoc ? { campaignDoc } : {}),
    })
    this.sessions.set(record.id, session)
    return session
  }

  /**
   * Opens an action again from the store: a closure arrived that excludes frames this
   * phone had already applied (a removed writer's, shown before the closure reached us).
   * Rebuilt from the stored frames, the plaintext holds only what the closure allows.
   */
  private async reopen(record: ActionRecord): Promise<void> {
    const old = this.sessions.get(record.id)
    if (!old) return
    // The closed session answers `get` until the new one replaces it.
    await old.close()
    if (this.sessions.get(record.id) === old) await this.open(record)
    for (const listener of this.listeners) listener()
  }

  private async actionIds(): Promise<ActionId[]> {
    const bytes = await this.vault.getSecret('actions')
    try {
      const ids: unknown = bytes ? JSON.parse(fromUtf8(bytes)) : []
      return Array.isArray(ids) ? ids.filter((id): id is ActionId => typeof id === 'string') : []
    } catch {
      return []
    }
  }

  /** Saves one after another: two saves at once must not lose an action from the list. */
  private save(record: ActionRecord): Promise<void> {
    const next = this.saving.then(async () => {
      await this.vault.putSecret(`action:${record.id}`, encodeAction(record))
      const ids = await this.actionIds()
      if (!ids.includes(record.id)) await this.vault.putSecret('actions', utf8(JSON.stringify([...ids, record.id])))
    })
    this.saving = next.catch(() => {})
    return next
  }
}

/** Every document's access an action holds on this phone: to delete and wipe them. */
const accessesOf = (s: ActionSession): DocAccess[] =>
  [s.access.plan, s.access.brief, s.access.remote, s.access.campaign?.access].filter((a): a is DocAccess => a !== undefined)
