// The core's screen: the plan (core only), the sealed location, what participants and remote
// supporters see, the go controls, the campaign, invites and check-ins. Every field follows the
// document live: one that saves on a deliberate step keeps the person's edit (and says so if
// another phone saved meanwhile).
import { useEffect, useRef, useState } from 'preact/hooks'
import type { ActionSession, BriefField, CoreStage } from '../../model'
import { QrCode } from '../qr/QrCode'
import { clockTime, duration, t, type MessageId } from '../i18n'
import type { EnterCampaign } from './Campaign'
import { useDraft } from './draft'
import { Invites } from './Invites'
import { later } from './later'
import { useLive } from './live'
import { SavedText, Stale } from './SavedText'
import { SharedText } from './SharedText'
import { Status } from './Status'
import { opensBy, WithoutUs } from './WithoutUs'
import { coordinateOf } from './coordinates'
import { allZones, fromZonedInput, showTime, toZonedInput, zoneName } from './time'

// The campaign panel loads on its own, after the plan's fields have painted.
const Campaign = later(() => import('./Campaign').then((m) => m.Campaign))

/** Says why this phone's own clock does not decide go time, when it does not. */
function ClockNote({ session }: { session: ActionSession }) {
  const note = useLive(() => session.clockNote(), (cb) => session.onChange(cb), 5_000)
  if (!note) return null
  const text = note.kind === 'holding' ? t('clockHolding') : note.byMs > 0 ? t('clockAhead', { by: duration(note.byMs, true) }) : t('clockBehind', { by: duration(-note.byMs, true) })
  return (
    <p role="alert" class="error" data-clock={note.kind}>
      {text}
    </p>
  )
}

export interface PlanProps {
  readonly session: ActionSession
  readonly origin: string
  /** Starts a campaign with this action, or joins it to one (the phone does: it opens the action anew). */
  readonly enterCampaign: EnterCampaign
  readonly back: () => void
}

const BRIEF_FIELDS: readonly BriefField[] = ['stagingPoint', 'bring', 'conduct', 'dispersal']

const coordinate = (n: number | undefined): string => n?.toString() ?? ''


/** The sealed location: follows the plan until edited; sealed with its button. */
function LocationFields({ session, location }: { session: ActionSession; location: CoreStage | undefined }) {
  const draft = useDraft({ text: location?.content.text ?? '', lat: coordinate(location?.content.lat), lon: coordinate(location?.content.lon) })
  const { value } = draft
  const [refused, setRefused] = useState(false)
  return (
    <>
      <label>
        {t('location')}
        <SharedText rows={3} value={value.text} onText={(text) => draft.edit({ ...value, text })} />
      </label>
      <div class="row">
        <label>
          {t('latitude')}
          <SharedText inputMode="decimal" value={value.lat} onText={(lat) => draft.edit({ ...value, lat })} />
        </label>
        <label>
          {t('longitude')}
          <SharedText inputMode="decimal" value={value.lon} onText={(lon) => draft.edit({ ...value, lon })} />
        </label>
      </div>
      <Stale stale={draft.stale} discard={draft.clear} />
      <button
        type="button"
        onClick={() => {
          const la = coordinateOf(value.lat)
          const lo = coordinateOf(value.lon)
          // A coordinate that does not read as a number is never sealed as none: the person fixes it first.
          if (la === null || lo === null) return setRefused(true)
          session.setStage({ text: value.text, ...(la !== undefined && lo !== undefined ? { lat: la, lon: lo } : {}) })
          draft.clear()
        }}
      >
        {t('saveLocation')}
      </button>
      {refused && (coordinateOf(value.lat) === null || coordinateOf(value.lon) === null) && (
        <p role="alert" class="error">
          {t('notANumber')}
        </p>
      )}
      {location && location.content.text && <p class="muted">{t('locationSealed')}</p>}
    </>
  )
}

/** The action's zone and its times: follow the brief until edited; saved with their button. */
function TimeFields({ session, brief }: { session: ActionSession; brief: ReturnType<ActionSession['brief']['read']> }) {
  const zoneSet = brief.timeZone !== 'UTC' || brief.goAt !== undefined
  const remoteZone = zoneSet ? brief.timeZone : zoneName()
  const draft = useDraft({
    zone: remoteZone,
    gather: toZonedInput(brief.gatherAt, remoteZone),
    go: toZonedInput(brief.goAt, remoteZone),
    ends: toZonedInput(brief.endsAt, remoteZone),
  })
  const { value } = draft
  const time = (key: 'gather' | 'go' | 'ends', label: MessageId) => (
    <label>
      {t(label)}
      <SharedText type="datetime-local" value={value[key]} onText={(v) => draft.edit({ ...value, [key]: v })} />
    </label>
  )
  return (
    <>
      <label>
        {t('timeZone')}
        <select value={value.zone} onChange={(e) => draft.edit({ ...value, zone: e.currentTarget.value })}>
          {allZones().map((z) => (
            <option key={z} value={z}>
              {z}
            </option>
          ))}
        </select>
      </label>
      {time('gather', 'gatherAt')}
      {time('go', 'goAt')}
      {time('ends', 'endsAt')}
      <Stale stale={draft.stale} discard={draft.clear} />
      <button
        type="button"
        onClick={() => {
          const gatherAt = fromZonedInput(value.gather, value.zone)
          const goAt = fromZonedInput(value.go, value.zone)
          const endsAt = fromZonedInput(value.ends, value.zone)
          session.setTimes({
            ...(gatherAt !== undefined ? { gatherAt } : {}),
            ...(goAt !== undefined ? { goAt } : {}),
            ...(endsAt !== undefined ? { endsAt } : {}),
            timeZone: value.zone,
          })
          draft.clear()
        }}
      >
        {t('setTimes')}
      </button>
    </>
  )
}

/** The two steps nobody can take back ask once more, below the row a hurried thumb is on. */
type Grave = 'go' | 'call-off'

export function Plan({ session, origin, enterCampaign, back }: PlanProps) {
  const plan = session.plan!
  const live = useLive(
    () => ({
      plan: plan.read(),
      brief: session.brief.read(),
      invites: session.invites(),
      checkins: session.checkinList(),
      stages: session.stages(),
      location: session.location(),
      coreSize: session.coreSize(),
      members: session.coreMembers(),
      armed: session.armed(),
      remote: session.remoteBrief(),
    }),
    (cb) => session.onChange(cb),
  )
  const { location } = live
  const [message, setMessage] = useState('')
  const [qr, setQr] = useState<string | undefined>()
  const [confirming, setConfirming] = useState<Grave | undefined>()
  const cancelGrave = useRef<HTMLButtonElement>(null)
  // Focus moves into the question once, as it opens (not on every remote edit while it is open).
  useEffect(() => cancelGrave.current?.focus({ preventScroll: true }), [confirming])
  // Another core phone held, delayed or went meanwhile: the question asked is no longer the one on screen.
  useEffect(() => setConfirming(undefined), [live.brief.state, live.brief.goAt])
  const released = live.stages.some((s) => s.content !== undefined)
  const over = released || live.brief.state === 'called-off'
  const setCoordinate = (which: 'stagingLat' | 'stagingLon', value: string): boolean => {
    const n = coordinateOf(value)
    if (n === null) return false
    session.setBriefNumber(which, n)
    return true
  }

  return (
    <div class="stack">
      <Status session={session} />
      {session.removed() && <p role="alert">{t('youWereRemoved')}</p>}
      <section class="stack" aria-labelledby="core-only">
        <h2 id="core-only">{t('coreOnly')}</h2>
        <label>
          {t('planTitle')}
          <SharedText value={live.plan.title} onText={(v) => plan.set('title', v)} />
        </label>
        <label>
          {t('planNotes')}
          <SharedText rows={6} value={live.plan.notes} onText={(v) => plan.set('notes', v)} />
        </label>
        <label>
          {t('planMarshals')}
          <SharedText rows={3} value={live.plan.marshals} onText={(v) => plan.set('marshals', v)} />
        </label>
      </section>

      <section class="stack" aria-labelledby="location">
        <h2 id="location">{t('locationSection')}</h2>
        <LocationFields session={session} location={location} />
      </section>

      <section class="stack" aria-labelledby="brief">
        <h2 id="brief">{t('briefSection')}</h2>
        {BRIEF_FIELDS.map((field) => (
          <SavedText
            key={field}
            label={field}
            remote={live.brief[field]}
            save={(v) => {
              session.setBrief(field, v)
              session.briefDoc.flush()
            }}
          />
        ))}
        <div class="row">
          <div class="stack">
            <SavedText label="stagingLat" inputMode="decimal" remote={coordinate(live.brief.stagingLat)} save={(v) => setCoordinate('stagingLat', v)} />
          </div>
          <div class="stack">
            <SavedText label="stagingLon" inputMode="decimal" remote={coordinate(live.brief.stagingLon)} save={(v) => setCoordinate('stagingLon', v)} />
          </div>
        </div>
        <TimeFields session={session} brief={live.brief} />
        <label>
          {t('wipeAfter')}
          <select value={String(live.brief.wipeAfterMs / 3600_000)} onChange={(e) => session.setTimes({ wipeAfterMs: Number(e.currentTarget.value) * 3600_000 })}>
            {[1, 6, 24, 72].map((h) => (
              <option key={h} value={String(h)}>
                {h % 24 === 0 && h > 24 ? t('days', { n: h / 24 }) : t('hours', { n: h })}
              </option>
            ))}
          </select>
        </label>
        <p class="muted">{t('wipedAt', { when: showTime(session.wipeAt()) })}</p>
        <label class="check">
          <input type="checkbox" checked={live.brief.relayOnly} onChange={(e) => session.setActionRelayOnly(e.currentTarget.checked)} />
          {t('actionRelayOnly')}
        </label>
        <label>
          {t('announcement')}
          <input value={message} onInput={(e) => setMessage(e.currentTarget.value)} />
        </label>
        <button
          type="button"
          disabled={!message}
          onClick={() => {
            session.announce(message)
            setMessage('')
          }}
        >
          {t('announce')}
        </button>
      </section>

      {live.remote && (
        <section class="stack" aria-labelledby="remote">
          <h2 id="remote">{t('remoteSection')}</h2>
          <SavedText label="remoteTask" rows={4} remote={live.remote.remoteTask} save={(v) => session.setRemoteTask(v)} />
        </section>
      )}

      <section class="stack" aria-labelledby="go">
        <h2 id="go">{t('goSection')}</h2>
        <p role="status" data-go-state={released ? 'released' : live.brief.state}>
          {t('goStatus', { state: released ? t('released') : t(`goState.${live.brief.state}`), time: showTime(live.brief.goAt) })}
        </p>
        <ClockNote session={session} />
        <p data-opens-by>{opensBy(live.armed)}</p>
        <div class="row">
          <button type="button" onClick={() => setConfirming('go')} disabled={over} aria-expanded={confirming === 'go'}>
            {t('goNow')}
          </button>
          {live.brief.state === 'held' ? (
            <button type="button" class="secondary" onClick={() => session.resume()}>
              {t('resume')}
            </button>
          ) : (
            <button type="button" class="secondary" onClick={() => session.hold()} disabled={over}>
              {t('hold')}
            </button>
          )}
          <button type="button" class="secondary" onClick={() => session.delay(5)} disabled={released || live.brief.goAt === undefined}>
            {t('delay5')}
          </button>
          <button type="button" class="secondary" onClick={() => setConfirming('call-off')} disabled={over} aria-expanded={confirming === 'call-off'}>
            {t('callOff')}
          </button>
        </div>
        {confirming && !over && (
          <div class="confirm stack" role="alertdialog" aria-labelledby="confirm-grave" data-confirm={confirming}>
            <p id="confirm-grave">{confirming === 'go' ? t('goNowConfirm') : t('callOffConfirm')}</p>
            <div class="row">
              <button
                type="button"
                class="danger"
                onClick={() => {
                  setConfirming(undefined)
                  if (confirming === 'go') session.goNow()
                  else session.callOff()
                }}
              >
                {confirming === 'go' ? t('goNowYes') : t('callOffYes')}
              </button>
              <button type="button" class="secondary" ref={cancelGrave} onClick={() => setConfirming(undefined)}>
                {t('cancel')}
              </button>
            </div>
          </div>
        )}
        {location && live.brief.state !== 'called-off' && (
          <button type="button" class="secondary" onClick={() => setQr(session.releaseCodeFor(location.id))}>
            {t('showReleaseQr')}
          </button>
        )}
        {qr && (
          <div data-release-code={qr}>
            <QrCode text={qr} label={t('releaseQrLabel')} />
          </div>
        )}
      </section>

      <WithoutUs session={session} />

      <Campaign session={session} origin={origin} enter={enterCampaign} />

      <Invites session={session} origin={origin} invites={live.invites} members={live.members} coreSize={live.coreSize} remote={live.remote !== undefined} />

      <section class="stack" aria-labelledby="checkins">
        <h2 id="checkins">{t('checkinsSection')}</h2>
        <p role="status" data-checkins={live.checkins.length}>
          {t('checkinCount', { n: live.checkins.length })}
        </p>
        <ul class="list">
          {live.checkins.map((c) => (
            <li key={`${c.label}${c.at}`}>
              {c.label || '—'} · {clockTime(c.at)}
            </li>
          ))}
        </ul>
        <label class="check">
          <input type="checkbox" checked={live.brief.showCheckins} onChange={(e) => session.setShowCheckins(e.currentTarget.checked)} />
          {t('showCount')}
        </label>
      </section>

      <button type="button" class="secondary" onClick={back}>
        {t('back')}
      </button>
    </div>
  )
}
