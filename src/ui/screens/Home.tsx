// The actions on this phone, a new one, and joining one with an invite link.
import { useState } from 'preact/hooks'
import type { ActionId, ActionSummary } from '../../model'
import { strings } from '../strings'

export interface HomeProps {
  readonly actions: readonly ActionSummary[]
  readonly joinStatus: string | undefined
  readonly open: (id: ActionId) => void
  readonly create: (title: string) => void
  readonly join: (link: string) => void
  readonly settings: () => void
  readonly lock: () => void
}

export function Home({ actions, joinStatus, open, create, join, settings, lock }: HomeProps) {
  const [title, setTitle] = useState('')
  const [link, setLink] = useState('')
  return (
    <div class="stack">
      <h2>{strings.actionsTitle}</h2>
      {actions.length === 0 ? (
        <p>{strings.noActions}</p>
      ) : (
        <ul class="list">
          {actions.map((a) => (
            <li key={a.id}>
              <button type="button" class="link" onClick={() => open(a.id)}>
                {a.title || strings.untitled} <span class="muted">({strings.role(a.role === 'core')})</span>
              </button>
            </li>
          ))}
        </ul>
      )}
      <form
        class="stack"
        onSubmit={(e) => {
          e.preventDefault()
          create(title)
          setTitle('')
        }}
      >
        <label>
          {strings.newActionTitle}
          <input value={title} onInput={(e) => setTitle(e.currentTarget.value)} required />
        </label>
        <button type="submit">{strings.createAction}</button>
      </form>
      <form
        class="stack"
        onSubmit={(e) => {
          e.preventDefault()
          join(link)
        }}
      >
        <label>
          {strings.joinLink}
          <input value={link} onInput={(e) => setLink(e.currentTarget.value)} required autocomplete="off" />
        </label>
        <button type="submit">{strings.join}</button>
      </form>
      {joinStatus && (
        <p role="status" class="notice">
          {joinStatus}
        </p>
      )}
      <div class="row">
        <button type="button" class="secondary" onClick={settings}>
          {strings.settings}
        </button>
        <button type="button" class="secondary" onClick={lock}>
          {strings.lock}
        </button>
      </div>
    </div>
  )
}
