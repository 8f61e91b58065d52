import t, { type Test } from 'tap'
import { formatLines } from '../../lib/csv/format.ts'
import { cachedLines } from '../../lib/csv/lines.ts'
import { pgSource } from '../../lib/extract/pg-source.ts'
import type { Batch } from '../../lib/types.ts'
import { testDb } from '../support/pg.ts'

/** Every batch's kept lines (made from PostgreSQL's text) against formatLines of its parsed rows. */
async function compare(t: Test, source: AsyncIterable<Batch>): Promise<number> {
  let rows = 0
  let mismatches = 0
  for await (const batch of source) {
    const kept = cachedLines(batch.rows)
    if (batch.rows.length) t.ok(kept, 'the batch came with its lines')
    const want = formatLines(batch.rows, batch.columns)
    for (let i = 0; i < want.length; i++) {
      if (kept?.[i] !== want[i] && mismatches++ < 5) t.equal(kept?.[i], want[i], `row ${rows + i}: ${JSON.stringify(batch.rows[i])}`)
    }
    rows += batch.rows.length
  }
  t.equal(mismatches, 0, `no line differs from formatLines (${rows} rows)`)
  return rows
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
  const rows = await compare(t, pgSource(config, { table: 'kinds' }, { keepLines: true }))
  t.equal(rows, 4 + EDGE_FLOATS.length)
})

t.test('doubles of every magnitude: the text PostgreSQL sends is the text String() writes (or the number is formatted)', async (t) => {
  const { client, config } = await testDb(t)
  // 200k doubles: random mantissas from 1e-8 to 1e17 (both sides of where PostgreSQL and JavaScript switch to
  // exponents), short decimals, and halfway-looking values; float4 from the same.
  await client.query(`CREATE TABLE doubles AS
    SELECT (random() - 0.5) * 10 ^ (g % 26 - 8) AS f8, ((random() - 0.5) * 10 ^ (g % 12 - 4))::float4 AS f4,
           round((random() * 1000)::numeric, g % 6)::float8 AS short, (g::float8 / 3) * 10 ^ (g % 5) AS third
      FROM generate_series(1, 200000) g`)
  t.equal(await compare(t, pgSource(config, { table: 'doubles' }, { keepLines: true, batchSize: 5000 })), 200000)
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
