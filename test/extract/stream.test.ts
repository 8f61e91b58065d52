import { once } from 'node:events'
import { setTimeout as sleep } from 'node:timers/promises'
import { pipeline } from 'node:stream/promises'
import { Writable } from 'node:stream'
import pg from 'pg'
import t from 'tap'
import { EtlError } from '../../lib/errors.ts'
import { pgSource } from '../../lib/extract/pg-source.ts'
import { columnStatsFromPg } from '../../lib/expectations/prepass.ts'
import type { Batch } from '../../lib/types.ts'
import { testDb } from '../support/pg.ts'

t.test('empty table: one batch with the columns and no rows', async (t) => {
  const { client } = await testDb(t)
  await client.query('CREATE TABLE empty (a int4, b text)')
  const batches: Batch[] = []
  const source = pgSource(client, { table: 'empty' })
  for await (const b of source) batches.push(b)
  t.equal(batches.length, 1)
  t.same(batches[0]!.rows, [])
  t.same(await source.columns, [{ name: 'a', type: 'int4' }, { name: 'b', type: 'text' }])
})

t.test('one row', async (t) => {
  const { client } = await testDb(t)
  await client.query(`CREATE TABLE one AS SELECT 1 AS a, 'x'::text AS b`)
  const rows = []
  for await (const b of pgSource(client, { table: 'ONE' })) rows.push(...(b as Batch).rows)
  t.same(rows, [[1, 'x']], 'unquoted names fold to lowercase like PostgreSQL')
})

t.test('more rows than a batch with a slow consumer: every row once, in order, bounded buffering', async (t) => {
  const { client } = await testDb(t)
  const source = pgSource(client, { query: 'SELECT g FROM generate_series(1, $1::int) g', values: [2500] }, { batchSize: 100 })
  let expected = 1
  let maxBuffered = 0
  await pipeline(source, new Writable({
    objectMode: true,
    highWaterMark: 1,
    write(batch: Batch, _e, cb) {
      for (const [g] of batch.rows) if (g !== expected++) return cb(new Error(`out of order at ${g}`))
      maxBuffered = Math.max(maxBuffered, source.readableLength)
      setTimeout(cb, 2)
    },
  }))
  t.equal(expected, 2501)
  t.equal(source.rowCount, 2500)
  t.ok(maxBuffered <= 2, `at most 2 batches buffered (saw ${maxBuffered})`)
})

t.test('an error mid-stream surfaces once, closes the cursor, client stays usable', async (t) => {
  const { client } = await testDb(t)
  const source = pgSource(client, { query: 'SELECT 1 / (g - 550) AS x FROM generate_series(1, 1000) g' }, { batchSize: 100 })
  let errors = 0
  source.on('error', () => errors++)
  let rows = 0
  const err = await (async () => {
    try {
      for await (const b of source) rows += (b as Batch).rows.length
    } catch (e) {
      return e
    }
    return undefined
  })()
  t.ok(err instanceof EtlError)
  t.equal((err as EtlError).code, 'ETL_DB_QUERY')
  t.match((err as EtlError).message, /division by zero/)
  t.equal(errors, 1, 'error emitted once')
  t.ok(rows < 1000)
  t.same((await client.query('SELECT 1 AS ok')).rows, [{ ok: 1 }])
})

t.test('early break closes the cursor; the client is usable afterwards', async (t) => {
  const { client } = await testDb(t)
  let n = 0
  for await (const b of pgSource(client, { query: 'SELECT g FROM generate_series(1, 1000000) g' }, { batchSize: 10 })) {
    n += (b as Batch).rows.length
    if (n >= 25) break
  }
  t.equal(n, 30)
  t.same((await client.query('SELECT 1 AS ok')).rows, [{ ok: 1 }])
})

t.test('destroy before the first read', async (t) => {
  const { client } = await testDb(t)
  const source = pgSource(client, { query: 'SELECT g FROM generate_series(1, 10) g' })
  let data = 0
  source.on('data', () => data++)
  source.destroy()
  await new Promise((resolve) => source.on('close', resolve))
  t.equal(data, 0, 'no batch after destroy')
  t.equal(source.destroyed, true)
  await sleep(20)
  t.same((await client.query('SELECT 2 AS ok')).rows, [{ ok: 2 }])
})

t.test('a pool client is released, with the error when the connection broke', async (t) => {
  const { config, client } = await testDb(t)
  const pool = new pg.Pool({ ...config, max: 1 })
  t.teardown(() => pool.end())
  for await (const b of pgSource(pool, { query: 'SELECT 1 AS a' })) t.same((b as Batch).rows, [[1]])
  t.equal(pool.idleCount, 1, 'released back to the pool')
  const { rows } = await pool.query('SELECT pg_backend_pid() AS pid')
  const pid = rows[0].pid
  const source = pgSource(pool, { query: 'SELECT g, pg_sleep(0.001) FROM generate_series(1, 100000) g' }, { batchSize: 50 })
  const err = await (async () => {
    try {
      let first = true
      for await (const _ of source) {
        if (first) await client.query('SELECT pg_terminate_backend($1)', [pid])
        first = false
      }
    } catch (e) {
      return e
    }
    return undefined
  })()
  t.equal((err as EtlError)?.code, 'ETL_DB_CONNECTION_LOST')
  await sleep(50)
  t.equal(pool.totalCount, 0, 'the broken connection was discarded, not returned')
  t.same((await pool.query('SELECT 3 AS ok')).rows, [{ ok: 3 }], 'pool works again with a new connection')
})

t.test('bad options and names', async (t) => {
  const { client } = await testDb(t)
  t.throws(() => pgSource(client, { table: 'x' }, { batchSize: 0 }), { code: 'ETL_INVALID_OPTION', message: 'Invalid option batchSize: expected a positive integer, got 0' })
  await client.query('CREATE TABLE victim (a int)')
  const drop = pgSource(client, { table: 'prostate; DROP TABLE victim' })
  const [dropErr] = await once(drop, 'error')
  t.match(dropErr, { code: 'ETL_UNKNOWN_TABLE', message: 'table not found: prostate; DROP TABLE victim (looked up as "prostate; drop table victim")' })
  await t.rejects(drop.columns, { code: 'ETL_UNKNOWN_TABLE' })
  t.same((await client.query(`SELECT to_regclass('victim') IS NOT NULL AS here`)).rows, [{ here: true }], 'injection not executed')
  const bad = pgSource(client, { query: 'SELEC nonsense' })
  const [badErr] = await once(bad, 'error')
  t.match(badErr, { code: 'ETL_DB_QUERY', message: /syntax error/ })
})

t.test('a query ending in a -- comment reads, through COPY, the cursor and the prepass', async (t) => {
  const { config, client } = await testDb(t)
  const query = 'SELECT g AS x FROM generate_series(1, 3) g -- the last line is a comment'
  for (const via of ['copy', 'cursor'] as const) {
    const rows: unknown[] = []
    for await (const b of pgSource(config, { query }, { via }) as AsyncIterable<Batch>) rows.push(...b.rows)
    t.same(rows, [[1], [2], [3]], via)
  }
  const stats = await columnStatsFromPg(client, { query }, ['x'])
  t.same(stats, { x: { count: 3, mean: 2, stdev: 1 } })
  t.same(await columnStatsFromPg(client, { query }, ['nosuch']), {}, 'a missing column is left out (its expectation reports it), not a query error')
  await t.rejects(columnStatsFromPg(client, { query: 'SELEC 1' }, ['x']), { code: 'ETL_DB_QUERY' }, 'a source that fails is')
})
