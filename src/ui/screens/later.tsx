import type { FunctionComponent } from 'preact'
import { useEffect, useState } from 'preact/hooks'
import { laterMessages, t } from '../i18n'

/**
 * A screen whose code loads the first time it is shown; until then it says it is loading, and
 * if the load fails (an old cache, no network) it says so and can try again.
 */
export function later<P extends object>(load: () => Promise<FunctionComponent<P>>): FunctionComponent<P> {
  let loaded: FunctionComponent<P> | undefined
  return function Later(props: P) {
    const [state, setState] = useState<'loading' | 'ready' | 'failed'>(loaded ? 'ready' : 'loading')
    useEffect(() => {
      if (state !== 'loading') return
      load().then(
        (screen) => ((loaded = screen), setState('ready')),
        () => setState('failed'),
      )
    }, [state])
    const Screen = loaded
    if (Screen) return <Screen {...props} />
    if (state === 'loading') return <p role="status">{t('loading')}</p>
    return (
      <div class="stack">
        <p role="alert" class="error">
          {t('screenLoadFailed')}
        </p>
        <button type="button" onClick={() => setState('loading')}>
          {t('tryAgain')}
        </button>
      </div>
    )
  }
}

/** A screen whose words are in the catalogs' later part (the core's, settings): its code and its words load together. */
export const withLaterWords = <T,>(screen: Promise<T>): Promise<T> => Promise.all([screen, laterMessages()]).then(([loaded]) => loaded)
