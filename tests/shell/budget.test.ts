// The first-load budget (issue 14): what a phone downloads before it can be used stays within
// 280 KiB gzip, in English and in the largest translation (each catalog loads only when chosen).
import { inject } from 'vitest'
import { describe, expect, it } from 'vitest'
import { bundleRows } from '../../bench/bundle'

describe('first-load JavaScript', () => {
  it('stays within 280 KiB gzip with the phone’s language', async () => {
    const rows = await bundleRows(inject('shellBuilds').a.dist)
    const firstLoad = rows.filter((r) => r.figure.startsWith('JS on first load'))
    expect(firstLoad).toHaveLength(2)
    for (const row of firstLoad) expect(row.value, row.figure).toBeLessThanOrEqual(280)
    // The translations are measured, not skipped: a catalog chunk was found.
    expect(firstLoad[1]!.figure).not.toContain('(none)')
  })
})
