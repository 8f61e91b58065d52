/**
 * How much the transform costs per row, for each id strategy, over ~1M
 * generated prostate-shaped rows in batches of 1000 (no database): the stage
 * as a stream (source -> stamp -> null sink), with the run time (`datetime:
 * run`) and with the time per row (`datetime: row`). Also counts duplicate ids
 * over the whole run (there must be none).
 *
 *     node bench/transform.ts [rows]
 */
import { Readable, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { stamp, type StampOptions } from '../lib/transform/index.ts'
import type { Batch, Column, Row } from '../lib/types.ts'

const TOTAL = Number(process.argv[2] ?? 1_000_000)
const BATCH = 1000
const batchCount = Math.ceil(TOTAL / BATCH)

const columns: readonly Column[] = Object.freeze(
  [
    ['lcavol', 'float8'], ['lweight', 'float8'], ['age', 'int4'], ['lbph', 'float8'], ['lcp', 'float8'],
    ['gleason', 'int4'], ['pgg45', 'int4'], ['lpsa', 'float8'], ['target', 'int4'], ['patient', 'int4'],
  ].map(([name, type]) => Object.freeze({ name: name!, type: type! })),
)

/** Every row, generated once (deterministic); `patient` numbers the rows, so it is a key. ~1% NULL pgg45. */
function makeBatches(): Batch[] {
  let seed = 42
  const rnd = (): number => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648)
  const out: Batch[] = []
  let patient = 0
  for (let b = 0; b < batchCount; b++) {
    const rows: Row[] = []
    for (let i = 0; i < BATCH; i++) {
      rows.push([
        -1.3 + rnd() * 5.1, 2.37 + rnd() * 2.4, 41 + Math.floor(rnd() * 39), -1.38 + rnd() * 4, -1.38 + rnd() * 4.1,
        6 + Math.floor(rnd() * 4), rnd() < 0.01 ? null : Math.floor(rnd() * 101), -0.43 + rnd() * 6, rnd() < 0.22 ? 1 : 0, ++patient,
      ])
    }
    out.push({ columns, rows })
  }
  return out
}

const batches = makeBatches()

interface Result {
  readonly ns: number
  readonly duplicates: number
}

async function run(options: StampOptions, checkIds: boolean): Promise<Result> {
  let b = 0
  const source = new Readable({ objectMode: true, highWaterMark: 2, read() { this.push(b < batchCount ? batches[b++] : null) } })
  const stage = stamp(options)
  const ids = new Set<unknown>()
  let rows = 0
  let idAt = -1
  const sink = new Writable({
    objectMode: true,
    highWaterMark: 2,
    write(batch: Batch, _e, cb) {
      rows += batch.rows.length
      if (checkIds) {
        if (idAt < 0) idAt = batch.columns.length - 2
        for (const row of batch.rows) ids.add(row[idAt])
      }
      cb()
    },
  })
  const t0 = process.hrtime.bigint()
  await pipeline(source, stage, sink)
  const ns = Number(process.hrtime.bigint() - t0)
  await stage.summary
  return { ns: ns / rows, duplicates: checkIds ? rows - ids.size : Number.NaN }
}

async function nullRun(): Promise<number> {
  let b = 0
  const source = new Readable({ objectMode: true, highWaterMark: 2, read() { this.push(b < batchCount ? batches[b++] : null) } })
  const sink = new Writable({ objectMode: true, highWaterMark: 2, write: (_x, _e, cb) => cb() })
  const t0 = process.hrtime.bigint()
  await pipeline(source, sink)
  return Number(process.hrtime.bigint() - t0) / (batchCount * BATCH)
}

async function median(options: StampOptions): Promise<number> {
  const runs = [await run(options, false), await run(options, false), await run(options, false)]
  return runs.map((r) => r.ns).sort((x, y) => x - y)[1]!
}

const fmt = (x: number): string => x.toFixed(1).padStart(7)
const cases: [string, StampOptions][] = [
  ['nanoid', { id: 'nanoid' }],
  ['sequential', { id: 'sequential' }],
  ['derived (key patient)', { id: 'derived', key: ['patient'] }],
]
await run({}, false) // warm-up
console.log(`transform: ${batchCount * BATCH} rows (${columns.length} columns, ~1% NULL) in batches of ${BATCH}; ns/row, median of 3, source -> stamp -> null sink`)
const bare = [await nullRun(), await nullRun(), await nullRun()].sort((x, y) => x - y)[1]!
console.log(`  stream alone (no stage)        ${fmt(bare)}`)
for (const [name, options] of cases) {
  const runTime = await median({ ...options, datetime: 'run' })
  const rowTime = await median({ ...options, datetime: 'row' })
  const { duplicates } = await run(options, true)
  console.log(`  ${name.padEnd(22)} datetime run ${fmt(runTime)}   datetime row ${fmt(rowTime)}   duplicate ids: ${duplicates}`)
}
const policy = await median({ missing: { columns: { pgg45: { fill: 0 } } } })
const drop = await median({ missing: { default: 'drop' } })
console.log(`  nanoid + fill pgg45            ${fmt(policy)}`)
console.log(`  nanoid + drop NULL rows        ${fmt(drop)}`)
