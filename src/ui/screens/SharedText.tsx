// A text field bound to text that others edit at the same time. Setting a field's value
// moves the caret to the end, so a controlled field would throw the person's cursor there
// whenever another phone's edit arrived; here their cursor stays where they are typing.
import { useLayoutEffect, useRef } from 'preact/hooks'

export interface SharedTextProps {
  readonly value: string
  readonly onText: (value: string) => void
  /** A textarea of this many rows; a one-line input without. */
  readonly rows?: number
}

/** Where an index lands once `old` became `now` (one changed span, found from the front). */
function shifted(i: number, old: string, now: string): number {
  let start = 0
  while (start < old.length && start < now.length && old[start] === now[start]) start++
  return i <= start ? i : Math.max(start, i + now.length - old.length)
}

export function SharedText({ value, onText, rows }: SharedTextProps) {
  const ref = useRef<HTMLInputElement & HTMLTextAreaElement>(null)
  useLayoutEffect(() => {
    const field = ref.current
    if (!field || field.value === value) return
    const old = field.value
    const focused = document.activeElement === field
    const [from, to] = [field.selectionStart ?? 0, field.selectionEnd ?? 0]
    field.value = value
    if (focused) field.setSelectionRange(shifted(from, old, value), shifted(to, old, value))
  }, [value])
  const onInput = (e: Event): void => onText((e.currentTarget as HTMLInputElement).value)
  return rows === undefined ? <input ref={ref} onInput={onInput} /> : <textarea ref={ref} rows={rows} onInput={onInput} />
}
