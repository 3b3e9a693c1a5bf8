// npm run bench: every benchmark, one table each (figure, value, baseline, ratio).
// npm run bench -- --quick: a short version. Runs in a private network namespace; loopback only.
import { cpus, totalmem } from 'node:os'
import path from 'node:path'
import { cryptoReady } from '../src/crypto'
import { bundleRows } from './bundle'
import { cryptoRows } from './crypto'
import { documentRows } from './document'
import { syncRows } from './sync'
import { printTable } from './table'

const quick = process.argv.includes('--quick')
const dist = path.resolve('dist')
await cryptoReady()
console.log(`machine: ${cpus().length} × ${cpus()[0]?.model.trim() ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}; ${quick ? 'quick run' : 'full run'}`)
printTable('Crypto cost per frame', cryptoRows(quick))
printTable('Document cost', await documentRows(quick))
printTable('Load', await bundleRows(dist))
printTable('Two phones in Chromium, real WebRTC, loopback', await syncRows(dist, quick))
