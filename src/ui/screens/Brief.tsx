// The participant's screen: the brief, the countdown, check-in, the invites the core let this
// person pass on, and the reveal.
import { useEffect, useState } from 'preact/hooks'
import type { ActionSession, StageView } from '../../model'
import { errorText } from '../errors'
import { clockTime, duration, t } from '../i18n'
import { useLive } from './live'
import { later } from './later'
import { Status } from './Status'
import { showTime, zoneName } from './time'

// Only a marshal's phone shows it: the others never load it.
const Marshal = later(() => import('./Marshal').then((m) => m.Marshal))
// Loaded when the person asks to scan a release code (with the camera or a picture).
const QrScanner = later(() => import('../qr/QrScanner').then((m) => m.QrScanner))
// Loaded when the person asks to show an invite to pass on as a QR code.
const QrCode = later(() => import('../qr/QrCode').then((m) => m.QrCode))

export interface BriefProps {
  readonly session: ActionSession
  /** The app's address, which invites to pass on are links to. */
  readonly origin: string
  readonly back: () => void
}

export function Brief({ session, origin, back }: BriefProps) {
  const live = useLive(
    () => ({ brief: session.brief.read(), announcements: session.brief.announcements(), stages: session.stages(), checkin: session.checkin, armed: session.armed(), pieces: session.quorumProgress(), marshal: session.marshal() !== undefined, now: Date.now() }),
    (cb) => session.onChange(cb),
    1000,
  )
  const [scanning, setScanning] = useState(false)
  const [scanError, setScanError] = useState<string | undefined>()
  const [dismissed, setDismissed] = useState(false)
  const revealed = live.stages.find((s) => s.content !== undefined)
  const { brief, armed } = live

  if (revealed && !dismissed) return <Reveal stage={revealed} goAt={brief.goAt} now={live.now} dismiss={() => setDismissed(true)} />

  return (
    <div class="stack">
      <Status session={session} />
      {session.removed() && <p role="alert">{t('youWereRemoved')}</p>}
      <h2>{t('briefTitle')}</h2>
      <p role="status" data-go-state={revealed ? 'released' : brief.state}>
        {brief.state === 'called-off'
          ? t('callOffMessage')
          : brief.state === 'held'
            ? t('onHold')
            : brief.goAt === undefined
              ? ''
              : brief.goAt > live.now
                ? t('countdown', { time: duration(brief.goAt - live.now) })
                : t('goPassed')}
      </p>
      <dl class="brief">
        <dt>{t('stagingPoint')}</dt>
        <dd>
          <bdi>{brief.stagingPoint || '—'}</bdi>
          {brief.stagingLat !== undefined && brief.stagingLon !== undefined && (
            <>
              <br />
              <a href={`geo:${brief.stagingLat},${brief.stagingLon}`} rel="noreferrer">
                {t('openInMaps')}
              </a>
            </>
          )}
        </dd>
        <dt>{t('gatherAt')}</dt>
        <dd>
          <Time at={brief.gatherAt} zone={brief.timeZone} />
        </dd>
        <dt>{t('goAt')}</dt>
        <dd>
          <Time at={brief.goAt} zone={brief.timeZone} />
        </dd>
        <dt>{t('bring')}</dt>
        <dd dir="auto">{brief.bring || '—'}</dd>
        <dt>{t('conduct')}</dt>
        <dd dir="auto">{brief.conduct || '—'}</dd>
        <dt>{t('dispersal')}</dt>
        <dd dir="auto">{brief.dispersal || '—'}</dd>
      </dl>
      {!revealed && <p class="muted">{t('sealedLocation')}</p>}
      {!revealed && (armed.quorum || armed.timelock) && brief.state === 'scheduled' && <p data-opens-without-organizers>{t('opensWithoutOrganizers')}</p>}
      {!revealed && brief.state !== 'called-off' && live.marshal && <Marshal session={session} />}
      {session.wipeAt() !== undefined && <p class="muted">{t('wipedAt', { when: showTime(session.wipeAt()) })}</p>}
      {revealed && (
        <button type="button" onClick={() => setDismissed(false)}>
          {t(`stage.${revealed.kind}`)}
        </button>
      )}
      {live.announcements.length > 0 && (
        <section aria-labelledby="announcements">
          <h3 id="announcements">{t('announcements')}</h3>
          <ul class="list">
            {[...live.announcements].reverse().map((a) => (
              <li key={`${a.at}${a.text}`}>
                {clockTime(a.at)}: <bdi>{a.text}</bdi>
              </li>
            ))}
          </ul>
        </section>
      )}
      {live.checkin === 'not-yet' ? (
        <button type="button" onClick={() => session.checkIn()}>
          {t('checkIn')}
        </button>
      ) : (
        <p role="status" data-checkin={live.checkin}>
          {live.checkin === 'confirmed' ? t('checkinConfirmed') : t('checkinSending')}
        </p>
      )}
      {brief.showCheckins && brief.checkins !== undefined && <p>{t('othersHere', { n: brief.checkins })}</p>}
      {!revealed && brief.state !== 'called-off' && <PassOn session={session} origin={origin} />}
      {!revealed && brief.state !== 'called-off' && (
        <button type="button" class="secondary" onClick={() => setScanning(!scanning)}>
          {scanning ? t('stopScanning') : t('scanRelease')}
        </button>
      )}
      {scanning && (
        <QrScanner
          onCode={(code) => {
            session.acceptReleaseCode(code).then(
              (opened) => {
                setScanError(undefined)
                // A marshal's piece alone opens nothing yet: keep scanning for the others'.
                if (opened || !session.quorumProgress()) setScanning(false)
              },
              (e: unknown) => setScanError(errorText(e)),
            )
          }}
          onError={setScanError}
        />
      )}
      {scanning && live.pieces && live.pieces.offered > 0 && <p role="status">{t('piecesScanned', { offered: live.pieces.offered, k: live.pieces.k })}</p>}
      {scanError && <p role="alert">{scanError}</p>}
      <button type="button" class="secondary" onClick={back}>
        {t('back')}
      </button>
    </div>
  )
}

/** The invites the core let this person pass on, one link each, for people they trust. */
function PassOn({ session, origin }: { session: ActionSession; origin: string }) {
  const links = useLive(() => session.vouchLinks(origin), (cb) => session.onChange(cb))
  if (links.length === 0) return null
  return (
    <section class="stack" aria-labelledby="vouch">
      <h3 id="vouch">{t('vouchSection')}</h3>
      <p class="muted">{t('vouchNote')}</p>
      {links.map((link, i) => (
        <VouchLink key={link} link={link} n={i + 1} />
      ))}
    </section>
  )
}

function VouchLink({ link, n }: { link: string; n: number }) {
  const [showing, setShowing] = useState(false)
  return (
    <div class="stack" data-vouch-link={n}>
      <label>
        {t('vouchLink', { n })}
        <input readOnly value={link} onFocus={(e) => e.currentTarget.select()} />
      </label>
      <button type="button" class="secondary" onClick={() => setShowing(!showing)} aria-expanded={showing}>
        {t('vouchShowQr', { n })}
      </button>
      {showing && <QrCode text={link} label={t('vouchLink', { n })} />}
    </div>
  )
}

/** A time on this phone's clock, with the zone named; and on the action's clock if it differs. */
export function Time({ at, zone }: { at: number | undefined; zone: string }) {
  const here = showTime(at)
  return (
    <>
      {here}
      {at !== undefined && zone !== zoneName() && (
        <>
          <br />
          {t('actionTime', { time: showTime(at, zone) })}
        </>
      )}
    </>
  )
}

/** Keeps the screen on while shown (Screen Wake Lock, where the browser has it). */
function useWakeLock(): void {
  useEffect(() => {
    let lock: WakeLockSentinel | undefined
    let gone = false
    const take = (): void => {
      if (document.visibilityState !== 'visible' || !('wakeLock' in navigator)) return
      navigator.wakeLock.request('screen').then(
        (l) => (gone ? void l.release() : (lock = l)),
        () => undefined, // refused (battery saver, not allowed): the reveal still shows
      )
    }
    take()
    // A lock ends when the page is hidden; take it again when the phone shows the page again.
    document.addEventListener('visibilitychange', take)
    return () => {
      gone = true
      document.removeEventListener('visibilitychange', take)
      void lock?.release()
    }
  }, [])
}

function Reveal({ stage, goAt, now, dismiss }: { stage: StageView; goAt: number | undefined; now: number; dismiss: () => void }) {
  useWakeLock()
  const content = stage.content!
  const since = goAt !== undefined && now >= goAt ? now - goAt : stage.releasedAt !== undefined ? now - stage.releasedAt : 0
  return (
    <section class="reveal stack" aria-labelledby="reveal-title">
      <h2 id="reveal-title">{t('revealTitle')}</h2>
      <p class="reveal-label">{t(`stage.${stage.kind}`)}</p>
      <p class="reveal-text" data-reveal dir="auto">
        {content.text}
      </p>
      {content.lat !== undefined && content.lon !== undefined && (
        <a href={`geo:${content.lat},${content.lon}`} rel="noreferrer">
          {t('openInMaps')}
        </a>
      )}
      <p>{t('sinceGo', { time: duration(since) })}</p>
      <p class="muted">{t('wakeLockNote')}</p>
      <button type="button" onClick={dismiss}>
        {t('dismiss')}
      </button>
    </section>
  )
}
