// The core's screen: the plan (core only), the sealed location, what participants see,
// the go controls, invites and check-ins.
import { useState } from 'preact/hooks'
import type { ActionSession, BriefField } from '../../model'
import { QrCode } from '../qr/QrCode'
import { strings } from '../strings'
import { useLive } from './live'
import { SharedText } from './SharedText'
import { Status } from './Status'
import { allZones, fromZonedInput, showTime, toZonedInput, zoneName } from './time'

/** Says why this phone's own clock does not decide go time, when it does not. */
function ClockNote({ session }: { session: ActionSession }) {
  const note = useLive(() => session.clockNote(), (cb) => session.onChange(cb), 5_000)
  if (!note) return null
  const text = note.kind === 'holding' ? strings.clockHolding : note.byMs > 0 ? strings.clockAhead(strings.duration(note.byMs)) : strings.clockBehind(strings.duration(-note.byMs))
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

const BRIEF_LABELS: Record<BriefField, string> = {
  stagingPoint: strings.stagingPoint,
  bring: strings.bring,
  conduct: strings.conduct,
  dispersal: strings.dispersal,
}

export function Plan({ session, origin, back }: PlanProps) {
  const plan = session.plan!
  const live = useLive(
    () => ({
      plan: plan.read(),
      brief: session.brief.read(),
      invites: session.invites(),
      checkins: session.checkinList(),
      stages: session.stages(),
      core: plan.stages(),
      coreSize: session.coreSize(),
      members: session.coreMembers(),
    }),
    (cb) => session.onChange(cb),
  )
  const location = live.core[0]
  const [where, setWhere] = useState(location?.content.text ?? '')
  const [lat, setLat] = useState(location?.content.lat?.toString() ?? '')
  const [lon, setLon] = useState(location?.content.lon?.toString() ?? '')
  const [zone, setZone] = useState(live.brief.timeZone !== 'UTC' || live.brief.goAt !== undefined ? live.brief.timeZone : zoneName())
  const [gather, setGather] = useState(toZonedInput(live.brief.gatherAt, zone))
  const [go, setGo] = useState(toZonedInput(live.brief.goAt, zone))
  const [ends, setEnds] = useState(toZonedInput(live.brief.endsAt, zone))
  const [message, setMessage] = useState('')
  const [label, setLabel] = useState('')
  const [link, setLink] = useState<string | undefined>()
  const [qr, setQr] = useState<string | undefined>()
  const [removing, setRemoving] = useState<string | undefined>()
  const released = live.stages.some((s) => s.content !== undefined)
  const setCoordinate = (which: 'stagingLat' | 'stagingLon', value: string): void => {
    const n = Number.parseFloat(value)
    session.setBriefNumber(which, Number.isFinite(n) ? n : undefined)
  }

  return (
    <div class="stack">
      <Status session={session} />
      {session.removed() && <p role="alert">{strings.youWereRemoved}</p>}
      <section class="stack" aria-labelledby="core-only">
        <h2 id="core-only">{strings.coreOnly}</h2>
        <label>
          {strings.planTitle}
          <SharedText value={live.plan.title} onText={(v) => plan.set('title', v)} />
        </label>
        <label>
          {strings.planNotes}
          <SharedText rows={6} value={live.plan.notes} onText={(v) => plan.set('notes', v)} />
        </label>
        <label>
          {strings.planMarshals}
          <SharedText rows={3} value={live.plan.marshals} onText={(v) => plan.set('marshals', v)} />
        </label>
      </section>

      <section class="stack" aria-labelledby="location">
        <h2 id="location">{strings.locationSection}</h2>
        <label>
          {strings.location}
          <textarea rows={3} value={where} onInput={(e) => setWhere(e.currentTarget.value)} />
        </label>
        <div class="row">
          <label>
            {strings.latitude}
            <input inputMode="decimal" value={lat} onInput={(e) => setLat(e.currentTarget.value)} />
          </label>
          <label>
            {strings.longitude}
            <input inputMode="decimal" value={lon} onInput={(e) => setLon(e.currentTarget.value)} />
          </label>
        </div>
        <button
          type="button"
          onClick={() => {
            const la = Number.parseFloat(lat)
            const lo = Number.parseFloat(lon)
            session.setStage({ text: where, ...(Number.isFinite(la) && Number.isFinite(lo) ? { lat: la, lon: lo } : {}) })
          }}
        >
          {strings.saveLocation}
        </button>
        {location && location.content.text && <p class="muted">{strings.locationSealed}</p>}
      </section>

      <section class="stack" aria-labelledby="brief">
        <h2 id="brief">{strings.briefSection}</h2>
        {(Object.keys(BRIEF_LABELS) as BriefField[]).map((field) => (
          <label key={field}>
            {BRIEF_LABELS[field]}
            <input
              value={live.brief[field]}
              onChange={(e) => {
                session.setBrief(field, e.currentTarget.value)
                session.briefDoc.flush()
              }}
            />
          </label>
        ))}
        <div class="row">
          <label>
            {strings.stagingLat}
            <input inputMode="decimal" value={live.brief.stagingLat ?? ''} onChange={(e) => setCoordinate('stagingLat', e.currentTarget.value)} />
          </label>
          <label>
            {strings.stagingLon}
            <input inputMode="decimal" value={live.brief.stagingLon ?? ''} onChange={(e) => setCoordinate('stagingLon', e.currentTarget.value)} />
          </label>
        </div>
        <label>
          {strings.timeZone}
          <select value={zone} onChange={(e) => setZone(e.currentTarget.value)}>
            {allZones().map((z) => (
              <option key={z} value={z}>
                {z}
              </option>
            ))}
          </select>
        </label>
        <label>
          {strings.gatherAt}
          <input type="datetime-local" value={gather} onInput={(e) => setGather(e.currentTarget.value)} />
        </label>
        <label>
          {strings.goAt}
          <input type="datetime-local" value={go} onInput={(e) => setGo(e.currentTarget.value)} />
        </label>
        <label>
          {strings.endsAt}
          <input type="datetime-local" value={ends} onInput={(e) => setEnds(e.currentTarget.value)} />
        </label>
        <label>
          {strings.wipeAfter}
          <select value={String(live.brief.wipeAfterMs / 3600_000)} onChange={(e) => session.setTimes({ wipeAfterMs: Number(e.currentTarget.value) * 3600_000 })}>
            {[1, 6, 24, 72].map((h) => (
              <option key={h} value={String(h)}>
                {strings.hours(h)}
              </option>
            ))}
          </select>
        </label>
        <p class="muted">{strings.wipedAt(showTime(session.wipeAt()))}</p>
        <button
          type="button"
          onClick={() => {
            const gatherAt = fromZonedInput(gather, zone)
            const goAt = fromZonedInput(go, zone)
            const endsAt = fromZonedInput(ends, zone)
            session.setTimes({
              ...(gatherAt !== undefined ? { gatherAt } : {}),
              ...(goAt !== undefined ? { goAt } : {}),
              ...(endsAt !== undefined ? { endsAt } : {}),
              timeZone: zone,
            })
          }}
        >
          {strings.setTimes}
        </button>
        <label class="check">
          <input type="checkbox" checked={live.brief.relayOnly} onChange={(e) => session.setActionRelayOnly(e.currentTarget.checked)} />
          {strings.actionRelayOnly}
        </label>
        <label>
          {strings.announcement}
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
          {strings.announce}
        </button>
      </section>

      <section class="stack" aria-labelledby="go">
        <h2 id="go">{strings.goSection}</h2>
        <p role="status" data-go-state={released ? 'released' : live.brief.state}>
          {released ? strings.released : strings.goState[live.brief.state]} · {strings.goAt}: {showTime(live.brief.goAt)}
        </p>
        <ClockNote session={session} />
        <div class="row">
          <button type="button" onClick={() => session.goNow()} disabled={released || live.brief.state === 'called-off'}>
            {strings.goNow}
          </button>
          {live.brief.state === 'held' ? (
            <button type="button" class="secondary" onClick={() => session.resume()}>
              {strings.resume}
            </button>
          ) : (
            <button type="button" class="secondary" onClick={() => session.hold()} disabled={released || live.brief.state === 'called-off'}>
              {strings.hold}
            </button>
          )}
          <button type="button" class="secondary" onClick={() => session.delay(5)} disabled={released || live.brief.goAt === undefined}>
            {strings.delay5}
          </button>
          <button type="button" class="secondary" onClick={() => session.callOff(strings.callOffMessage)} disabled={released || live.brief.state === 'called-off'}>
            {strings.callOff}
          </button>
        </div>
        {location && live.brief.state !== 'called-off' && (
          <button type="button" class="secondary" onClick={() => setQr(session.releaseCodeFor(location.id))}>
            {strings.showReleaseQr}
          </button>
        )}
        {qr && (
          <div data-release-code={qr}>
            <QrCode text={qr} label={strings.releaseQrLabel} />
          </div>
        )}
      </section>

      <section class="stack" aria-labelledby="invites">
        <h2 id="invites">{strings.invitesSection}</h2>
        <p data-core-size={live.coreSize}>{strings.coreMembers(live.coreSize)}</p>
        <ul class="list">
          {live.members.map((m) => {
            const name = m.me ? strings.thisPhone : m.label || strings.firstMember
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
                      {strings.removeConfirm(name)}
                    </button>
                  ) : (
                    <button type="button" class="secondary" onClick={() => setRemoving(m.id)}>
                      {strings.remove(name)}
                    </button>
                  ))}
              </li>
            )
          })}
        </ul>
        <label>
          {strings.inviteLabel}
          <input value={label} onInput={(e) => setLabel(e.currentTarget.value)} />
        </label>
        <div class="row">
          <button type="button" onClick={() => setLink(session.invite('participant', label, origin))}>
            {strings.inviteParticipant}
          </button>
          <button type="button" class="secondary" onClick={() => setLink(session.invite('core', label, origin))}>
            {strings.inviteCore}
          </button>
        </div>
        {link && (
          <>
            <label>
              {strings.inviteLinkLabel}
              <input readOnly value={link} onFocus={(e) => e.currentTarget.select()} />
            </label>
            <QrCode text={link} label={strings.inviteLinkLabel} />
          </>
        )}
        {live.invites.length > 0 && (
          <ul class="list">
            {live.invites.map((i) => (
              <li key={i.id} data-state={i.state}>
                {i.label || strings.role(i.tier === 'core')} ({strings.role(i.tier === 'core')}): {strings.inviteState[i.state]}{' '}
                {i.state === 'open' && i.replaces && (
                  <>
                    <span class="note" data-replaces>
                      {strings.replacesNote}
                    </span>{' '}
                    <button type="button" onClick={() => setLink(session.inviteLink(i.id, origin))}>
                      {strings.showNewLink(i.label || strings.role(i.tier === 'core'))}
                    </button>{' '}
                  </>
                )}
                {i.state === 'open' && (
                  <button type="button" class="secondary" onClick={() => session.revoke(i.id)}>
                    {strings.revoke(i.label || strings.role(i.tier === 'core'))}
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
                      {strings.removeConfirm(i.label || strings.role(false))}
                    </button>
                  ) : (
                    <button type="button" class="secondary" onClick={() => setRemoving(i.id)}>
                      {strings.remove(i.label || strings.role(false))}
                    </button>
                  ))}
              </li>
            ))}
          </ul>
        )}
      </section>

      <section class="stack" aria-labelledby="checkins">
        <h2 id="checkins">{strings.checkinsSection}</h2>
        <p role="status" data-checkins={live.checkins.length}>
          {strings.checkinCount(live.checkins.length)}
        </p>
        <ul class="list">
          {live.checkins.map((c) => (
            <li key={`${c.label}${c.at}`}>
              {c.label || '—'} · {new Date(c.at).toLocaleTimeString()}
            </li>
          ))}
        </ul>
        <label class="check">
          <input type="checkbox" checked={live.brief.showCheckins} onChange={(e) => session.setShowCheckins(e.currentTarget.checked)} />
          {strings.showCount}
        </label>
      </section>

      <button type="button" class="secondary" onClick={back}>
        {strings.back}
      </button>
    </div>
  )
}
