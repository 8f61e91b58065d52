/**
 * The validating stage's stream contract: empty input, one row, many batches
 * with a slow consumer, an error mid-stream, early destroy; 'invalid' and
 * 'summary' events; the mergeable state.
 */
import { Readable, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import t from 'tap'
import { compile } from '../../lib/expectations/engine.ts'
import { parseSuite } from '../../lib/expectations/suite.ts'
import { pgSource } from '../../lib/extract/pg-source.ts'
import type { Batch, Column, Row } from '../../lib/types.ts'
import { validate } from '../../lib/validate/validate.ts'
import { testDb } from '../support/pg.ts'

const suite = parseSuite({
  expectation_suite_name: 's',
  expectations: [
    { expectation_type: 'expect_column_values_to_be_between', kwargs: { column: 'g', min_value: 1, max_value: 2000 }, meta: { id: 'g-range' } },
    { expectation_type: 'expect_column_values_to_not_be_in_set', kwargs: { column: 'g', value_set: [7, 2400] }, meta: { id: 'g-not-7' } },
    { expectation_type: 'expect_column_values_to_be_unique', kwargs: { column: 'g' } },
    { expectation_type: 'expect_column_mean_to_be_between', kwargs: { column: 'g', min_value: 0 } },
  ],
})

const nullSink = (): Writable => new Writable({ objectMode: true, write: (_b, _e, cb) => cb() })

t.test('empty input: no batch at all, or one batch with no rows', async (t) => {
  const table = parseSuite({ expectations: [{ expectation_type: 'expect_table_row_count_to_equal', kwargs: { value: 0 } }] })
  const none = validate({ suite: table })
  await pipeline(Readable.from([]), none, nullSink())
  const s = await none.summary
  t.equal(s.rows, 0)
  t.equal(s.batches, 0)
  t.equal(s.result.success, true)

  const { client } = await testDb(t)
  await client.query('CREATE TABLE e (g int4)')
  const stage = validate({ suite })
  const seen: Batch[] = []
  await pipeline(pgSource(client, { table: 'e' }), stage, new Writable({ objectMode: true, write: (b, _e, cb) => (seen.push(b), cb()) }))
  const summary = await stage.summary
  t.equal(seen.length, 1, 'the empty batch flows on: it carries the columns')
  t.same(summary.result.results.map((r) => r.success), [true, true, true, false], 'vacuously true, and no mean on no rows')
  t.equal(summary.result.results[3]!.result.observed_value, null)
})

t.test('one row', async (t) => {
  const { client } = await testDb(t)
  const stage = validate({ suite })
  await pipeline(pgSource(client, { query: 'SELECT 7::int4 AS g' }), stage, nullSink())
  const s = await stage.summary
  t.equal(s.rows, 1)
  t.equal(s.invalidRows, 1)
  t.same(s.result.results.map((r) => r.success), [true, false, true, true])
})

t.test('many batches, slow consumer: batches pass unchanged and in order; summary before end', async (t) => {
  const { client } = await testDb(t)
  const source = pgSource(client, { query: 'SELECT g::int4 AS g FROM generate_series(1, 2500) g' }, { batchSize: 100 })
  const stage = validate({ suite })
  const order: string[] = []
  const invalid: [Row, string[], number][] = []
  stage.on('invalid', (row: Row, ids: string[], n: number) => invalid.push([row, ids, n]))
  stage.on('summary', () => order.push('summary'))
  stage.on('end', () => order.push('end'))
  let next = 1
  let maxBuffered = 0
  await pipeline(source, stage, new Writable({
    objectMode: true,
    highWaterMark: 1,
    write(batch: Batch, _e, cb) {
      for (const [g] of batch.rows) if (g !== next++) return cb(new Error(`out of order at ${g}`))
      maxBuffered = Math.max(maxBuffered, stage.readableLength + stage.writableLength)
      setTimeout(cb, 1)
    },
  }))
  t.equal(next, 2501, 'every row once, in order (policy keep)')
  t.same(order, ['summary', 'end'])
  t.ok(maxBuffered <= 4, `bounded buffering (saw ${maxBuffered})`)
  const s = await stage.summary
  t.same([s.rows, s.batches, s.invalidRows, s.quarantinedRows], [2500, 25, 501, 0])
  t.same(invalid[0], [[7], ['g-not-7'], 6])
  t.same(invalid[1], [[2001], ['g-range'], 2000])
  t.same(invalid.at(-1), [[2500], ['g-range'], 2499])
  t.same(invalid.find(([r]) => r[0] === 2400)?.[1], ['g-range', 'g-not-7'], 'every failed id of the row')
  t.equal(s.result.results[0]!.result.unexpected_count, 500)
  t.equal(s.result.results[3]!.result.observed_value, 1250.5)
})

t.test('an error mid-stream surfaces once and the summary rejects with it', async (t) => {
  const { client } = await testDb(t)
  const stage = validate({ suite })
  let errors = 0
  stage.on('error', () => errors++)
  const source = pgSource(client, { query: 'SELECT (1 / (g - 550))::int4 AS g FROM generate_series(1, 1000) g' }, { batchSize: 100 })
  const err = await pipeline(source, stage, nullSink()).then(() => undefined, (e: unknown) => e)
  t.match(err, { code: 'ETL_DB_QUERY' })
  await t.rejects(stage.summary, { code: 'ETL_DB_QUERY' })
  t.ok(errors <= 1, 'at most one error event on the stage')
  t.same((await client.query('SELECT 1 AS ok')).rows, [{ ok: 1 }], 'the client stays usable')
})

t.test('destroy before the end: the summary rejects with ETL_ABORTED; early break too', async (t) => {
  const stage = validate({ suite })
  stage.destroy()
  await t.rejects(stage.summary, { code: 'ETL_ABORTED', message: 'validation stopped before its input ended' })

  const { client } = await testDb(t)
  const second = validate({ suite })
  const source = pgSource(client, { query: 'SELECT g::int4 AS g FROM generate_series(1, 100000) g' }, { batchSize: 100 })
  let n = 0
  for await (const _ of source.pipe(second)) if (++n === 3) break
  await t.rejects(second.summary, { code: 'ETL_ABORTED' })
  source.destroy() // .pipe() leaves the source open when the destination stops: close its cursor
})

t.test('faults fail the stream: catch_exceptions false, columns changing mid-stream', async (t) => {
  const strict = parseSuite({ expectations: [{ expectation_type: 'expect_column_values_to_not_be_null', kwargs: { column: 'nope', catch_exceptions: false } }] })
  const cols: Column[] = [{ name: 'g', type: 'int4' }]
  const s1 = validate({ suite: strict })
  await t.rejects(pipeline(Readable.from([{ columns: cols, rows: [[1]] }]), s1, nullSink()), { code: 'ETL_EXPECTATION' })
  await t.rejects(s1.summary, { code: 'ETL_EXPECTATION' })

  const s2 = validate({ suite })
  const batches = [{ columns: cols, rows: [[1]] }, { columns: [{ name: 'h', type: 'text' }], rows: [['x']] }]
  await t.rejects(pipeline(Readable.from(batches), s2, nullSink()), { code: 'ETL_INPUT', message: /the columns changed mid-stream/ })
})

t.test('options are checked at once', async (t) => {
  t.throws(() => validate({ suite, policy: 'drop' as 'keep' }), { code: 'ETL_INVALID_OPTION', message: 'Invalid option policy: expected "keep" or "quarantine", got "drop"' })
  t.throws(() => validate({ suite, policy: 'quarantine' }), { code: 'ETL_INVALID_OPTION', message: /Invalid option quarantine/ })
  t.throws(() => validate({ suite: {} as typeof suite }), { code: 'ETL_INVALID_OPTION' })
})

t.test('the state is mergeable: two stages on two halves, merged as JSON, equal the whole', async (t) => {
  const cols: readonly Column[] = Object.freeze([{ name: 'g', type: 'int4' }])
  const rows: Row[] = Array.from({ length: 3000 }, (_, i) => [(i * 7919) % 2600])
  const batchesOf = (rs: Row[]): Batch[] => Array.from({ length: Math.ceil(rs.length / 250) }, (_, k) => ({ columns: cols, rows: rs.slice(k * 250, k * 250 + 250) }))
  const run = async (rs: Row[]) => {
    const stage = validate({ suite, clock: () => new Date(0) })
    await pipeline(Readable.from(batchesOf(rs)), stage, nullSink())
    return { stage, summary: await stage.summary }
  }
  const whole = await run(rows)
  const a = await run(rows.slice(0, 1234))
  const b = await run(rows.slice(1234))
  const c = compile(suite, cols)
  const fromA = c.fromJSON(JSON.parse(JSON.stringify(a.stage.stateJSON())))
  const fromB = c.fromJSON(JSON.parse(JSON.stringify(b.stage.stateJSON())))
  t.same(c.finish(c.merge(fromA, fromB), { validationTime: new Date(0).toISOString() }), whole.summary.result)
  t.equal(whole.stage.state!.rows, 3000)
  t.equal(whole.stage.compiled!.rowLevel.length, 2, 'between and not_in_set are row-level; unique and mean are not')
})
