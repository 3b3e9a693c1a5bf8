// Bytes a phone downloads on its first visit: every JS chunk the app loads at start (gzip, as the
// server could send it), with the phone's language when it is not English (each catalog loads only
// when chosen); then what loads only when used: the core's plan screen, settings, QR codes, and what
// opens a stage with no core phone (marshals' quorum, the drand time lock).
import { readdir, readFile } from 'node:fs/promises'
import path from 'node:path'
import { gzipSync } from 'node:zlib'
import type { Row } from './table'

const CATALOG = /^_catalog_([A-Za-z-]+)-/
/** Chunks loaded when first used, never at start (network: the server’s STUN and TURN servers, once unlocked; Marshal: a marshal’s panel; QrScanner: the camera, once asked; campaign, Campaign: a campaign’s seat and panel, for an action in one). */
const WHEN_USED = /^(decode|Plan|Settings|qr|QrCode|QrScanner|network|Marshal|Campaign|campaign|_catalog-later_[A-Za-z-]+)-/
/** What opens a stage with no core phone (marshals, time lock): loaded only for an action that arms one. */
const WITHOUT_CORE = /^(without-core|quorum|timelock|drand-ibe)-/

export async function bundleRows(dist: string): Promise<Row[]> {
  const assets = path.join(dist, 'assets')
  const files = (await readdir(assets)).filter((f) => f.endsWith('.js'))
  let start = 0
  let entry = 0
  let whenUsed = 0
  let decoder = 0
  let timelock = 0
  const catalogs: [string, number][] = []
  const html = await readFile(path.join(dist, 'index.html'), 'utf8')
  for (const f of files) {
    const gz = gzipSync(await readFile(path.join(assets, f)), { level: 9 }).length
    const catalog = CATALOG.exec(f)
    if (catalog) catalogs.push([catalog[1]!, gz])
    else if (/^decode-/.test(f)) decoder += gz
    else if (WITHOUT_CORE.test(f)) timelock += gz
    else if (WHEN_USED.test(f)) whenUsed += gz
    else start += gz
    if (html.includes(f)) entry += gz
  }
  const [largest, largestGz] = catalogs.sort((a, b) => b[1] - a[1])[0] ?? ['none', 0]
  return [
    { figure: 'JS on first load, gzip, phone in English (entry, model, crypto, release checks)', value: start / 1024, unit: 'KiB' },
    { figure: `JS on first load, gzip, phone in its largest translation (${largest})`, value: (start + largestGz) / 1024, unit: 'KiB' },
    { figure: '… of which the entry chunk, before the shell paints', value: entry / 1024, unit: 'KiB' },
    { figure: 'loaded when first used: core plan screen, settings, QR codes, gzip', value: whenUsed / 1024, unit: 'KiB' },
    { figure: 'QR decoder, loaded only when scanning, gzip', value: decoder / 1024, unit: 'KiB' },
    { figure: 'opening without the core (marshals, time lock: tlock-js, BLS12-381), loaded only for an action that arms one, gzip', value: timelock / 1024, unit: 'KiB' },
  ]
}
