import { useRef, useState } from 'preact/hooks'

export interface Draft<T> {
  /** What the fields show: the person's edit while there is one, else the document's value, live. */
  readonly value: T
  readonly edit: (value: T) => void
  /** Saved or given up: the fields follow the document again. */
  readonly clear: () => void
  /** The document changed under an edit in progress (another core phone saved meanwhile). */
  readonly stale: boolean
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b)

/** Fields that save on a deliberate step follow the document until the person starts editing. */
export function useDraft<T>(remote: T): Draft<T> {
  const [draft, setDraft] = useState<T | undefined>(undefined)
  const base = useRef<T>(remote)
  return {
    value: draft ?? remote,
    edit: (value) => {
      // Typed back to what the document holds: no edit (the field follows the document again).
      if (same(value, remote)) return setDraft(undefined)
      if (draft === undefined) base.current = remote
      setDraft(value)
    },
    clear: () => setDraft(undefined),
    stale: draft !== undefined && !same(base.current, remote),
  }
}
