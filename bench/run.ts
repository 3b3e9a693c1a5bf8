// npm run bench: every benchmark, one table each (figure, value, baseline, ratio).
// npm run bench -- --quick: a short version. npm run bench -- --only=campaign: only the sections
// whose title contains that text (any case). Runs in a private network namespace; loopback only.
import { cpus, totalmem } from 'node:os'
import path from 'node:path'
import { cryptoReady } from '../src/crypto'
import { bundleRows } from './bundle'
import { campaignSimRows, campaignWebrtcRows } from './campaign'
import { crowdRows } from './crowd'
import { cryptoRows } from './crypto'
import { documentRows } from './document'
import { goRows, withoutCoreRows } from './go'
import { goSimRows } from './go-sim'
import { reloadRows } from './reload'
import { releaseRows } from './release'
import { removalRows } from './removal'
import { syncRows } from './sync'
import { tierRows } from './tier'
import { printTable, type Row } from './table'
import { wireRows } from './wire'

const quick = process.argv.includes('--quick')
const only = process.argv.find((a) => a.startsWith('--only='))?.slice('--only='.length).toLowerCase()

/** Runs one benchmark and prints its table, and how long it took (on stderr, apart from the figures). */
async function section(title: string, rows: () => Row[] | Promise<Row[]>): Promise<void> {
  if (only && !title.toLowerCase().includes(only)) return
  const started = performance.now()
  printTable(title, await rows())
  console.error(`(${title.split(' (')[0]}: ${((performance.now() - started) / 1000).toFixed(1)} s)`)
}
const dist = path.resolve('dist')
await cryptoReady()
console.log(`machine: ${cpus().length} × ${cpus()[0]?.model.trim() ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}; ${quick ? 'quick run' : 'full run'}`)
await section('Go propagation, real WebRTC (Node peers, one process each, node-datachannel on 127.0.0.1)', () => goRows(dist, quick))
await section('Opening with every core phone gone (Node peers, one process each, real WebRTC + relay on 127.0.0.1)', () => withoutCoreRows(dist, quick))
await section('Go propagation, simulated crowd (same protocol code; links 20–150 ms one way, 5 % loss; phones 4× slower than this machine)', () => goSimRows(quick))
await section('Campaign go, simulated (20 cells × 100 participants; same protocol code; links 20–150 ms one way, 5 % loss; phones 4× slower than this machine)', () => campaignSimRows(quick))
await section('Campaign go, real WebRTC (3 cells × 3 participants, each phone a Chromium page; signaling server and relay on 127.0.0.1)', () => campaignWebrtcRows(quick))
await section('Bytes on the wire, server relay only (Node phones, no WebRTC, loopback)', () => wireRows(quick))
await section('Signaling server: one crowd in one room (server in its own process, 127.0.0.1)', () => crowdRows(quick))
await section('Signaling tier: one instance against three sharing topics through Redis (each in its own process, 127.0.0.1)', () => tierRows(quick))
await section('Crypto cost per frame', () => cryptoRows(quick))
await section('Document cost', () => documentRows(quick))
await section('Removal cost (closures)', () => removalRows(quick))
await section('Load: first-load JavaScript', () => bundleRows(dist))
await section('Release checks (a new version, before it is offered)', () => releaseRows(dist, quick))
await section('Load: offline reopen in Chromium', () => reloadRows(dist, quick))
await section('Two phones in Chromium, real WebRTC, loopback', () => syncRows(dist, quick))
process.exit(0)
