// The core plan: title and notes, edited together; who is connected; invites.
import { useEffect, useState } from 'preact/hooks'
import type { ActionSession, InviteSummary, PlanText } from '../../model'
import { strings } from '../strings'

export interface PlanProps {
  readonly session: ActionSession
  readonly invite: () => string
  readonly back: () => void
}

function useLive<T>(read: () => T, subscribe: (cb: () => void) => () => void): T {
  const [value, setValue] = useState(read)
  useEffect(() => subscribe(() => setValue(read())), [])
  return value
}

export function Plan({ session, invite, back }: PlanProps) {
  const plan = session.plan!
  const text = useLive<PlanText>(() => plan.read(), (cb) => plan.onChange(cb))
  const invites = useLive<InviteSummary[]>(() => session.invites(), (cb) => plan.onChange(cb))
  const status = useLive(
    () => session.status(),
    (cb) => {
      const stop = session.onStatus(cb)
      const timer = setInterval(cb, 2000)
      return () => {
        stop()
        clearInterval(timer)
      }
    },
  )
  const [link, setLink] = useState<string | undefined>()

  return (
    <div class="stack">
      <p role="status" class={status.online ? 'online' : 'offline'} data-peers={status.peers}>
        {status.online ? strings.online(status.peers) : strings.offline}
      </p>
      {status.lastReceivedAt !== undefined && <p class="muted">{strings.lastReceived(new Date(status.lastReceivedAt).toLocaleTimeString())}</p>}
      <label>
        {strings.planTitle}
        <input value={text.title} onInput={(e) => plan.set('title', e.currentTarget.value)} />
      </label>
      <label>
        {strings.planNotes}
        <textarea rows={8} value={text.notes} onInput={(e) => plan.set('notes', e.currentTarget.value)} />
      </label>
      <button type="button" onClick={() => setLink(invite())}>
        {strings.inviteCore}
      </button>
      {link && (
        <label>
          {strings.inviteLinkLabel}
          <input readOnly value={link} onFocus={(e) => e.currentTarget.select()} />
        </label>
      )}
      {invites.length > 0 && (
        <section>
          <h3>{strings.invitesTitle}</h3>
          <ul class="list">
            {invites.map((i) => (
              <li key={i.id} data-state={i.state}>
                {strings.role(i.tier === 'core')}: {strings.inviteState[i.state]}
              </li>
            ))}
          </ul>
        </section>
      )}
      <button type="button" class="secondary" onClick={back}>
        {strings.back}
      </button>
    </div>
  )
}
