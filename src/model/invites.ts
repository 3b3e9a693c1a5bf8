// The core side of invites: the plan lists them (so every core phone knows them),
// and any online core phone answers join requests in their lobbies.
import * as Y from 'yjs'
import { fromBase64Url, toBase64Url, type DeviceIdentity, type PublicIdentity, type SecretKey } from '../crypto'
import type { SecureDoc } from '../doc'
import { SealedTopic, type SignalingSocket } from '../transport'
import type { DocAccess } from './access'
import { newInvite, type Invite, type InviteTier } from './invite-link'
import { inviteIdOf, lobbyOf, readLobbyMessage, refusal, welcome, type JoinRequest } from './lobby'

/** How an invite is recorded in the core plan. */
export interface InviteEntry {
  readonly secret: string
  readonly tier: InviteTier
  readonly expiresAt: number
  readonly createdBy: string
  readonly redeemedBy?: string
  readonly revoked?: true
}

export type InviteState = 'open' | 'used' | 'expired' | 'revoked'

export const invitesOf = (plan: Y.Doc): Y.Map<InviteEntry> => plan.getMap<InviteEntry>('invites')

export function stateOf(entry: InviteEntry, now = Date.now()): InviteState {
  if (entry.revoked) return 'revoked'
  if (entry.redeemedBy) return 'used'
  if (entry.expiresAt <= now) return 'expired'
  return 'open'
}

export function addInvite(plan: SecureDoc, me: DeviceIdentity, tier: InviteTier, validForMs: number): Invite {
  const invite = newInvite(tier, Date.now() + validForMs)
  invitesOf(plan.plain).set(inviteIdOf(invite.secret), {
    secret: toBase64Url(invite.secret),
    tier,
    expiresAt: invite.expiresAt,
    createdBy: toBase64Url(me.signingPublicKey),
  })
  plan.flush()
  return invite
}

/** Answers join requests for every open invite of one action's plan. */
export class InviteDesk {
  private readonly lobbies = new Map<string, SealedTopic>()
  private readonly sync = (): void => this.refresh()

  constructor(
    private readonly plan: SecureDoc,
    private readonly planAccess: () => DocAccess,
    private readonly me: DeviceIdentity,
    private readonly sockets: readonly SignalingSocket[],
  ) {
    invitesOf(plan.plain).observe(this.sync)
    this.refresh()
  }

  close(): void {
    invitesOf(this.plan.plain).unobserve(this.sync)
    for (const lobby of this.lobbies.values()) lobby.close()
    this.lobbies.clear()
  }

  /** Opens a lobby for each invite still waiting for its joiner; closes the others. */
  private refresh(): void {
    const invites = invitesOf(this.plan.plain)
    invites.forEach((entry, id) => {
      // A used invite's lobby stays open so a joiner that missed its welcome can ask again,
      // and a second phone with the same link hears that it was used.
      const listening = stateOf(entry) !== 'revoked' && entry.expiresAt + 24 * 3600_000 > Date.now()
      if (listening && !this.lobbies.has(id)) this.open(id, fromBase64Url(entry.secret) as SecretKey)
      if (!listening) this.lobbies.get(id)?.close()
    })
  }

  private open(id: string, secret: SecretKey): void {
    const { topic, key } = lobbyOf(secret)
    const lobby = new SealedTopic(topic, key, 64 * 1024, (bytes) => {
      try {
        const m = readLobbyMessage(secret, bytes)
        if (m.t === 'join') this.answer(id, lobby, m)
      } catch {
        // Anyone holding the link can write here; unreadable messages are ignored.
      }
    })
    for (const socket of this.sockets) lobby.attach(socket)
    this.lobbies.set(id, lobby)
  }

  private answer(id: string, lobby: SealedTopic, request: JoinRequest): void {
    const invites = invitesOf(this.plan.plain)
    const entry = invites.get(id)
    if (!entry || !this.plan.canWrite) return
    const joiner = toBase64Url(request.joiner.signingPublicKey)
    const state = stateOf(entry)
    if (state === 'revoked' || (state === 'expired' && entry.redeemedBy !== joiner)) {
      lobby.send(refusal(request.joiner, state === 'revoked' ? 'revoked' : 'expired'))
      return
    }
    if (entry.redeemedBy && entry.redeemedBy !== joiner) {
      lobby.send(refusal(request.joiner, 'used'))
      return
    }
    if (!entry.redeemedBy) {
      invites.set(id, { ...entry, redeemedBy: joiner })
      if (entry.tier === 'core') this.plan.addWriter(request.joiner)
      this.plan.flush()
    }
    lobby.send(welcome(request.joiner, this.welcomeFor(entry.tier, request.joiner)))
  }

  private welcomeFor(tier: InviteTier, joiner: PublicIdentity) {
    const access = this.planAccess()
    const writers = this.plan.writers()
    const known = new Set(writers.map((w) => toBase64Url(w.signingPublicKey)))
    if (!known.has(toBase64Url(joiner.signingPublicKey))) writers.push(joiner)
    return {
      tier,
      admittedBy: this.me,
      ...(tier === 'core' ? { plan: { ...access, roster: { epoch: this.plan.epoch, writers } } } : {}),
    }
  }
}
