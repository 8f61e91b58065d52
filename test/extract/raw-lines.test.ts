import { isDeepStrictEqual } from 'node:util'
import t, { type Test } from 'tap'
import { formatLines } from '../../lib/csv/format.ts'
import { cachedLines } from '../../lib/csv/lines.ts'
import { pgSource } from '../../lib/extract/pg-source.ts'
import type { Batch, Row } from '../../lib/types.ts'
import { testDb } from '../support/pg.ts'

/**
 * Every batch's kept lines (made from PostgreSQL's text) against formatLines of its parsed rows; and, when `same`
 * (the source read the other way, COPY or cursor) is given, the rows and lines against that source's.
 */
async function compare(t: Test, source: AsyncIterable<Batch>, same?: AsyncIterable<Batch>): Promise<number> {
  let rows = 0
  let mismatches = 0
  const other = same?.[Symbol.asyncIterator]()
  let pending: Row[] = []
  for await (const batch of source) {
    if (other) {
      while (pending.length < batch.rows.length) {
        const next = await other.next()
        if (next.done) break
        pending = pending.concat(next.value.rows.map((r, i) => [...r, cachedLines(next.value.rows)?.[i]]))
      }
      const mine = batch.rows.map((r, i) => [...r, cachedLines(batch.rows)?.[i]])
      const theirs = pending.slice(0, mine.length)
      if (!same0(mine, theirs) && mismatches++ < 5) t.strictSame(mine, theirs, 'the same rows and lines by COPY and by cursor')
      pending = pending.slice(mine.length)
    }
    const kept = cachedLines(batch.rows)
    if (batch.rows.length && !kept && mismatches++ < 5) t.fail('a batch came without its lines')
    const want = formatLines(batch.rows, batch.columns)
    for (let i = 0; i < want.length; i++) {
      if (kept?.[i] !== want[i] && mismatches++ < 5) t.equal(kept?.[i], want[i], `row ${rows + i}: ${JSON.stringify(batch.rows[i])}`)
    }
    rows += batch.rows.length
  }
  if (other) t.equal((await other.next()).done, true, 'the other source has no more rows')
  t.equal(mismatches, 0, `no line differs from formatLines (${rows} rows)`)
  return rows
}

/** Deep equality without an assertion (NaN equals NaN). */
function same0(a: unknown, b: unknown): boolean {
  return isDeepStrictEqual(a, b)
}

const EDGE_FLOATS = [
  '0', '-0', '1', '-1', '0.1', '0.2', '0.30000000000000004', '1e-5', '0.0001', '0.00012345', '1e-7', '123456789012345',
  '1e15', '1e16', '1.5e300', '-2.5e-300', '4.9e-324', '1.7976931348623157e308', '2.2250738585072014e-308',
  '9007199254740993', '0.1e1', '5e-324', '123.456', '-0.000001', 'NaN', 'Infinity', '-Infinity', '1e21', '1e22', '999999999999999.9',
]

t.test('lines made from PostgreSQL text equal the lines formatted from the values, for every type', async (t) => {
  const { client, config } = await testDb(t)
  await client.query(`CREATE TABLE kinds (
    i2 int2, i4 int4, i8 int8, n numeric, f4 float4, f8 float8, b bool, txt text, vc varchar(20), bp char(3),
    d date, ts timestamp, tz timestamptz, j json, jb jsonb, u uuid, ai int4[], iv interval)`)
  await client.query(`INSERT INTO kinds VALUES
    (1, -2, 9007199254740993, 12.50, 1.1, -2.25, true, 'a,b "quoted"', 'x', 'ab', '2024-02-29', '2024-01-02 03:04:05.5',
     '2024-01-02 03:04:05+02', '"str"', '{"k": [1, 2]}', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{1,NULL}', '1 day'),
    (NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    (0, 0, -9223372036854775808, 0.0000001, '-0', '-0', false, '', '', '', '1970-01-01', '1970-01-01 00:00:00',
     '1970-01-01 00:00:00+00', '12', '"x,y"', '00000000-0000-0000-0000-000000000000', '{}', '-1 mon'),
    (3, 4, 5, 1e20, 'NaN', 'Infinity', true, E'line\\nbreak', 'semi;colon', 'c', '0001-01-01', 'infinity', '-infinity', 'null', 'null',
     NULL, '{3}', '0')`)
  for (const f of EDGE_FLOATS) {
    const x = Math.abs(Number(f))
    const fitsFloat4 = x === 0 || Number.isNaN(x) || x === Infinity || (x >= 1e-37 && x <= 3e38)
    await client.query('INSERT INTO kinds (f4, f8) VALUES ($1::float4, $2::float8)', [fitsFloat4 ? f : null, f])
  }
  for (const via of ['copy', 'cursor'] as const) {
    const rows = await compare(t, pgSource(config, { table: 'kinds' }, { keepLines: true, via }), pgSource(config, { table: 'kinds' }, { keepLines: true, via: via === 'copy' ? 'cursor' : 'copy' }))
    t.equal(rows, 4 + EDGE_FLOATS.length, via)
  }
})

t.test('doubles of every magnitude: the text PostgreSQL sends is the text String() writes (or the number is formatted)', async (t) => {
  const { client, config } = await testDb(t)
  // 200k doubles: random mantissas from 1e-8 to 1e17 (both sides of where PostgreSQL and JavaScript switch to
  // exponents), short decimals, and halfway-looking values; float4 from the same.
  await client.query(`CREATE TABLE doubles AS
    SELECT (random() - 0.5) * 10 ^ (g % 26 - 8) AS f8, ((random() - 0.5) * 10 ^ (g % 12 - 4))::float4 AS f4,
           round((random() * 1000)::numeric, g % 6)::float8 AS short, (g::float8 / 3) * 10 ^ (g % 5) AS third
      FROM generate_series(1, 200000) g`)
  t.equal(await compare(t, pgSource(config, { table: 'doubles' }, { keepLines: true, batchSize: 5000 }), pgSource(config, { table: 'doubles' }, { keepLines: true, via: 'cursor' })), 200000)
})

t.test('a session with extra_float_digits 0 or 3 still gives equal lines', async (t) => {
  const { client } = await testDb(t)
  await client.query(`CREATE TABLE few AS SELECT random() * 10 ^ (g % 20 - 6) AS f8, 0.1::float8 + 0.2 AS tricky FROM generate_series(1, 20000) g`)
  for (const digits of [0, -5, 3]) {
    await client.query(`SET extra_float_digits = ${digits}`)
    await t.test(`extra_float_digits ${digits}`, async (t) => {
      t.equal(await compare(t, pgSource(client, { table: 'few' }, { keepLines: true })), 20000)
    })
  }
})

t.test('without keepLines no lines are kept (a stage may change rows in place)', async (t) => {
  const { client, config } = await testDb(t)
  await client.query('CREATE TABLE plain AS SELECT g AS id, g * 0.5 AS half FROM generate_series(1, 10) g')
  for await (const batch of pgSource(config, { table: 'plain' })) t.equal(cachedLines(batch.rows), undefined)
})

t.test('COPY: records with line breaks and quotes across chunk boundaries, batch sizes, a query source', async (t) => {
  const { client, config } = await testDb(t)
  // Long text values with quotes and line breaks put record ends and quoted line breaks at every place in a chunk.
  await client.query(`CREATE TABLE texts AS
    SELECT g AS id, CASE WHEN g % 3 = 0 THEN repeat('a"b' || E'\\n', g % 50) WHEN g % 3 = 1 THEN repeat('x,', g % 70) ELSE '' END AS t,
           CASE WHEN g % 7 = 0 THEN NULL ELSE 'é€' || g END AS u, g % 2 = 0 AS b
      FROM generate_series(1, 30000) g`)
  for (const batchSize of [1, 7, 1000, 50000]) {
    await t.test(`batch size ${batchSize}`, async (t) => {
      const sizes: number[] = []
      const copy = pgSource(config, { table: 'texts' }, { keepLines: true, batchSize })
      copy.on('data', (b: Batch) => sizes.push(b.rows.length))
      t.equal(await compare(t, copy, pgSource(config, { table: 'texts' }, { keepLines: true, via: 'cursor', batchSize: 999 })), 30000)
      t.ok(sizes.slice(0, -1).every((n) => n === batchSize) && sizes.at(-1)! <= batchSize, 'every batch but the last holds batchSize rows')
    })
  }
  const q = await compare(t, pgSource(config, { query: 'SELECT id, t FROM texts WHERE id <= 100' }, { keepLines: true }), pgSource(config, { query: 'SELECT id, t FROM texts WHERE id <= $1', values: [100] }, { keepLines: true }))
  t.equal(q, 100, 'a query without values goes by COPY, the same query with values by cursor: the same rows')
  const empty = []
  for await (const b of pgSource(config, { query: 'SELECT * FROM texts WHERE false' })) empty.push(b)
  t.equal(empty.length, 1, 'an empty result still gives one batch')
  t.equal(empty[0]!.rows.length, 0)
  t.equal(empty[0]!.columns.length, 4)
})

t.test('COPY stopped early: the connection is closed, a pool stays usable', async (t) => {
  const { client, config } = await testDb(t)
  await client.query('CREATE TABLE many AS SELECT g AS id, md5(g::text) AS h FROM generate_series(1, 300000) g')
  const pg = (await import('pg')).default
  const pool = new pg.Pool({ ...config, max: 1 })
  t.teardown(() => pool.end())
  const pid = async (): Promise<number> => (await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid
  const before = await pid()
  let seen = 0
  for await (const b of pgSource(pool, { table: 'many' }, { batchSize: 100 })) {
    seen += b.rows.length
    if (seen >= 500) break
  }
  t.equal(seen, 500)
  const { rows } = await pool.query('SELECT count(*)::int AS n FROM many')
  t.same(rows, [{ n: 300000 }], 'the pool gives a working connection after the stop')
  t.not(await pid(), before, 'the connection of the stopped COPY was closed, not handed back mid-COPY')
  const ac = new AbortController()
  const s = pgSource(config, { table: 'many' }, { batchSize: 100, signal: ac.signal })
  let n = 0
  await t.rejects(async () => {
    for await (const b of s) {
      n += b.rows.length
      if (n >= 1000) ac.abort()
    }
  }, { name: 'AbortError' })
  const copies = async (): Promise<number> => (await client.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE query LIKE 'COPY (%many%' AND state = 'active' AND pid <> pg_backend_pid()")).rows[0]!.n
  let left = await copies()
  for (let i = 0; i < 50 && left > 0; i++) {
    await new Promise((r) => setTimeout(r, 100))
    left = await copies()
  }
  t.equal(left, 0, 'no COPY left running on the server')
})

t.test('via copy where COPY cannot be used is refused at once', async (t) => {
  const { client, config } = await testDb(t)
  t.throws(() => pgSource(config, { query: 'SELECT $1::int AS x', values: [1] }, { via: 'copy' }), { code: 'ETL_INVALID_OPTION', message: /COPY takes none/ })
  t.throws(() => pgSource(client, { query: 'SELECT 1 AS x' }, { via: 'copy' }), { code: 'ETL_INVALID_OPTION', message: /pg\.Client/ })
  t.throws(() => pgSource(config, { query: 'SELECT 1 AS x' }, { via: 'both' as 'copy' }), { code: 'ETL_INVALID_OPTION' })
  const rows = []
  for await (const b of pgSource(client, { query: 'SELECT 1 AS x' })) rows.push(...b.rows)
  t.same(rows, [[1]], 'a pg.Client is read by cursor by default')
})
