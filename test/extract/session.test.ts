// The settings that shape value text are ours in every session: a role's, a URL's `?options=` and PGOPTIONS
// do not change what is extracted, and the user's other options are kept.
import { randomBytes } from 'node:crypto'
import t, { type Test } from 'tap'
import pg from 'pg'
import { connect, sessionConfig, SESSION_SETTINGS, type DbConfig } from '../../lib/extract/connect.ts'
import { pgSource } from '../../lib/extract/pg-source.ts'
import type { Batch, Row } from '../../lib/types.ts'
import { baseDatabase, testDb } from '../support/pg.ts'

async function rowsOf(stream: AsyncIterable<Batch>): Promise<Row[]> {
  const rows: Row[] = []
  for await (const b of stream) rows.push(...b.rows)
  return rows
}

const probe = `SELECT '2024-02-29 13:04:05.5'::timestamp AS ts, '2024-02-29 13:04:05+00'::timestamptz AS tz, '2024-02-29'::date AS d,
  0.1::float8 AS f, '1 day -02:00:00'::interval AS i, '\\x00ff'::bytea AS b, 1234.5::money AS m, current_setting('search_path') AS sp`
const expected = ['2024-02-29T13:04:05.5Z', '2024-02-29T13:04:05Z', '2024-02-29', 0.1, '1 day -02:00:00', '\\x00ff', '$1,234.50']

/** A role of this test with hostile settings (dropped at teardown). */
async function hostileRole(t: Test, admin: pg.Client): Promise<string> {
  const role = `etl_s_${randomBytes(4).toString('hex')}`
  await admin.query(`CREATE ROLE ${role} LOGIN`)
  t.teardown(async () => {
    const c = await connect(await baseDatabase())
    await c.query(`DROP ROLE IF EXISTS ${role}`)
    await c.end()
  })
  for (const [k, v] of Object.entries({ DateStyle: 'SQL, DMY', IntervalStyle: 'sql_standard', extra_float_digits: '-15', TimeZone: 'Asia/Kathmandu', bytea_output: 'escape' }))
    await admin.query(`ALTER ROLE ${role} SET ${k} = '${v}'`)
  return role
}

t.test('a role with its own DateStyle, IntervalStyle, extra_float_digits, TimeZone and bytea_output gets ours', async (t) => {
  const { client } = await testDb(t)
  const base = await baseDatabase()
  const role = await hostileRole(t, client)
  for (const via of ['copy', 'cursor'] as const) {
    const rows = await rowsOf(pgSource({ ...base, user: role }, { query: probe }, { via }))
    t.same(rows[0]!.slice(0, 7), expected, `${via}: the values are those of our settings`)
  }
})

t.test("a URL's ?options= and PGOPTIONS are merged with ours, not replaced", async (t) => {
  const { client, schema } = await testDb(t)
  const base = await baseDatabase()
  const role = await hostileRole(t, client)
  const url = `postgres://${role}@${base.host ?? '127.0.0.1'}:${base.port ?? 5432}/${base.database ?? 'postgres'}`
  const options = encodeURIComponent(`-c search_path=${schema} -c DateStyle=German -c TimeZone=America/St_Johns`)
  const rows = await rowsOf(pgSource(`${url}?options=${options}`, { query: probe }))
  t.same(rows[0], [...expected, schema], "the URL's search_path kept, its DateStyle and TimeZone overruled")

  const merged = sessionConfig({ connectionString: url }, { PGOPTIONS: `-c search_path=${schema} -c extra_float_digits=0` })
  t.match(merged.options, new RegExp(`^-c search_path=${schema} -c extra_float_digits=0 .*-c extra_float_digits=3`), 'PGOPTIONS first, ours after')
  const c = new pg.Client(merged)
  await c.connect()
  const { rows: shown } = await c.query(`SELECT current_setting('search_path') AS sp, current_setting('extra_float_digits') AS efd`)
  await c.end()
  t.same(shown, [{ sp: schema, efd: '3' }])
  t.equal(sessionConfig({ connectionString: `${url}?options=${options}&sslmode=disable` }).connectionString, `${url}?sslmode=disable`, 'the URL loses only its options')
})

t.test("a caller's own connection gets our settings for the read and its own back after", async (t) => {
  const { client } = await testDb(t)
  await client.query(`SET DateStyle = 'German'; SET extra_float_digits = 0; SET TimeZone = 'Asia/Kolkata'`)
  const rows = await rowsOf(pgSource(client, { query: probe }))
  t.same(rows[0]!.slice(0, 7), expected)
  const { rows: after } = await client.query(`SELECT current_setting('DateStyle') AS ds, current_setting('extra_float_digits') AS efd, current_setting('TimeZone') AS tz`)
  t.same(after, [{ ds: 'German, DMY', efd: '0', tz: 'Asia/Kolkata' }])
  const pool = new pg.Pool({ ...(await baseDatabase()), max: 1, options: '-c DateStyle=Postgres' } as DbConfig)
  t.teardown(() => pool.end())
  t.same((await rowsOf(pgSource(pool, { query: probe })))[0]!.slice(0, 7), expected, 'a pool client too')
  const { rows: pooled } = await pool.query(`SELECT current_setting('DateStyle') AS ds`)
  t.same(pooled, [{ ds: 'Postgres, MDY' }], 'and it goes back to the pool as it came')
  t.same(Object.keys(SESSION_SETTINGS).sort(), ['DateStyle', 'IntervalStyle', 'TimeZone', 'bytea_output', 'client_encoding', 'extra_float_digits', 'lc_monetary', 'quote_all_identifiers', 'xmlbinary'].sort())
})
