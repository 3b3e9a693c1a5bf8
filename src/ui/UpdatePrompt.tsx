// In-app notice about a new version: offered only once checked (signed by the pinned release key,
// every file as the signature names it), with a button to switch to it; or, when the server offered
// something this phone refused, why and what to do. Not a browser dialog: it never steals focus.
import { useEffect, useState } from 'preact/hooks'
import { t } from './i18n'
import type { UpdateSource, UpdateState } from './updates'

export function UpdatePrompt({ updates }: { updates: UpdateSource }) {
  const [state, setState] = useState<UpdateState>({ kind: 'none' })
  const [applying, setApplying] = useState(false)
  useEffect(() => updates.onChange(setState), [updates])

  return (
    <>
      <div class="update" role="status" aria-live="polite">
        {state.kind === 'ready' && (
          <div class="update-box">
            <span>
              {t('updateReady')} <span class="muted">{t('updateReadyFingerprint', { fingerprint: state.fingerprint })}</span>
            </span>
            <button
              type="button"
              disabled={applying}
              onClick={() => {
                setApplying(true)
                updates.apply()
              }}
            >
              {applying ? t('updateReloading') : t('updateReload')}
            </button>
          </div>
        )}
      </div>
      <div class="update" role="alert">
        {state.kind === 'refused' && (
          <div class="update-box error" data-refused={state.reason}>
            <p>{t(`updateRefused.${state.reason}`)}</p>
            <p>{t('updateRefusedAdvice')}</p>
          </div>
        )}
      </div>
    </>
  )
}
