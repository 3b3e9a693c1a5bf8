import type { ActionSession } from '../../model'
import { clockTime, t } from '../i18n'
import { useLive } from './live'

/** Online or offline, and how many phones are connected directly. */
export function Status({ session }: { session: ActionSession }) {
  const status = useLive(() => session.status(), (cb) => session.onStatus(cb), 2000)
  return (
    <>
      <p role="status" class={status.online ? 'online' : 'offline'} data-peers={status.peers}>
        {status.online ? t('online', { peers: status.peers }) : t('offline')}
      </p>
      {status.lastReceivedAt !== undefined && <p class="muted">{t('lastReceived', { when: clockTime(status.lastReceivedAt) })}</p>}
    </>
  )
}
