import { useEffect, useState } from 'preact/hooks'

/** A value read from the model, read again on every change it signals (and every `everyMs`). */
export function useLive<T>(read: () => T, subscribe: (cb: () => void) => () => void, everyMs = 0): T {
  const [value, setValue] = useState(read)
  useEffect(() => {
    const update = (): void => setValue(read())
    const stop = subscribe(update)
    const timer = everyMs > 0 ? setInterval(update, everyMs) : undefined
    return () => {
      stop()
      clearInterval(timer)
    }
  }, [])
  return value
}
