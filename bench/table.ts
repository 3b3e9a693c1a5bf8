// One row per figure: what, value, baseline, ratio. Printed as a Markdown table.
export interface Row {
  readonly figure: string
  readonly value: number
  readonly unit: string
  readonly baseline?: number
  readonly baselineName?: string
}

const fmt = (n: number): string => (!Number.isFinite(n) ? 'never' : n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2))
const withUnit = (n: number, unit: string): string => (Number.isFinite(n) && unit ? `${fmt(n)} ${unit}` : fmt(n))

export function printTable(title: string, rows: readonly Row[]): void {
  console.log(`\n### ${title}\n`)
  console.log('| figure | value | baseline | ratio |')
  console.log('|---|---|---|---|')
  for (const r of rows) {
    const base = r.baseline === undefined ? '—' : `${withUnit(r.baseline, r.unit)} (${r.baselineName})`
    const ratio = r.baseline === undefined || r.baseline === 0 || !Number.isFinite(r.value / r.baseline) ? '—' : `${(r.value / r.baseline).toFixed(2)}×`
    console.log(`| ${r.figure} | ${withUnit(r.value, r.unit)} | ${base} | ${ratio} |`)
  }
}

/** Median of `runs` timings of `fn`, in milliseconds. */
export function medianMs(runs: number, fn: () => void): number {
  const times: number[] = []
  for (let i = 0; i < runs; i++) {
    const t = performance.now()
    fn()
    times.push(performance.now() - t)
  }
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)]!
}

/** Nearest-rank quantile (q in 0..1); Infinity stands for "never arrived". */
export const quantile = (xs: readonly number[], q: number): number => [...xs].sort((a, b) => a - b)[Math.max(0, Math.ceil(q * xs.length) - 1)]!
