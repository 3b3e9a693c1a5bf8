import type { FunctionComponent } from 'preact'
import { useEffect, useState } from 'preact/hooks'
import { t } from '../i18n'

/** A screen whose code loads the first time it is shown; until then it says it is loading. */
export function later<P extends object>(load: () => Promise<FunctionComponent<P>>): FunctionComponent<P> {
  let loaded: FunctionComponent<P> | undefined
  return function Later(props: P) {
    const [, ready] = useState(0)
    useEffect(() => {
      if (!loaded) void load().then((screen) => ((loaded = screen), ready(1)))
    }, [])
    const Screen = loaded
    return Screen ? <Screen {...props} /> : <p role="status">{t('loading')}</p>
  }
}
