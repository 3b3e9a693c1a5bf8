// A remote supporter's screen: what to do at go and when go is, on this phone's clock. Their
// phone holds only the remote brief, which never has the location or the staging point: there is
// nothing to check in to and nothing to open, only the go signal once the action went.
import type { ActionSession } from '../../model'
import { duration, t } from '../i18n'
import { Time } from './Brief'
import { useLive } from './live'
import { Status } from './Status'
import { showTime } from './time'

export interface RemoteProps {
  readonly session: ActionSession
  readonly back: () => void
}

export function Remote({ session, back }: RemoteProps) {
  const { brief, now } = useLive(() => ({ brief: session.brief.read(), now: Date.now() }), (cb) => session.onChange(cb), 1000)
  return (
    <div class="stack">
      <Status session={session} />
      {session.removed() && <p role="alert">{t('youWereRemoved')}</p>}
      <h2>{t('remoteTitle')}</h2>
      {brief.wentAt !== undefined ? (
        <p role="alert" class="notice" data-went>
          {t('remoteWent')}
        </p>
      ) : (
        <p role="status" data-go-state={brief.state}>
          {brief.state === 'called-off'
            ? t('remoteCalledOff')
            : brief.state === 'held'
              ? t('remoteOnHold')
              : brief.goAt === undefined
                ? ''
                : brief.goAt > now
                  ? t('countdown', { time: duration(brief.goAt - now) })
                  : t('remoteGoPassed')}
        </p>
      )}
      <section aria-labelledby="remote-task">
        <h3 id="remote-task">{t('remoteTaskHeading')}</h3>
        <p class="task" dir="auto" data-remote-task>
          {brief.remoteTask || '—'}
        </p>
      </section>
      <dl class="brief">
        <dt>{t('goAt')}</dt>
        <dd>
          <Time at={brief.goAt} zone={brief.timeZone} />
        </dd>
      </dl>
      {session.wipeAt() !== undefined && <p class="muted">{t('wipedAt', { when: showTime(session.wipeAt()) })}</p>}
      <button type="button" class="secondary" onClick={back}>
        {t('back')}
      </button>
    </div>
  )
}
