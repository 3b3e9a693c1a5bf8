// The core's screen: the plan (core only), the sealed location, what participants see,
// the go controls, invites and check-ins. Every field follows the document live: one that
// saves on a deliberate step keeps the person's edit (and says so if another phone saved meanwhile).
import { useEffect, useRef, useState } from 'preact/hooks'
import type { ActionSession, BriefField, CoreStage } from '../../model'
import { QrCode } from '../qr/QrCode'
import { clockTime, duration, t, type MessageId } from '../i18n'
import { useDraft } from './draft'
import { useLive } from './live'
import { SharedText } from './SharedText'
import { Status } from './Status'
import { opensBy, WithoutUs } from './WithoutUs'
import { coordinateOf } from './coordinates'
import { allZones, fromZonedInput, showTime, toZonedInput, zoneName } from './time'

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
  readonly back: () => void
}

const BRIEF_FIELDS: readonly BriefField[] = ['stagingPoint', 'bring', 'conduct', 'dispersal']

/** Shown when another phone saved while this person was editing: saving replaces theirs; or drop the edit. */
const Stale = ({ stale, discard }: { stale: boolean; discard: () => void }) =>
  stale ? (
    <div class="notice row" role="status" data-stale>
      <span>{t('changedElsewhere')}</span>
      <button type="button" class="secondary" onClick={discard}>
        {t('discardEdit')}
      </button>
    </div>
  ) : null

/** A brief field: follows the brief, saved when the person leaves it. */
function BriefText({ label, remote, save, inputMode }: { label: MessageId; remote: string; save: (value: string) => boolean | void; inputMode?: 'decimal' }) {
  const draft = useDraft(remote)
  const [refused, setRefused] = useState(false)
  return (
    <>
      <label>
        {t(label)}
        <SharedText
          value={draft.value}
          inputMode={inputMode}
          onText={(v) => {
            setRefused(false)
            draft.edit(v)
          }}
          onCommit={(v) => {
            // Not saved (not a number, say): the person's text stays, with why.
            if (save(v) === false) return setRefused(true)
            draft.clear()
          }}
        />
      </label>
      {refused && (
        <p role="alert" class="error">
          {t('notANumber')}
        </p>
      )}
      <Stale stale={draft.stale} discard={draft.clear} />
    </>
  )
}

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

export function Plan({ session, origin, back }: PlanProps) {
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
    }),
    (cb) => session.onChange(cb),
  )
  const { location } = live
  const [message, setMessage] = useState('')
  const [label, setLabel] = useState('')
  const [link, setLink] = useState<string | undefined>()
  const [qr, setQr] = useState<string | undefined>()
  const [removing, setRemoving] = useState<string | undefined>()
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
  const role = (core: boolean): string => t(core ? 'role.core' : 'role.participant')
  const inviteName = (i: { label: string; tier: string }): string => i.label || role(i.tier === 'core')
  let unnamed = 0

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
          <BriefText
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
            <BriefText label="stagingLat" inputMode="decimal" remote={coordinate(live.brief.stagingLat)} save={(v) => setCoordinate('stagingLat', v)} />
          </div>
          <div class="stack">
            <BriefText label="stagingLon" inputMode="decimal" remote={coordinate(live.brief.stagingLon)} save={(v) => setCoordinate('stagingLon', v)} />
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

      <section class="stack" aria-labelledby="invites">
        <h2 id="invites">{t('invitesSection')}</h2>
        <p data-core-size={live.coreSize}>{t('coreMembers', { n: live.coreSize })}</p>
        <ul class="list">
          {live.members.map((m) => {
            const name = m.me ? t('thisPhone') : m.label || (m.invited ? t('unnamedCore', { n: ++unnamed }) : t('founder'))
            return (
              <li key={m.id}>
                {name}{' '}
                {!m.me &&
                  (removing === m.id ? (
                    <button
                      type="button"
                      class="danger"
                      onClick={() => {
                        setRemoving(undefined)
                        void session.removeCoreMember(m.id)
                      }}
                    >
                      {t('removeConfirm', { name })}
                    </button>
                  ) : (
                    <button type="button" class="secondary" onClick={() => setRemoving(m.id)}>
                      {t('remove', { name })}
                    </button>
                  ))}
              </li>
            )
          })}
        </ul>
        <label>
          {t('inviteLabel')}
          <input value={label} onInput={(e) => setLabel(e.currentTarget.value)} />
        </label>
        <div class="row">
          <button type="button" onClick={() => setLink(session.invite('participant', label, origin))}>
            {t('inviteParticipant')}
          </button>
          <button type="button" class="secondary" onClick={() => setLink(session.invite('core', label, origin))}>
            {t('inviteCore')}
          </button>
        </div>
        {link && (
          <>
            <label>
              {t('inviteLinkLabel')}
              <input readOnly value={link} onFocus={(e) => e.currentTarget.select()} />
            </label>
            <QrCode text={link} label={t('inviteLinkLabel')} />
          </>
        )}
        {live.invites.length > 0 && (
          <ul class="list">
            {live.invites.map((i) => (
              <li key={i.id} data-state={i.state}>
                {t('inviteSummary', { name: inviteName(i), role: role(i.tier === 'core'), state: t(`inviteState.${i.state}`) })}{' '}
                {i.state === 'open' && i.replaces && (
                  <>
                    <span class="note" data-replaces>
                      {t('replacesNote')}
                    </span>{' '}
                    <button type="button" onClick={() => setLink(session.inviteLink(i.id, origin))}>
                      {t('showNewLink', { name: inviteName(i) })}
                    </button>{' '}
                  </>
                )}
                {i.state === 'open' && (
                  <button type="button" class="secondary" onClick={() => session.revoke(i.id)}>
                    {t('revoke', { name: inviteName(i) })}
                  </button>
                )}
                {i.state === 'used' &&
                  i.tier === 'participant' &&
                  (removing === i.id ? (
                    <button
                      type="button"
                      class="danger"
                      onClick={() => {
                        setRemoving(undefined)
                        void session.removeMember(i.id)
                      }}
                    >
                      {t('removeConfirm', { name: inviteName(i) })}
                    </button>
                  ) : (
                    <button type="button" class="secondary" onClick={() => setRemoving(i.id)}>
                      {t('remove', { name: inviteName(i) })}
                    </button>
                  ))}
              </li>
            ))}
          </ul>
        )}
      </section>

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
