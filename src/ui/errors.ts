// An error as a person reads it, in their language: the model's typed errors name their problem,
// and each problem has a message of its own; anything else keeps its (English) message.
import { hasMessage, t } from './i18n'

const KINDS: Readonly<Record<string, string>> = {
  InviteLinkError: 'invite',
  JoinError: 'join',
  ReleaseError: 'release',
  QuorumError: 'quorum',
  TimelockError: 'timelock',
  StoreError: 'store',
  ModelError: 'model',
}

export function errorText(e: unknown): string {
  if (!(e instanceof Error)) return String(e)
  const kind = KINDS[e.name]
  const { problem, code } = e as { problem?: unknown; code?: unknown }
  const id = `error.${kind}.${String(problem ?? code)}`
  return kind !== undefined && hasMessage(id) ? t(id) : e.message
}
