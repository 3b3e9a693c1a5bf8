// Bytes a phone downloads on its first visit: every JS chunk the app loads at start
// (gzip, as the server could send it), and the QR decoder, loaded only when scanning.
import { readdir, readFile } from 'node:fs/promises'
import path from 'node:path'
import { gzipSync } from 'node:zlib'
import type { Row } from './table'

export async function bundleRows(dist: string): Promise<Row[]> {
  const assets = path.join(dist, 'assets')
  const files = (await readdir(assets)).filter((f) => f.endsWith('.js'))
  let start = 0
  let lazy = 0
  let entry = 0
  const html = await readFile(path.join(dist, 'index.html'), 'utf8')
  for (const f of files) {
    const gz = gzipSync(await readFile(path.join(assets, f)), { level: 9 }).length
    if (/decode/i.test(f)) lazy += gz
    else start += gz
    if (html.includes(f)) entry += gz
  }
  return [
    { figure: 'JS on first load, gzip (all chunks loaded at start)', value: start / 1024, unit: 'KiB' },
    { figure: '… of which the entry chunk, before the shell paints', value: entry / 1024, unit: 'KiB' },
    { figure: 'QR decoder, loaded only when scanning, gzip', value: lazy / 1024, unit: 'KiB' },
  ]
}
