// A field saved on a deliberate step (leaving it), for values one phone replaces whole (a brief
// field, a campaign's name): it follows the document until the person edits it, keeps their
// edit while another phone saves, and says so.
import { useState } from 'preact/hooks'
import { t, type MessageId } from '../i18n'
import { useDraft } from './draft'
import { SharedText } from './SharedText'

/** Shown when another phone saved while this person was editing: saving replaces theirs; or drop the edit. */
export const Stale = ({ stale, discard }: { stale: boolean; discard: () => void }) =>
  stale ? (
    <div class="notice row" role="status" data-stale>
      <span>{t('changedElsewhere')}</span>
      <button type="button" class="secondary" onClick={discard}>
        {t('discardEdit')}
      </button>
    </div>
  ) : null

export interface SavedTextProps {
  readonly label: MessageId
  /** The document's value. */
  readonly remote: string
  /** Saves `value`; false: not saved (not a number), the person's text stays, with why. */
  readonly save: (value: string) => boolean | void
  readonly inputMode?: 'decimal'
  /** A textarea of this many rows; one line without. */
  readonly rows?: number
}

/** A field that follows the document, saved when the person leaves it. */
export function SavedText({ label, remote, save, inputMode, rows }: SavedTextProps) {
  const draft = useDraft(remote)
  const [refused, setRefused] = useState(false)
  return (
    <>
      <label>
        {t(label)}
        <SharedText
          value={draft.value}
          inputMode={inputMode}
          {...(rows !== undefined ? { rows } : {})}
          onText={(v) => {
            setRefused(false)
            draft.edit(v)
          }}
          onCommit={(v) => {
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
