// In-app notice that a new version is waiting, with a button to switch to it. Not a browser dialog:
// a polite live region that stays until the user acts, never steals focus.
import { useEffect, useState } from 'preact/hooks'
import { strings } from './strings'

/** Where the prompt learns of a waiting update and how it applies one (see main.tsx). */
export interface UpdateSource {
  /** Calls back once a new version is waiting; returns an unsubscribe function. */
  onWaiting(callback: () => void): () => void
  /** Activates the waiting version, then reloads the page. */
  apply(): void
}

export function UpdatePrompt({ updates }: { updates: UpdateSource }) {
  const [waiting, setWaiting] = useState(false)
  const [applying, setApplying] = useState(false)
  useEffect(() => updates.onWaiting(() => setWaiting(true)), [updates])

  return (
    <div class="update" role="status" aria-live="polite">
      {waiting && (
        <div class="update-box">
          <span>{strings.updateReady}</span>
          <button
            type="button"
            disabled={applying}
            onClick={() => {
              setApplying(true)
              updates.apply()
            }}
          >
            {applying ? strings.updateReloading : strings.updateReload}
          </button>
        </div>
      )}
    </div>
  )
}
