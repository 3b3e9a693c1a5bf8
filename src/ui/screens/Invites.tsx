// The core's section on who is in: the core's phones, the invites and what became of them, the
// participants allowed to pass invites on (and whom they brought in), and removals.
import { useState } from 'preact/hooks'
import type { ActionSession, InviteSummary, ModelErrorCode } from '../../model'
import { errorText } from '../errors'
import { t, type MessageId } from '../i18n'
import { QrCode } from '../qr/QrCode'
import { ROLE_WORDS } from './roles'
import { TwoStep } from './TwoStep'

/** How many invites a participant is let pass on at a time (the button's words say three). */
const VOUCHES = 3

/** Why the core could not let a participant pass on invites (the model's codes name marshals' limits elsewhere). */
const VOUCH_REFUSED: Partial<Record<ModelErrorCode, MessageId>> = { 'not-participant': 'vouchNotMember', 'too-many-vouches': 'vouchTooMany' }

function vouchRefusal(e: unknown): string {
  const code = e instanceof Error && e.name === 'ModelError' ? (e as { code?: ModelErrorCode }).code : undefined
  const id = code && VOUCH_REFUSED[code]
  return id ? t(id) : errorText(e)
}

const inviteName = (i: InviteSummary): string => i.label || t(ROLE_WORDS[i.tier])

export interface InvitesProps {
  readonly session: ActionSession
  readonly origin: string
  readonly invites: readonly InviteSummary[]
  readonly members: ReturnType<ActionSession['coreMembers']>
  readonly coreSize: number
  /** The action has a remote brief: remote supporters can be invited. */
  readonly remote: boolean
}

export function Invites({ session, origin, invites, members, coreSize, remote }: InvitesProps) {
  const [label, setLabel] = useState('')
  const [link, setLink] = useState<string | undefined>()
  let unnamed = 0
  return (
    <section class="stack" aria-labelledby="invites">
      <h2 id="invites">{t('invitesSection')}</h2>
      <p data-core-size={coreSize}>{t('coreMembers', { n: coreSize })}</p>
      <ul class="list">
        {members.map((m) => {
          const name = m.me ? t('thisPhone') : m.label || (m.invited ? t('unnamedCore', { n: ++unnamed }) : t('founder'))
          return (
            <li key={m.id}>
              {name} {!m.me && <TwoStep ask={t('remove', { name })} confirm={t('removeConfirm', { name })} act={() => void session.removeCoreMember(m.id)} />}
            </li>
          )
        })}
      </ul>
      <label>
        {t('inviteLabel')}
        <input value={label} onInput={(e) => setLabel(e.currentTarget.value)} />
      </label>
      <div class="row">
        <button type="button" onClick={() => setLink(session.invite('participant', label, origin))}>
          {t('inviteParticipant')}
        </button>
        <button type="button" class="secondary" onClick={() => setLink(session.invite('core', label, origin))}>
          {t('inviteCore')}
        </button>
        {remote && (
          <button type="button" class="secondary" onClick={() => setLink(session.invite('remote', label, origin))}>
            {t('inviteRemote')}
          </button>
        )}
      </div>
      {link && (
        <>
          <label>
            {t('inviteLinkLabel')}
            <input readOnly value={link} onFocus={(e) => e.currentTarget.select()} />
          </label>
          <QrCode text={link} label={t('inviteLinkLabel')} />
        </>
      )}
      {invites.length > 0 && (
        <ul class="list stack">
          {invites.map((i) => (
            <Invite key={i.id} invite={i} invites={invites} session={session} showLink={() => setLink(session.inviteLink(i.id, origin))} />
          ))}
        </ul>
      )}
    </section>
  )
}

interface InviteProps {
  readonly invite: InviteSummary
  readonly invites: readonly InviteSummary[]
  readonly session: ActionSession
  /** Shows this invite's link again (a replacement to send once more). */
  readonly showLink: () => void
}

function Invite({ invite: i, invites, session, showLink }: InviteProps) {
  const [refused, setRefused] = useState<string | undefined>()
  const name = inviteName(i)
  const voucher = i.vouchedBy === undefined ? undefined : invites.find((v) => v.id === i.vouchedBy)
  // A participant who joined (and was not removed) may pass invites on; a remote supporter is removed alone.
  const member = i.state === 'used' && (i.tier === 'participant' || i.tier === 'remote')
  const mayVouch = i.state === 'used' && i.tier === 'participant'
  const open = mayVouch ? session.vouchesOpen(i.id) : 0
  const broughtIn = mayVouch && invites.some((v) => v.vouchedBy === i.id)
  return (
    <li data-state={i.state} data-tier={i.tier} data-vouched-by={voucher?.id}>
      {t('inviteSummary', { name, role: t(ROLE_WORDS[i.tier]), state: t(`inviteState.${i.state}`) })}
      {voucher && <> {t('vouchedVia', { name: inviteName(voucher) })}</>}
      {open > 0 && (
        <>
          {' '}
          <span data-vouches-open={open}>{t('vouchesOpen', { name, count: open })}</span>
        </>
      )}
      {i.state === 'open' && i.replaces && (
        <>
          {' '}
          <span class="note" data-replaces>
            {t('replacesNote')}
          </span>{' '}
          <button type="button" onClick={showLink}>
            {t('showNewLink', { name })}
          </button>
        </>
      )}
      {(i.state === 'open' || member) && (
        <div class="row">
          {i.state === 'open' && (
            <button type="button" class="secondary" onClick={() => session.revoke(i.id)}>
              {t('revoke', { name })}
            </button>
          )}
          {mayVouch && (
            <button
              type="button"
              class="secondary"
              onClick={() => {
                try {
                  session.allowVouching(i.id, VOUCHES)
                  setRefused(undefined)
                } catch (e) {
                  setRefused(vouchRefusal(e))
                }
              }}
            >
              {t('allowVouching', { name })}
            </button>
          )}
          {member && <TwoStep ask={t('remove', { name })} confirm={t('removeConfirm', { name })} act={() => void session.removeMember(i.id)} />}
          {broughtIn && <TwoStep ask={t('removeBranch', { name })} confirm={t('removeBranchConfirm', { name })} act={() => void session.removeBranch(i.id)} />}
        </div>
      )}
      {refused && (
        <p role="alert" class="error">
          {refused}
        </p>
      )}
    </li>
  )
}
