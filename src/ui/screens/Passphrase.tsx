// First run (choose a passphrase) and unlock: one form, two uses. The fields come first, so
// they are in view on a small phone; what Blossom is follows the button.
import { useState } from 'preact/hooks'
import { t } from '../i18n'
import type { InviteTier } from '../../model'

/** An invite link this page was opened with: what it admits to, or why it cannot. */
export type Invitation = { readonly tier: InviteTier } | { readonly problem: string }

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
      <h2>{invite ? t(invite === 'core' ? 'invitedCoreTitle' : 'invitedParticipantTitle') : setup ? t('setupTitle') : t('unlockTitle')}</h2>
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
      {invite && <p>{t(invite === 'core' ? 'invitedCore' : 'invitedParticipant')}</p>}
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
