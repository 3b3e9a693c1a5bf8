// The campaign on the core's screen: start one with this action, or join one with a campaign
// invite; then its name and shared script, its cells with the go time on each one's own clock, the
// campaign-wide go controls, invites for other cells, and the coordinators' messages. Campaign
// orders time every cell; nothing here reaches into another cell's plan, people or location.
import { useEffect, useRef, useState } from 'preact/hooks'
import type { ActionSession, CampaignGo, CampaignMessage, CampaignView, JoinAttempt, JoinStep } from '../../model'
import { errorText } from '../errors'
import { clockTime, t, wallTime, type MessageId } from '../i18n'
import { QrCode } from '../qr/QrCode'
import { useDraft } from './draft'
import { useLive } from './live'
import { SavedText, Stale } from './SavedText'
import { SharedText } from './SharedText'
import { fromZonedInput, toZonedInput } from './time'
import { TwoStep } from './TwoStep'

/** What only the phone can do for a campaign: each opens the action anew, with its campaign seat. */
export interface EnterCampaign {
  /** A new campaign, with this action as its first cell. */
  readonly start: (name: string, cellName: string) => Promise<void>
  /** Joins this action to a campaign with a campaign invite (throws InviteLinkError for a bad link). */
  readonly join: (link: string, cellName: string) => JoinAttempt
}

export interface CampaignProps {
  readonly session: ActionSession
  readonly origin: string
  readonly enter: EnterCampaign
}

const STATE_TEXT = {
  unset: 'campaignState.unset',
  scheduled: 'campaignState.scheduled',
  held: 'campaignState.held',
  went: 'campaignState.went',
} as const satisfies Record<CampaignGo, MessageId>

const JOIN_STEP_TEXT = {
  connecting: 'campaignJoinStep.connecting',
  asking: 'campaignJoinStep.asking',
  unanswered: 'campaignJoinStep.unanswered',
  admitted: 'campaignJoinStep.admitted',
} as const satisfies Record<JoinStep, MessageId>

/** Runs a coordinator's step; a refusal (this cell is out of the campaign meanwhile) is said, not thrown. */
type Act = (step: () => void) => void

export function Campaign({ session, origin, enter }: CampaignProps) {
  // The cell's own zone is the brief's: the one other cells see for it, and the one times are typed in.
  const live = useLive(() => ({ view: session.campaign(), zone: session.brief.read().timeZone }), (cb) => session.onChange(cb))
  const { view, zone } = live
  return (
    <section class="stack" aria-labelledby="campaign">
      <h2 id="campaign">{t('campaignSection')}</h2>
      {view === undefined ? (
        <Enter enter={enter} />
      ) : view.removed ? (
        <p role="status" class="notice" data-campaign-removed>
          {t('campaignRemoved')}
        </p>
      ) : (
        <InCampaign session={session} view={view} zone={zone} origin={origin} />
      )}
    </section>
  )
}

/** Not in a campaign: start one, or join one with a campaign invite. */
function Enter({ enter }: { enter: EnterCampaign }) {
  const [cellName, setCellName] = useState('')
  const [name, setName] = useState('')
  const [link, setLink] = useState('')
  const [busy, setBusy] = useState(false)
  const [status, setStatus] = useState<{ readonly step: JoinStep } | { readonly error: string } | undefined>()
  const attempt = useRef<JoinAttempt | undefined>(undefined)
  // Leaving the screen stops a join still asking (once admitted, the action opens anew anyway).
  useEffect(() => () => attempt.current?.cancel(), [])
  const refused = (e: unknown): void => {
    attempt.current = undefined
    setBusy(false)
    setStatus({ error: errorText(e) })
  }

  const start = (): void => {
    setBusy(true)
    setStatus(undefined)
    enter.start(name.trim(), cellName.trim()).then(() => setBusy(false), refused)
  }
  const join = (): void => {
    let a: JoinAttempt
    try {
      a = enter.join(link.trim(), cellName.trim())
    } catch (e) {
      return refused(e)
    }
    attempt.current = a
    setBusy(true)
    setStatus(undefined)
    a.on('progress', (step) => setStatus({ step }))
    a.done.then(() => {
      attempt.current = undefined
      setBusy(false)
    }, refused)
  }

  return (
    <>
      <p class="muted">{t('campaignIntro')}</p>
      <label>
        {t('cellName')}
        <input value={cellName} onInput={(e) => setCellName(e.currentTarget.value)} autocomplete="off" />
      </label>
      <label>
        {t('campaignName')}
        <input value={name} onInput={(e) => setName(e.currentTarget.value)} autocomplete="off" />
      </label>
      <button type="button" onClick={start} disabled={busy || name.trim() === ''}>
        {t('startCampaign')}
      </button>
      <label>
        {t('campaignJoinLink')}
        <input value={link} onInput={(e) => setLink(e.currentTarget.value)} autocomplete="off" />
      </label>
      <button type="button" class="secondary" onClick={join} disabled={busy || link.trim() === ''}>
        {t('joinCampaign')}
      </button>
      {status &&
        ('error' in status ? (
          <p role="alert" class="error" data-campaign-join="refused">
            {status.error}
          </p>
        ) : (
          <p role="status" class="notice" data-campaign-join={status.step}>
            {t(JOIN_STEP_TEXT[status.step])}
          </p>
        ))}
    </>
  )
}

interface InCampaignProps {
  readonly session: ActionSession
  readonly view: CampaignView & { readonly ignoresHold: boolean; readonly cellName: string }
  /** This cell's time zone. */
  readonly zone: string
  readonly origin: string
}

function InCampaign({ session, view, zone, origin }: InCampaignProps) {
  const [error, setError] = useState<string | undefined>()
  const act: Act = (step) => {
    try {
      step()
      setError(undefined)
    } catch (e) {
      setError(errorText(e))
    }
  }
  return (
    <>
      <h3 dir="auto">{view.name || '—'}</h3>
      {error && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
      <SavedText label="campaignName" remote={view.name} save={(v) => act(() => session.setCampaign('name', v))} />
      <SavedText label="campaignScript" rows={4} remote={view.script} save={(v) => act(() => session.setCampaign('script', v))} />
      <SavedText label="cellName" remote={view.cellName} save={(v) => act(() => session.setCellName(v))} />
      <GoControls session={session} view={view} zone={zone} act={act} />
      <Cells session={session} view={view} zone={zone} act={act} />
      <CellInvite session={session} origin={origin} act={act} />
      <Messages session={session} messages={view.messages} act={act} />
      <TwoStep ask={t('leaveCampaign')} confirm={t('leaveCampaignConfirm')} act={() => act(() => session.leaveCampaign())} />
    </>
  )
}

/** The campaign's state and the orders every cell follows: the go time (typed on this cell's clock), hold, delay, go now. */
function GoControls({ session, view, zone, act }: { session: ActionSession; view: InCampaignProps['view']; zone: string; act: Act }) {
  const { timing } = view
  const draft = useDraft(toZonedInput(timing.goAt, zone))
  const goAt = fromZonedInput(draft.value, zone)
  const [confirming, setConfirming] = useState(false)
  const cancel = useRef<HTMLButtonElement>(null)
  useEffect(() => cancel.current?.focus({ preventScroll: true }), [confirming])
  // Another coordinator ordered meanwhile: the question asked is no longer the one on screen.
  useEffect(() => setConfirming(false), [timing.state, timing.goAt])
  const went = timing.state === 'went'
  return (
    <>
      <p role="status" data-campaign-state={timing.state}>
        {t(STATE_TEXT[timing.state])}
      </p>
      {view.orderedBy !== undefined && <p class="muted">{t('orderedBy', { name: view.orderedBy || '—' })}</p>}
      <label>
        {t('campaignGoAt')}
        <SharedText type="datetime-local" value={draft.value} onText={draft.edit} />
      </label>
      <Stale stale={draft.stale} discard={draft.clear} />
      <button
        type="button"
        disabled={goAt === undefined || went}
        onClick={() => {
          if (goAt === undefined) return
          act(() => session.campaignOrder('schedule', goAt))
          draft.clear()
        }}
      >
        {t('campaignSchedule')}
      </button>
      <div class="row">
        <button type="button" onClick={() => setConfirming(true)} disabled={went} aria-expanded={confirming}>
          {t('campaignGoNow')}
        </button>
        {timing.state === 'held' ? (
          <button type="button" class="secondary" onClick={() => act(() => session.campaignOrder('resume'))}>
            {t('campaignResume')}
          </button>
        ) : (
          <button type="button" class="secondary" onClick={() => act(() => session.campaignOrder('hold'))} disabled={timing.state !== 'scheduled'}>
            {t('campaignHold')}
          </button>
        )}
        <button type="button" class="secondary" onClick={() => act(() => session.campaignDelay(15))} disabled={went || timing.goAt === undefined}>
          {t('campaignDelay')}
        </button>
      </div>
      {confirming && !went && (
        <div class="confirm stack" role="alertdialog" aria-labelledby="campaign-go-confirm" data-confirm="campaign-go">
          <p id="campaign-go-confirm">{t('campaignGoNowConfirm')}</p>
          <div class="row">
            <button
              type="button"
              class="danger"
              onClick={() => {
                setConfirming(false)
                act(() => session.campaignOrder('go'))
              }}
            >
              {t('campaignGoNowYes')}
            </button>
            <button type="button" class="secondary" ref={cancel} onClick={() => setConfirming(false)}>
              {t('cancel')}
            </button>
          </div>
        </div>
      )}
      <label class="check">
        <input type="checkbox" checked={view.ignoresHold} onChange={(e) => act(() => session.setIgnoreCampaignHold(e.currentTarget.checked))} />
        {t('campaignIgnoreHold')}
      </label>
    </>
  )
}

/** The go instant on `zone`'s clock, with the day when that clock is on another day than `here`'s. */
const cellTime = (at: number, zone: string, here: string): string => wallTime(at, zone, toZonedInput(at, zone).slice(0, 10) !== toZonedInput(at, here).slice(0, 10))

/** Every cell, with the campaign's go time on its own clock; another cell can be removed. */
function Cells({ session, view, zone, act }: { session: ActionSession; view: CampaignView; zone: string; act: Act }) {
  const { goAt } = view.timing
  return (
    <ul class="list stack" aria-label={t('campaignCells')}>
      {view.cells.map((c) => {
        const name = c.name || '—'
        return (
          <li key={c.cell} data-cell-zone={c.timeZone}>
            {t('campaignCell', { name, time: goAt === undefined ? t('campaignNoGoAt') : cellTime(goAt, c.timeZone, zone), zone: c.timeZone })}
            {c.mine ? (
              <> {t('thisCell')}</>
            ) : (
              <>
                {' '}
                <TwoStep ask={t('removeCell', { name })} confirm={t('removeCellConfirm', { name })} act={() => act(() => session.removeCell(c.cell))} />
              </>
            )}
          </li>
        )
      })}
    </ul>
  )
}

/** A one-time link for another cell's core to join the campaign with. */
function CellInvite({ session, origin, act }: { session: ActionSession; origin: string; act: Act }) {
  const [label, setLabel] = useState('')
  const [link, setLink] = useState<string | undefined>()
  return (
    <>
      <label>
        {t('campaignInviteLabel')}
        <input value={label} onInput={(e) => setLabel(e.currentTarget.value)} autocomplete="off" />
      </label>
      <button type="button" class="secondary" onClick={() => act(() => setLink(session.campaignInvite(label, origin)))}>
        {t('campaignInvite')}
      </button>
      {link && (
        <>
          <label>
            {t('campaignInviteLink')}
            <input readOnly value={link} onFocus={(e) => e.currentTarget.select()} />
          </label>
          <QrCode text={link} label={t('campaignInviteLink')} />
        </>
      )}
    </>
  )
}

/** What the coordinators say to each other (each cell named as it chose). */
function Messages({ session, messages, act }: { session: ActionSession; messages: readonly CampaignMessage[]; act: Act }) {
  const [text, setText] = useState('')
  return (
    <section class="stack" aria-labelledby="campaign-messages">
      <h3 id="campaign-messages">{t('campaignMessages')}</h3>
      {messages.length > 0 && (
        <ul class="list">
          {messages.map((m, i) => (
            <li key={`${i}:${m.at}`} data-campaign-message>
              <bdi>{m.cellName || '—'}</bdi> · {clockTime(m.at)}: <bdi>{m.text}</bdi>
            </li>
          ))}
        </ul>
      )}
      <label>
        {t('campaignMessage')}
        <textarea rows={3} value={text} onInput={(e) => setText(e.currentTarget.value)} />
      </label>
      <button
        type="button"
        disabled={text.trim() === ''}
        onClick={() =>
          act(() => {
            session.campaignMessage(text)
            setText('')
          })
        }
      >
        {t('campaignSend')}
      </button>
    </section>
  )
}
