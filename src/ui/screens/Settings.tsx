import type { ComponentChildren } from 'preact'
import { useState } from 'preact/hooks'
// Types only from the model: a value import would pull the model (and libsodium) into the first chunk.
import type { Decoy, DeviceSettings } from '../../model'
import type { RunningBuild } from '../updates'

const IDLE_LOCK_CHOICES = [1, 2, 5, 10, 30] as const
import { LANGUAGE_NAMES, LOCALES, phoneLocale, t } from '../i18n'

export interface SettingsProps {
  readonly settings: DeviceSettings
  readonly change: (patch: Partial<DeviceSettings>) => void
  readonly changePassphrase: (current: string, next: string) => Promise<string | undefined>
  readonly setDuress: (current: string, duress: string, decoy?: Decoy) => Promise<string | undefined>
  readonly wipe: () => void
  readonly back: () => void
  /** What this phone runs, to compare with what the project published. */
  readonly build: { readonly id: string; readonly running: RunningBuild | undefined }
}

function ThisApp({ build }: Pick<SettingsProps, 'build'>) {
  const { running } = build
  return (
    <section class="stack" aria-labelledby="this-app">
      <h3 id="this-app">{t('buildTitle')}</h3>
      <p>{t('version', { id: build.id })}</p>
      {running ? (
        <>
          <p>
            <strong data-fingerprint={running.fingerprint}>{t('fingerprint', { short: running.fingerprint })}</strong>
          </p>
          <p>{t(`buildStanding.${running.standing}`)}</p>
          <p class="muted">{t('buildCompare')}</p>
        </>
      ) : (
        <p class="muted">{t('buildUnknown')}</p>
      )}
    </section>
  )
}

/** A small form of passphrase fields that reports its outcome in words. */
function PassphraseForm(props: {
  title: string
  explain?: string
  fields: readonly string[]
  /** More fields, shown before the submit button (the duress form's decoy). */
  extra?: ComponentChildren
  submitLabel: string
  done: string
  submit: (values: string[]) => Promise<string | undefined>
}) {
  const [values, setValues] = useState(props.fields.map(() => ''))
  const [message, setMessage] = useState<{ ok: boolean; text: string } | undefined>()
  return (
    <form
      class="stack"
      autocomplete="off"
      onSubmit={async (e) => {
        e.preventDefault()
        const error = await props.submit(values)
        setMessage(error ? { ok: false, text: error } : { ok: true, text: props.done })
        if (!error) setValues(props.fields.map(() => ''))
      }}
    >
      <h3>{props.title}</h3>
      {props.explain && <p class="muted">{props.explain}</p>}
      {props.fields.map((label, i) => (
        <label key={label}>
          {label}
          <input
            type="password"
            autocomplete="off"
            value={values[i]}
            onInput={(e) => {
              const next = [...values]
              next[i] = e.currentTarget.value
              setValues(next)
            }}
            required
          />
        </label>
      ))}
      {props.extra}
      {message && (
        <p role={message.ok ? 'status' : 'alert'} class={message.ok ? '' : 'error'}>
          {message.text}
        </p>
      )}
      <button type="submit" class="secondary">
        {props.submitLabel}
      </button>
    </form>
  )
}

/** The TURN server relay-only mode uses (kept in the vault with the other settings). */
function TurnServer({ settings, change }: Pick<SettingsProps, 'settings' | 'change'>) {
  const current = settings.iceServers[0]
  const [url, setUrl] = useState(typeof current?.urls === 'string' ? current.urls : '')
  const [user, setUser] = useState(current?.username ?? '')
  const [password, setPassword] = useState(typeof current?.credential === 'string' ? current.credential : '')
  const [saved, setSaved] = useState(false)
  return (
    <form
      class="stack"
      autocomplete="off"
      onSubmit={(e) => {
        e.preventDefault()
        change({ iceServers: url ? [{ urls: url, username: user, credential: password }] : [] })
        setSaved(true)
      }}
    >
      <h3>{t('turnTitle')}</h3>
      <label>
        {t('turnUrl')}
        <input value={url} onInput={(e) => setUrl(e.currentTarget.value)} inputMode="url" />
      </label>
      <label>
        {t('turnUser')}
        <input value={user} onInput={(e) => setUser(e.currentTarget.value)} autocomplete="off" />
      </label>
      <label>
        {t('turnPassword')}
        <input type="password" value={password} onInput={(e) => setPassword(e.currentTarget.value)} autocomplete="off" />
      </label>
      {saved && <p role="status">{t('turnSaved')}</p>}
      <button type="submit" class="secondary">
        {t('saveTurn')}
      </button>
    </form>
  )
}

/** The decoy's fields, inside the duress form. */
function DecoyFields({ decoy, set }: { decoy: Decoy; set: (d: Decoy) => void }) {
  return (
    <fieldset class="stack">
      <legend>{t('decoyExplain')}</legend>
      <label>
        {t('decoyTitle')}
        <input value={decoy.title} onInput={(e) => set({ ...decoy, title: e.currentTarget.value })} autocomplete="off" />
      </label>
      <label>
        {t('decoyStagingPoint')}
        <input value={decoy.stagingPoint} onInput={(e) => set({ ...decoy, stagingPoint: e.currentTarget.value })} autocomplete="off" />
      </label>
      <label>
        {t('decoyNotes')}
        <textarea value={decoy.notes} onInput={(e) => set({ ...decoy, notes: e.currentTarget.value })} rows={3} />
      </label>
    </fieldset>
  )
}

export function Settings({ settings, change, changePassphrase, setDuress, wipe, back, build }: SettingsProps) {
  const [confirming, setConfirming] = useState(false)
  const [decoy, setDecoy] = useState<Decoy>({ title: '', stagingPoint: '', notes: '' })
  return (
    <div class="stack">
      <h2>{t('settingsTitle')}</h2>
      <label>
        {t('language')}
        {/* Kept in the vault like every setting; until unlock the app speaks the phone's language. */}
        <select value={settings.language} onChange={(e) => change({ language: e.currentTarget.value })}>
          <option value="">
            {t('languagePhone')} ({LANGUAGE_NAMES[phoneLocale()]})
          </option>
          {LOCALES.map((l) => (
            <option key={l} value={l} lang={l}>
              {LANGUAGE_NAMES[l]}
            </option>
          ))}
        </select>
      </label>
      <label class="check">
        <input type="checkbox" checked={settings.serverRelay} onChange={(e) => change({ serverRelay: e.currentTarget.checked })} />
        {t('serverRelay')}
      </label>
      <label class="check">
        <input type="checkbox" checked={settings.relayOnly} onChange={(e) => change({ relayOnly: e.currentTarget.checked })} />
        {t('relayOnly')}
      </label>
      <p class="muted">{t('ipNotice')}</p>
      <TurnServer settings={settings} change={change} />
      <label class="check">
        <input type="checkbox" checked={settings.discreet} onChange={(e) => change({ discreet: e.currentTarget.checked })} />
        {t('discreet')}
      </label>
      <label>
        {t('idleLock')}
        <select value={String(settings.idleLockMinutes)} onChange={(e) => change({ idleLockMinutes: Number(e.currentTarget.value) })}>
          {IDLE_LOCK_CHOICES.map((n) => (
            <option key={n} value={String(n)}>
              {t('minutes', { n })}
            </option>
          ))}
        </select>
      </label>
      <PassphraseForm
        title={t('changePassphrase')}
        fields={[t('currentPassphrase'), t('newPassphrase')]}
        submitLabel={t('changePassphrase')}
        done={t('passphraseChanged')}
        submit={([current, next]) => changePassphrase(current!, next!)}
      />
      <PassphraseForm
        title={t('duressTitle')}
        explain={t('duressExplain')}
        fields={[t('currentPassphrase'), t('duressPassphrase'), t('duressAgain')]}
        submitLabel={t('setDuress')}
        done={t('duressSet')}
        extra={<DecoyFields decoy={decoy} set={setDecoy} />}
        submit={async ([current, duress, again]) => {
          if (duress !== again) return t('passphraseMismatch')
          const untitled = decoy.title.trim() === ''
          if (untitled && (decoy.notes.trim() !== '' || decoy.stagingPoint.trim() !== '')) return t('decoyNeedsTitle')
          const error = await setDuress(current!, duress!, untitled ? undefined : decoy)
          // The decoy's text does not stay on screen once it is sealed away.
          if (!error) setDecoy({ title: '', stagingPoint: '', notes: '' })
          return error
        }}
      />
      <ThisApp build={build} />
      <section class="stack" aria-labelledby="wipe">
        <h3 id="wipe">{t('wipeTitle')}</h3>
        <p class="muted">{t('wipeExplain')}</p>
        {confirming ? (
          <div class="row">
            <button type="button" class="danger" onClick={wipe}>
              {t('wipeConfirm')}
            </button>
            <button type="button" class="secondary" onClick={() => setConfirming(false)}>
              {t('cancel')}
            </button>
          </div>
        ) : (
          <button type="button" class="danger" onClick={() => setConfirming(true)}>
            {t('wipe')}
          </button>
        )}
      </section>
      <button type="button" class="secondary" onClick={back}>
        {t('back')}
      </button>
    </div>
  )
}
