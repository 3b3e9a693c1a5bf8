// The model layer: actions, plans and invites, in the users' words.
export { Phone, ActionSession, JoinAttempt, JoinError, type ActionSummary, type InviteSummary, type JoinProblem } from './phone'
export { PlanView, PLAN_FIELDS, type PlanField, type PlanText } from './plan'
export { decodeInvite, InviteLinkError, type InviteTier, type InviteLinkProblem } from './invite-link'
export { ModelError, type ModelErrorCode } from './errors'
export type { ActionId, Role } from './action'
export type { InviteState } from './invites'
