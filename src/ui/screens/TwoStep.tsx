// A step nobody can take back, asked twice: the first tap turns the button into the question,
// the second (focused, in red) takes the step.
import { useEffect, useRef, useState } from 'preact/hooks'

export interface TwoStepProps {
  /** The first button's words. */
  readonly ask: string
  /** The second's: the step said in full ("Yes, remove …"). */
  readonly confirm: string
  readonly act: () => void
  readonly disabled?: boolean
}

export function TwoStep({ ask, confirm, act, disabled = false }: TwoStepProps) {
  const [asked, setAsked] = useState(false)
  const yes = useRef<HTMLButtonElement>(null)
  // The first button is gone: focus goes to the question, not back to the top of the page.
  useEffect(() => yes.current?.focus({ preventScroll: true }), [asked])
  return asked && !disabled ? (
    <button
      type="button"
      class="danger"
      ref={yes}
      onClick={() => {
        setAsked(false)
        act()
      }}
    >
      {confirm}
    </button>
  ) : (
    <button type="button" class="secondary" onClick={() => setAsked(true)} disabled={disabled}>
      {ask}
    </button>
  )
}
