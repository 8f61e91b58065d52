// Reading a stage CSV back (here data/transformed.csv of `etl run` or `etl transform`), typed by its sidecar:
// the mean PSA per Gleason score. Run: node examples/read-stage-csv.ts [path/to/transformed.csv]
import { csvSource, type Batch } from '../lib/index.ts'

const path = process.argv[2] ?? 'data/transformed.csv'
const sums = new Map<number, { n: number; lpsa: number }>()
let columns: Batch['columns'] | undefined
for await (const batch of csvSource(path) as AsyncIterable<Batch>) {
  columns ??= batch.columns
  const gleason = columns.findIndex((c) => c.name === 'gleason')
  const lpsa = columns.findIndex((c) => c.name === 'lpsa')
  for (const row of batch.rows) {
    const s = sums.get(row[gleason] as number) ?? { n: 0, lpsa: 0 }
    s.n++
    s.lpsa += row[lpsa] as number
    sums.set(row[gleason] as number, s)
  }
}
for (const [g, s] of [...sums].sort((a, b) => a[0] - b[0])) console.log(`gleason ${g}: ${s.n} rows, mean lpsa ${(s.lpsa / s.n).toFixed(3)}`)
