// A marshal's part of the participant's screen: how many marshals have released (never their
// pieces), its own release at go, and its piece as a QR code for phones with no network.
import { useState } from 'preact/hooks'
import type { ActionSession } from '../../model'
import { t } from '../i18n'
import { later } from './later'
import { useLive } from './live'

const QrCode = later(() => import('../qr/QrCode').then((m) => m.QrCode))

export function Marshal({ session }: { session: ActionSession }) {
  const view = useLive(() => session.marshal(), (cb) => session.onChange(cb), 5_000)
  const [showing, setShowing] = useState(false)
  if (!view) return null
  const code = view.mine === 'offered' || view.mine === 'sending' ? session.myShareCode() : undefined
  return (
    <section class="stack" aria-labelledby="marshal" data-marshal={view.mine}>
      <h3 id="marshal">{t('youAreMarshal')}</h3>
      <p>{t('marshalIntro', { k: view.k, n: view.n })}</p>
      <p role="status" data-offered={view.offered}>
        {t('marshalCount', { offered: view.offered, k: view.k })}
      </p>
      {view.mine === 'confirm' && (
        <>
          <p role="alert">{t('marshalConfirm')}</p>
          <button type="button" class="danger" onClick={() => session.confirmGo()}>
            {t('marshalRelease')}
          </button>
        </>
      )}
      {view.mine === 'sending' && <p role="status">{t('marshalSending')}</p>}
      {view.mine === 'offered' && <p>{t('marshalReleased')}</p>}
      {code && (
        <button type="button" class="secondary" onClick={() => setShowing(!showing)} aria-expanded={showing}>
          {t('marshalShowQr')}
        </button>
      )}
      {code && showing && (
        <div data-share-code={code}>
          <QrCode text={code} label={t('marshalQrLabel')} />
        </div>
      )}
    </section>
  )
}
