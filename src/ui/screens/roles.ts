import type { InviteTier } from '../../model'
import type { MessageId } from '../i18n'

/** What each kind of member (and of invite) is called. */
export const ROLE_WORDS = {
  core: 'role.core',
  participant: 'role.participant',
  remote: 'role.remote',
  cell: 'role.cell',
} as const satisfies Record<InviteTier, MessageId>
