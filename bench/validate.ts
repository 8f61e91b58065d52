/**
 * How much the validation costs per row: the prostate suite plus 20 more
 * row-level checks, over ~1M generated rows in batches of 1000 (no database).
 * Prints ns per row for the engine alone (compile once, update per batch) and
 * for the validating stream stage (Transform) carrying the same batches.
 *
 *     node bench/validate.ts [rows]
 */
import { readFileSync } from 'node:fs'
import { Readable, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { compile } from '../lib/expectations/engine.ts'
import { parseSuite } from '../lib/expectations/suite.ts'
import type { Batch, Column, Row } from '../lib/types.ts'
import { validate } from '../lib/validate/validate.ts'

const TOTAL = Number(process.argv[2] ?? 1_000_000)
const BATCH = 1000

const columns: readonly Column[] = Object.freeze(
  [
    ['lcavol', 'float8'], ['lweight', 'float8'], ['age', 'int4'], ['lbph', 'float8'], ['lcp', 'float8'],
    ['gleason', 'int4'], ['pgg45', 'int4'], ['lpsa', 'float8'], ['target', 'int4'],
  ].map(([name, type]) => Object.freeze({ name: name!, type: type! })),
)

/** Deterministic pseudo-random rows in the prostate data's ranges (a few out of range, as real data may be). */
function makeBatches(count: number): Batch[] {
  let seed = 42
  const rnd = (): number => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648)
  const out: Batch[] = []
  for (let b = 0; b < count; b++) {
    const rows: Row[] = []
    for (let i = 0; i < BATCH; i++) {
      rows.push([
        -1.3 + rnd() * 5.1, 2.37 + rnd() * 2.4, 41 + Math.floor(rnd() * 39), -1.38 + rnd() * 4, -1.38 + rnd() * 4.1,
        6 + Math.floor(rnd() * 4), Math.floor(rnd() * 101), -0.43 + rnd() * 6, rnd() < 0.22 ? 1 : 0,
      ])
    }
    out.push({ columns, rows })
  }
  return out
}

const prostate = JSON.parse(readFileSync(new URL('../fixtures/suites/prostate.json', import.meta.url), 'utf8')) as { expectations: unknown[] }
const e = (type: string, kwargs: Record<string, unknown>): unknown => ({ expectation_type: type, kwargs })
const extra = [
  ...columns.map((c) => e('expect_column_values_to_not_be_null', { column: c.name })),
  e('expect_column_values_to_be_between', { column: 'lbph', min_value: -2, max_value: 3 }),
  e('expect_column_values_to_be_between', { column: 'lcp', min_value: -2, max_value: 3 }),
  e('expect_column_values_to_be_between', { column: 'lpsa', min_value: -1, max_value: 6 }),
  e('expect_column_values_to_be_in_set', { column: 'gleason', value_set: [6, 7, 8, 9] }),
  e('expect_column_values_to_be_in_set', { column: 'target', value_set: [0, 1] }),
  e('expect_column_values_to_not_be_in_set', { column: 'age', value_set: [0] }),
  e('expect_column_values_to_be_between', { column: 'pgg45', min_value: -1, max_value: 101, strict_min: true, strict_max: true }),
  e('expect_column_value_z_scores_to_be_less_than', { column: 'lpsa', threshold: 4, double_sided: true }),
  e('expect_column_values_to_be_between', { column: 'age', min_value: 40, max_value: 80, mostly: 0.95 }),
  e('expect_column_pair_values_a_to_be_greater_than_b', { column_A: 'age', column_B: 'gleason' }),
  e('expect_select_column_values_to_be_unique_within_record', { column_list: ['age', 'gleason'] }),
]
const suite = parseSuite({ expectation_suite_name: 'bench', expectations: [...prostate.expectations, ...extra] })
const stats = { lpsa: { count: TOTAL, mean: 2.57, stdev: 1.73 } }
const distinct = makeBatches(50)
const batchCount = Math.ceil(TOTAL / BATCH)

function engineRun(): number {
  const compiled = compile(suite, columns, { stats })
  const state = compiled.init()
  const sink = { add() {} }
  const t0 = process.hrtime.bigint()
  for (let b = 0; b < batchCount; b++) compiled.update(state, distinct[b % distinct.length]!.rows, sink)
  const ns = Number(process.hrtime.bigint() - t0)
  if (!compiled.finish(state).results.length) throw new Error('no results')
  return ns / (batchCount * BATCH)
}

async function stageRun(): Promise<number> {
  let b = 0
  const source = new Readable({ objectMode: true, highWaterMark: 2, read() { this.push(b < batchCount ? distinct[b++ % distinct.length] : null) } })
  const stage = validate({ suite, stats })
  const sink = new Writable({ objectMode: true, highWaterMark: 2, write: (_x, _e, cb) => cb() })
  const t0 = process.hrtime.bigint()
  await pipeline(source, stage, sink)
  const ns = Number(process.hrtime.bigint() - t0)
  await stage.summary
  return ns / (batchCount * BATCH)
}

async function nullRun(): Promise<number> {
  let b = 0
  const source = new Readable({ objectMode: true, highWaterMark: 2, read() { this.push(b < batchCount ? distinct[b++ % distinct.length] : null) } })
  const sink = new Writable({ objectMode: true, highWaterMark: 2, write: (_x, _e, cb) => cb() })
  const t0 = process.hrtime.bigint()
  await pipeline(source, sink)
  return Number(process.hrtime.bigint() - t0) / (batchCount * BATCH)
}

const fmt = (x: number): string => x.toFixed(1).padStart(7)
engineRun() // warm-up
const engine = [engineRun(), engineRun(), engineRun()].sort((a, b) => a - b)[1]!
await stageRun()
const stage = [await stageRun(), await stageRun(), await stageRun()].sort((a, b) => a - b)[1]!
const bare = [await nullRun(), await nullRun(), await nullRun()].sort((a, b) => a - b)[1]!
console.log(`validate: ${suite.expectations.length} expectations (prostate suite ${prostate.expectations.length} + ${extra.length} row-level), ${batchCount * BATCH} rows in batches of ${BATCH}`)
console.log(`engine update          ${fmt(engine)} ns/row  (median of 3)`)
console.log(`stage (Transform)      ${fmt(stage)} ns/row  (source -> validate -> null sink)`)
console.log(`  of which stream      ${fmt(bare)} ns/row  (source -> null sink, no stage)`)
