// A text field bound to text that others edit at the same time. Setting a field's value
// moves the caret to the end, so a controlled field would throw the person's cursor there
// whenever another phone's edit arrived; here their cursor stays where they are typing.
import { useLayoutEffect, useRef } from 'preact/hooks'

export interface SharedTextProps {
  readonly value: string
  /** Every keystroke. */
  readonly onText: (value: string) => void
  /** The person is done with the field (it lost focus, or Enter). */
  readonly onCommit?: ((value: string) => void) | undefined
  /** A textarea of this many rows; a one-line input without. */
  readonly rows?: number
  readonly type?: 'text' | 'datetime-local'
  readonly inputMode?: 'decimal'
}

/** Where an index lands once `old` became `now` (one changed span, found from the front). */
function shifted(i: number, old: string, now: string): number {
  let start = 0
  while (start < old.length && start < now.length && old[start] === now[start]) start++
  return i <= start ? i : Math.max(start, i + now.length - old.length)
}

export function SharedText({ value, onText, onCommit, rows, type = 'text', inputMode }: SharedTextProps) {
  const ref = useRef<HTMLInputElement & HTMLTextAreaElement>(null)
  const latest = useRef(value)
  latest.current = value
  useLayoutEffect(() => {
    const field = ref.current
    if (!field || field.value === value) return
    // A date and time being typed reports nothing until whole: leave it be until the person leaves it.
    if (type === 'datetime-local' && document.activeElement === field) return
    const old = field.value
    const keepCaret = document.activeElement === field && type === 'text'
    const [from, to] = [field.selectionStart ?? 0, field.selectionEnd ?? 0]
    field.value = value
    if (keepCaret) field.setSelectionRange(shifted(from, old, value), shifted(to, old, value))
  }, [value])
  const onInput = (e: Event): void => onText((e.currentTarget as HTMLInputElement).value)
  const onChange = onCommit && ((e: Event): void => onCommit((e.currentTarget as HTMLInputElement).value))
  const onBlur = (e: Event): void => {
    const field = e.currentTarget as HTMLInputElement
    if (field.value !== latest.current) field.value = latest.current
  }
  if (type === 'datetime-local') return <input ref={ref} type="datetime-local" onInput={onInput} onChange={onChange} onBlur={onBlur} />
  return rows === undefined ? (
    <input ref={ref} inputMode={inputMode} onInput={onInput} onChange={onChange} />
  ) : (
    <textarea ref={ref} rows={rows} onInput={onInput} onChange={onChange} />
  )
}
