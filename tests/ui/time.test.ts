// Go time entered in the action's zone becomes one UTC instant, across DST changes.
import { describe, expect, it } from 'vitest'
import { fromZonedInput, toZonedInput } from '../../src/ui/screens/time'

describe('zoned times', () => {
  it('reads wall-clock times in the action zone as UTC instants', () => {
    expect(new Date(fromZonedInput('2030-06-01T18:00', 'Europe/Berlin')!).toISOString()).toBe('2030-06-01T16:00:00.000Z')
    expect(new Date(fromZonedInput('2030-01-15T18:00', 'Europe/Berlin')!).toISOString()).toBe('2030-01-15T17:00:00.000Z')
    expect(new Date(fromZonedInput('2030-06-01T18:00', 'America/New_York')!).toISOString()).toBe('2030-06-01T22:00:00.000Z')
    expect(new Date(fromZonedInput('2030-06-01T18:00', 'Asia/Kolkata')!).toISOString()).toBe('2030-06-01T12:30:00.000Z')
    // The day the clocks go forward in Berlin (2030-03-31, 02:00 -> 03:00).
    expect(new Date(fromZonedInput('2030-03-31T12:00', 'Europe/Berlin')!).toISOString()).toBe('2030-03-31T10:00:00.000Z')
    expect(fromZonedInput('not a time', 'UTC')).toBeUndefined()
  })

  it('shows an instant on another zone\'s wall clock, and round-trips', () => {
    const at = Date.UTC(2030, 5, 1, 16, 0)
    expect(toZonedInput(at, 'Europe/Berlin')).toBe('2030-06-01T18:00')
    expect(toZonedInput(at, 'America/New_York')).toBe('2030-06-01T12:00')
    for (const zone of ['Europe/Berlin', 'America/Sao_Paulo', 'Asia/Tokyo', 'Australia/Adelaide']) {
      expect(fromZonedInput(toZonedInput(at, zone), zone)).toBe(at)
    }
  })
})
