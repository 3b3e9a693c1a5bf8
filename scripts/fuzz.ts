// npm run fuzz [-- --runs N] [-- --seed S]: every fuzz target (tests/fuzz/targets.ts), N cases each
// (default 12,000: over 100,000 in all), and a table of cases and time per target. Exits 1 on the
// first broken contract, with fast-check's smallest failing input and the seed to replay it.
import { cryptoReady } from '../src/crypto'
import { targets } from '../tests/fuzz/targets'
import 'fake-indexeddb/auto'

const arg = (name: string): number | undefined => {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? Number(process.argv[i + 1]) : undefined
}
const runs = arg('runs') ?? 12_000
const seed = arg('seed') ?? Date.now() % 2 ** 31

await cryptoReady()
console.log(`fuzz: ${targets.length} targets, ${runs} cases each, seed ${seed}\n`)
console.log('| target | cases | time |')
console.log('|---|---|---|')
let total = 0
for (const target of targets) {
  const started = performance.now()
  try {
    await target.run(runs, seed)
  } catch (error) {
    console.log(`| ${target.name} | FAILED | |`)
    const cause = error instanceof Error && error.cause instanceof Error ? `\ncause: ${error.cause.name}: ${error.cause.message}` : ''
    console.error(`\n${target.name}: ${error instanceof Error ? error.message : String(error)}${cause}`)
    process.exit(1)
  }
  total += runs
  console.log(`| ${target.name} | ${runs} | ${((performance.now() - started) / 1000).toFixed(1)} s |`)
}
console.log(`\n${total} cases in all, no contract broken.`)
