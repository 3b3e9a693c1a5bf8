// First run (choose a passphrase) and unlock: one form, two uses. The fields come first, so
// they are in view on a small phone; what Blossom is follows the button.
import { useState } from 'preact/hooks'
import { t, type MessageId } from '../i18n'
import type { InviteTier } from '../../model'

/** What an invite to an action admits to (a campaign's invite joins no one to an action: it is a problem here). */
export type ActionTier = Exclude<InviteTier, 'cell'>

/** An invite link this page was opened with: what it admits to, or why it cannot. */
export type Invitation = { readonly tier: ActionTier } | { readonly problem: string }

const INVITED_TITLE = { core: 'invitedCoreTitle', participant: 'invitedParticipantTitle', remote: 'invitedRemoteTitle' } as const satisfies Record<ActionTier, MessageId>
const INVITED_TO = { core: 'invitedCore', participant: 'invitedParticipant', remote: 'invitedRemote' } as const satisfies Record<ActionTier, MessageId>

export interface PassphraseProps {
  readonly mode: 'setup' | 'unlock'
  readonly invitation?: Invitation | undefined
  readonly submit: (passphrase: string) => Promise<string | undefined>
}

export function Passphrase({ mode, invitation, submit }: PassphraseProps) {
  const [first, setFirst] = useState('')
  const [second, setSecond] = useState('')
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string | undefined>()
  const setup = mode === 'setup'
  const invite = invitation && 'tier' in invitation ? invitation.tier : undefined

  const onSubmit = async (e: Event): Promise<void> => {
    e.preventDefault()
    if (setup && first !== second) return setError(t('passphraseMismatch'))
    setBusy(true)
    setError(await submit(first))
    setBusy(false)
  }

  return (
    <form class="stack" onSubmit={onSubmit} autocomplete="off">
      {/* An invite link opened this page: what it admits to comes first, then the fields. */}
      <h2>{invite ? t(INVITED_TITLE[invite]) : setup ? t('setupTitle') : t('unlockTitle')}</h2>
      {invitation && 'problem' in invitation && (
        <p role="alert" class="error" data-invitation="refused">
          {invitation.problem}
        </p>
      )}
      {invite && (
        <p class="notice" data-invitation={invite}>
          {setup ? t('invitedNext') : t('invitedNextUnlock')}
        </p>
      )}
      <label>
        {t('passphrase')}
        {/* autocomplete off: a browser's password manager would keep (and often sync) the vault's passphrase */}
        <input type="password" autocomplete="off" value={first} onInput={(e) => setFirst(e.currentTarget.value)} required />
      </label>
      {setup && (
        <label>
          {t('passphraseAgain')}
          <input type="password" autocomplete="off" value={second} onInput={(e) => setSecond(e.currentTarget.value)} required />
        </label>
      )}
      {error && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
      <button type="submit" disabled={busy}>
        {busy ? (setup ? t('settingUp') : t('unlocking')) : setup ? t('setUp') : t('unlock')}
      </button>
      {invite && <p>{t(INVITED_TO[invite])}</p>}
      {setup && (
        <>
          <p class="muted">{t('setupIntro')}</p>
          <p class="muted">{t('aboutNoRecovery')}</p>
          <p>{t('about')}</p>
          <ul>
            <li>{t('aboutCore')}</li>
            <li>{t('aboutParticipant')}</li>
          </ul>
        </>
      )}
    </form>
  )
}
