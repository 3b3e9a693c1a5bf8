// Times: stored as UTC instants, shown in the phone's zone with the zone named.
export const zoneName = (): string => Intl.DateTimeFormat().resolvedOptions().timeZone

export function showTime(at: number | undefined): string {
  if (at === undefined) return '—'
  return `${new Date(at).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' })} (${zoneName()})`
}

/** Value for <input type="datetime-local"> in the phone's zone. */
export function toLocalInput(at: number | undefined): string {
  if (at === undefined) return ''
  const d = new Date(at)
  const pad = (n: number): string => String(n).padStart(2, '0')
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`
}

export const fromLocalInput = (value: string): number | undefined => (value ? new Date(value).getTime() : undefined)

export function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000))
  const h = Math.floor(s / 3600)
  const m = Math.floor((s % 3600) / 60)
  const sec = s % 60
  return h > 0 ? `${h} h ${m} min` : m > 0 ? `${m} min ${sec} s` : `${sec} s`
}
