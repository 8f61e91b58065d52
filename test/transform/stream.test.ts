/**
 * The transform stage's stream contract: empty input, one row, many batches
 * with a slow consumer, an error mid-stream, destroy early and break early;
 * the plan failing before any row moves; 'summary' before 'end'; live counts.
 */
import { Readable, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import t from 'tap'
import { pgSource } from '../../lib/extract/pg-source.ts'
import { stamp } from '../../lib/transform/index.ts'
import type { Batch, Column } from '../../lib/types.ts'
import { testDb } from '../support/pg.ts'

const nullSink = (): Writable => new Writable({ objectMode: true, write: (_b, _e, cb) => cb() })
const collect = (into: Batch[]): Writable => new Writable({ objectMode: true, write: (b: Batch, _e, cb) => (into.push(b), cb()) })

t.test('empty table: one empty batch with the planned columns', async (t) => {
  const { client } = await testDb(t)
  await client.query('CREATE TABLE e ("Age" int4, lpsa float8)')
  const stage = stamp({ id: 'sequential' })
  const out: Batch[] = []
  await pipeline(pgSource(client, { table: 'e' }), stage, collect(out))
  t.equal(out.length, 1)
  t.same(out[0], { columns: [{ name: 'age', type: 'int4' }, { name: 'lpsa', type: 'float8' }, { name: 'user_id', type: 'int8' }, { name: 'datetime', type: 'timestamptz' }], rows: [] })
  const s = await stage.summary
  t.same([s.rows, s.dropped, s.batches], [0, 0, 1])
  t.same(s.missing, { age: 0, lpsa: 0 })
  t.equal(s.columns, out[0]!.columns, 'the summary names the same frozen columns')

  const none = stamp({})
  const nothing: Batch[] = []
  await pipeline(Readable.from([]), none, collect(nothing))
  t.same(nothing, [], 'no batch in, no columns known: nothing out')
  t.same((await none.summary).columns, [])
  const planned = stamp({ columns: [{ name: 'x', type: 'text' }] })
  await pipeline(Readable.from([]), planned, collect(nothing))
  t.same(nothing.map((b) => b.columns.map((c) => c.name)), [['x', 'user_id', 'datetime']], 'with columns given: one empty batch at the end')
})

t.test('one row', async (t) => {
  const { client } = await testDb(t)
  const stage = stamp({ runTime: new Date('2024-01-01T00:00:00Z') })
  const out: Batch[] = []
  await pipeline(pgSource(client, { query: `SELECT 7::int4 AS "Gleason", NULL::text AS note` }), stage, collect(out))
  t.equal(out.length, 1)
  t.same(out[0]!.rows[0]!.slice(0, 2), [7, null])
  t.equal(out[0]!.rows[0]!.at(-1), '2024-01-01T00:00:00.000Z')
  t.same((await stage.summary).missing, { gleason: 0, note: 1 })
})

t.test('many batches, slow consumer: in order, bounded buffering, one columns array, summary before end', async (t) => {
  const { client } = await testDb(t)
  const source = pgSource(client, { query: 'SELECT g::int4 AS g, CASE WHEN g % 10 = 0 THEN NULL ELSE g END AS h FROM generate_series(1, 5000) g' }, { batchSize: 100 })
  const stage = stamp({ id: 'sequential', missing: { columns: { h: 'drop' } } })
  const order: string[] = []
  stage.on('summary', () => order.push('summary'))
  stage.on('end', () => order.push('end'))
  const seenColumns = new Set<readonly Column[]>()
  let next = 1
  let id = 1
  let maxBuffered = 0
  let liveRows = 0
  await pipeline(source, stage, new Writable({
    objectMode: true,
    highWaterMark: 1,
    write(batch: Batch, _e, cb) {
      seenColumns.add(batch.columns)
      for (const row of batch.rows) {
        if (next % 10 === 0) next++
        if (row[0] !== next++ || row[2] !== id++) return cb(new Error(`out of order at ${String(row[0])}`))
      }
      liveRows = stage.counts.rows
      maxBuffered = Math.max(maxBuffered, stage.readableLength + stage.writableLength)
      setTimeout(cb, 1)
    },
  }))
  t.equal(id, 4501, 'every kept row once, in order, numbered 1..4500')
  t.equal(seenColumns.size, 1, 'the same frozen columns array for every batch')
  t.ok(maxBuffered <= 4, `bounded buffering (saw ${maxBuffered})`)
  t.ok(liveRows > 0, 'live counts while running')
  t.same(order, ['summary', 'end'])
  const s = await stage.summary
  t.same([s.rowsIn, s.rows, s.dropped, s.batches], [5000, 4500, 500, 50])
  t.same(stage.counts.missing, { g: 0, h: 500 })
})

t.test('an error mid-stream surfaces once; the summary rejects with it; the client stays usable', async (t) => {
  const { client } = await testDb(t)
  const stage = stamp({})
  let errors = 0
  stage.on('error', () => errors++)
  const source = pgSource(client, { query: 'SELECT (1 / (g - 550))::int4 AS g FROM generate_series(1, 1000) g' }, { batchSize: 100 })
  const err = await pipeline(source, stage, nullSink()).then(() => undefined, (e: unknown) => e)
  t.match(err, { code: 'ETL_DB_QUERY' })
  await t.rejects(stage.summary, { code: 'ETL_DB_QUERY' })
  t.ok(errors <= 1)
  t.same((await client.query('SELECT 1 AS ok')).rows, [{ ok: 1 }])
})

t.test('a bad column name fails on the first batch, before any row moves', async (t) => {
  const { client } = await testDb(t)
  const stage = stamp({})
  const out: Batch[] = []
  const source = pgSource(client, { query: 'SELECT g AS "2nd value" FROM generate_series(1, 10000) g' }, { batchSize: 100 })
  const err = await pipeline(source, stage, collect(out)).then(() => undefined, (e: unknown) => e)
  t.match(err, { code: 'ETL_COLUMN_NAME', message: /^column "2nd value" cannot be a feature name/ })
  t.same(out, [], 'no batch went on')
  await t.rejects(stage.summary, { code: 'ETL_COLUMN_NAME' })
  t.ok(source.destroyed, 'the source was destroyed (its cursor closed)')
  t.same((await client.query('SELECT 1 AS ok')).rows, [{ ok: 1 }])
})

t.test('columns changing mid-stream are an ETL_TRANSFORM error; the same columns in a new array are fine', async (t) => {
  const a: readonly Column[] = [{ name: 'x', type: 'int4' }]
  const same: readonly Column[] = [{ name: 'x', type: 'int4' }]
  const other: readonly Column[] = [{ name: 'y', type: 'int4' }]
  const ok = stamp({})
  const out: Batch[] = []
  await pipeline(Readable.from([{ columns: a, rows: [[1]] }, { columns: same, rows: [[2]] }]), ok, collect(out))
  t.equal(out[0]!.columns, out[1]!.columns)
  const bad = stamp({})
  const err = await pipeline(Readable.from([{ columns: a, rows: [[1]] }, { columns: other, rows: [[2]] }]), bad, nullSink()).then(() => undefined, (e: unknown) => e)
  t.match(err, { code: 'ETL_TRANSFORM', message: 'the columns changed mid-stream: x then y' })
  const rows = await pipeline(Readable.from([[1, 2]]), stamp({}), nullSink()).then(() => undefined, (e: unknown) => e)
  t.match(rows, { code: 'ETL_TRANSFORM', message: 'the transform takes batches ({columns, rows}), not single rows' })
})

t.test('destroy before the end: the summary rejects with ETL_ABORTED; early break too', async (t) => {
  const stage = stamp({})
  stage.destroy()
  await t.rejects(stage.summary, { code: 'ETL_ABORTED', message: 'the transform stopped before its input ended' })

  const { client } = await testDb(t)
  const second = stamp({})
  const source = pgSource(client, { query: 'SELECT g::int4 AS g FROM generate_series(1, 100000) g' }, { batchSize: 100 })
  let n = 0
  for await (const _ of source.pipe(second)) if (++n === 3) break
  await t.rejects(second.summary, { code: 'ETL_ABORTED' })
  source.destroy() // .pipe() leaves the source open when the destination stops: close its cursor
  t.same((await client.query('SELECT 1 AS ok')).rows, [{ ok: 1 }])
})
