/**
 * The time column: `run` gives every row one run time (ISO 8601 UTC, ending
 * in Z, the given runTime), formatted once; `row` gives the time each row was
 * stamped, formatted again only when the millisecond changes.
 */
import { Readable, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import t from 'tap'
import { stamp, type StampOptions } from '../../lib/transform/index.ts'
import type { Batch, Column, Row } from '../../lib/types.ts'

const columns: readonly Column[] = Object.freeze([Object.freeze({ name: 'g', type: 'int4' })])
const batches = (n: number, size = 1000): Batch[] =>
  Array.from({ length: n }, (_, b) => ({ columns, rows: Array.from({ length: size }, (_, i) => [b * size + i]) }))

async function times(options: StampOptions, input: Batch[]): Promise<{ times: unknown[]; runTime: string }> {
  const stage = stamp(options)
  const out: unknown[] = []
  await pipeline(Readable.from(input), stage, new Writable({ objectMode: true, write: (b: Batch, _e, cb) => (out.push(...b.rows.map((r: Row) => r[2])), cb()) }))
  return { times: out, runTime: (await stage.summary).runTime }
}

/** Counts Date.prototype.toISOString calls while `fn` runs (instrumenting the builtin, not our code). */
async function countFormatting<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const original = Date.prototype.toISOString
  let calls = 0
  Date.prototype.toISOString = function (this: Date): string {
    calls++
    return original.call(this)
  }
  try {
    return [await fn(), calls]
  } finally {
    Date.prototype.toISOString = original
  }
}

t.test('run: one run time shared by all rows, in UTC, the given runTime', async (t) => {
  const runTime = new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 123))
  let reads = 0
  const now = (): number => ++reads
  const [{ times: all, runTime: reported }, calls] = await countFormatting(() => times({ runTime, now }, batches(20)))
  t.equal(reads, 0, 'no clock read at all')
  t.equal(all.length, 20000)
  t.ok(all.every((x) => x === '2024-01-02T03:04:05.123Z'), 'every row: runTime.toISOString(), ending in Z')
  t.equal(reported, '2024-01-02T03:04:05.123Z', 'the summary reports it')
  t.equal(calls, 1, 'formatted once for 20000 rows')
})

t.test('run: the default run time is when the stage was made, shared by all rows', async (t) => {
  const before = Date.now()
  const stage = stamp({})
  const after = Date.now()
  await new Promise((r) => setTimeout(r, 5))
  const out: unknown[] = []
  await pipeline(Readable.from(batches(3)), stage, new Writable({ objectMode: true, write: (b: Batch, _e, cb) => (out.push(...b.rows.map((r) => r[2])), cb()) }))
  t.equal(new Set(out).size, 1)
  const ms = Date.parse(out[0] as string)
  t.ok(ms >= before && ms <= after, 'taken at construction, not per batch')
  t.match(out[0], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
})

t.test('row: the time each row was stamped, valid ISO 8601 UTC, in order', async (t) => {
  const before = Date.now()
  const { times: real } = await times({ datetime: 'row' }, batches(30))
  const after = Date.now()
  t.equal(real.length, 30000)
  t.ok(real.every((x) => typeof x === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/.test(x) && new Date(x).toISOString() === x), 'valid ISO 8601 UTC')
  const ms = real.map((x) => Date.parse(x as string))
  t.ok(ms.every((m, i) => m >= before && m <= after && (i === 0 || m >= ms[i - 1]!)), 'within the run, never going back')
})

t.test('row: the string is formatted again only when the clock has moved', async (t) => {
  let clock = Date.UTC(2024, 5, 1, 12, 0, 0, 0)
  let reads = 0
  const now = (): number => {
    reads++
    return reads % 250 === 0 ? ++clock : clock // the millisecond changes every 250 rows
  }
  const [{ times: all }, calls] = await countFormatting(() => times({ datetime: 'row', now, runTime: new Date(0) }, batches(4)))
  t.equal(reads, 4000, 'the clock is read per row')
  t.equal(calls, 1 + 17, 'formatted for the run time, then once per millisecond seen (17), not per row')
  t.equal(all[0], '2024-06-01T12:00:00.000Z')
  t.equal(all[249], '2024-06-01T12:00:00.001Z')
  t.equal(all.at(-1), '2024-06-01T12:00:00.016Z')
  t.equal(new Set(all).size, 17)
})

t.test('the time column is typed timestamptz, named by datetimeColumn', async (t) => {
  const stage = stamp({ datetimeColumn: 'event_time', columns })
  const out: Batch[] = []
  await pipeline(Readable.from(batches(1, 1)), stage, new Writable({ objectMode: true, write: (b: Batch, _e, cb) => (out.push(b), cb()) }))
  t.same(out[0]!.columns.at(-1), { name: 'event_time', type: 'timestamptz' })
})
