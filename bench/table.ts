// One row per figure: what, value, baseline, ratio. Printed as a Markdown table.
export interface Row {
  readonly figure: string
  readonly value: number
  readonly unit: string
  readonly baseline?: number
  readonly baselineName?: string
}

const fmt = (n: number): string => (n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2))

export function printTable(title: string, rows: readonly Row[]): void {
  console.log(`\n### ${title}\n`)
  console.log('| figure | value | baseline | ratio |')
  console.log('|---|---|---|---|')
  for (const r of rows) {
    const base = r.baseline === undefined ? '—' : `${fmt(r.baseline)} ${r.unit} (${r.baselineName})`
    const ratio = r.baseline === undefined || r.baseline === 0 ? '—' : `${(r.value / r.baseline).toFixed(2)}×`
    console.log(`| ${r.figure} | ${fmt(r.value)} ${r.unit} | ${base} | ${ratio} |`)
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
