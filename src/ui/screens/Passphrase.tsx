// First run (choose a passphrase) and unlock: one form, two uses.
import { useState } from 'preact/hooks'
import { strings } from '../strings'

export interface PassphraseProps {
  readonly mode: 'setup' | 'unlock'
  readonly submit: (passphrase: string) => Promise<string | undefined>
}

export function Passphrase({ mode, submit }: PassphraseProps) {
  const [first, setFirst] = useState('')
  const [second, setSecond] = useState('')
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string | undefined>()
  const setup = mode === 'setup'

  const onSubmit = async (e: Event): Promise<void> => {
    e.preventDefault()
    if (setup && first !== second) return setError(strings.passphraseMismatch)
    setBusy(true)
    setError(await submit(first))
    setBusy(false)
  }

  return (
    <form class="stack" onSubmit={onSubmit} autocomplete="off">
      <h2>{setup ? strings.setupTitle : strings.unlockTitle}</h2>
      {setup && (
        <>
          <p>{strings.about}</p>
          <ul>
            <li>{strings.aboutCore}</li>
            <li>{strings.aboutParticipant}</li>
          </ul>
          <p>{strings.setupIntro}</p>
          <p class="muted">{strings.aboutNoRecovery}</p>
        </>
      )}
      <label>
        {strings.passphrase}
        {/* autocomplete off: a browser's password manager would keep (and often sync) the vault's passphrase */}
        <input type="password" autocomplete="off" value={first} onInput={(e) => setFirst(e.currentTarget.value)} required />
      </label>
      {setup && (
        <label>
          {strings.passphraseAgain}
          <input type="password" autocomplete="off" value={second} onInput={(e) => setSecond(e.currentTarget.value)} required />
        </label>
      )}
      {error && <p role="alert" class="error">{error}</p>}
      <button type="submit" disabled={busy}>
        {busy ? (setup ? strings.settingUp : strings.unlocking) : setup ? strings.setUp : strings.unlock}
      </button>
    </form>
  )
}
