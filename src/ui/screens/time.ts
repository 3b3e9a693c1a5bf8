// Times: stored as UTC instants, shown in the phone's zone with the zone named, and
// entered in the action's zone (so a multi-city action shares one instant).
import { dateTime } from '../i18n'

export const zoneName = (): string => Intl.DateTimeFormat().resolvedOptions().timeZone

/** Every zone this browser knows, for the core's zone picker. */
export const allZones = (): string[] => (typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : [zoneName()])

/** An instant on `zone`'s clock (the phone's by default), in the UI's language; '—' when unset. */
export const showTime = (at: number | undefined, zone = zoneName()): string => (at === undefined ? '—' : dateTime(at, zone))

/** How far `zone`'s wall clock is ahead of UTC at instant `at`, in ms. */
function offsetMs(at: number, zone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: zone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  }).formatToParts(new Date(at))
  const get = (type: string): number => Number(parts.find((p) => p.type === type)?.value)
  return Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second')) - Math.floor(at / 1000) * 1000
}

/** `YYYY-MM-DDTHH:mm` on `zone`'s wall clock → UTC instant. */
export function fromZonedInput(value: string, zone = zoneName()): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})$/.exec(value)
  if (!m) return undefined
  const wall = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]))
  // The offset at the guess can differ from the offset at the answer around a DST change.
  let at = wall - offsetMs(wall, zone)
  at = wall - offsetMs(at, zone)
  return at
}

/** UTC instant → `YYYY-MM-DDTHH:mm` on `zone`'s wall clock, for <input type="datetime-local">. */
export function toZonedInput(at: number | undefined, zone = zoneName()): string {
  if (at === undefined) return ''
  const wall = new Date(at + offsetMs(at, zone))
  const pad = (n: number): string => String(n).padStart(2, '0')
  return `${wall.getUTCFullYear()}-${pad(wall.getUTCMonth() + 1)}-${pad(wall.getUTCDate())}T${pad(wall.getUTCHours())}:${pad(wall.getUTCMinutes())}`
}

