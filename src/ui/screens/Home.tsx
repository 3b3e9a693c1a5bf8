// The actions on this phone, a new one, and joining one with an invite link.
import { useState } from 'preact/hooks'
import type { ActionId, ActionSummary, JoinStep } from '../../model'
import { t } from '../i18n'
import { ROLE_WORDS } from './roles'

/** A join under way (what is really happening), or why it failed. */
export type JoinStatus = { readonly step: JoinStep } | { readonly error: string }

const STEP_TEXT = { connecting: 'joinConnecting', asking: 'joinAsking', unanswered: 'joinUnanswered', admitted: 'joinAdmitted' } as const

export interface HomeProps {
  readonly actions: readonly ActionSummary[]
  readonly joinStatus: JoinStatus | undefined
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
      {/* First on the screen: a link just opened (or pasted) lands here. */}
      {joinStatus &&
        ('error' in joinStatus ? (
          <p role="alert" class="error" data-join="refused">
            {joinStatus.error}
          </p>
        ) : (
          <p role="status" class="notice" data-join={joinStatus.step}>
            {t(STEP_TEXT[joinStatus.step])}
          </p>
        ))}
      <h2>{t('actionsTitle')}</h2>
      {actions.length === 0 ? (
        <p>{t('noActions')}</p>
      ) : (
        <ul class="list">
          {actions.map((a) => (
            <li key={a.id}>
              <button type="button" class="link" onClick={() => open(a.id)}>
                <bdi>{a.title || t('untitled')}</bdi> <span class="muted">({t(ROLE_WORDS[a.role])})</span>
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
          {t('newActionTitle')}
          <input value={title} onInput={(e) => setTitle(e.currentTarget.value)} required />
        </label>
        <button type="submit">{t('createAction')}</button>
      </form>
      <form
        class="stack"
        onSubmit={(e) => {
          e.preventDefault()
          join(link)
        }}
      >
        <label>
          {t('joinLink')}
          <input value={link} onInput={(e) => setLink(e.currentTarget.value)} required autocomplete="off" />
        </label>
        <button type="submit">{t('join')}</button>
      </form>
      <div class="row">
        <button type="button" class="secondary" onClick={settings}>
          {t('settings')}
        </button>
        <button type="button" class="secondary" onClick={lock}>
          {t('lock')}
        </button>
      </div>
    </div>
  )
}
