/**
 * transformCsv (what `etl transform` runs): extracted.csv written by csvSink
 * from a real table -> transformed.csv + sidecar with the two new columns,
 * read back typed; derived ids equal to those of the one-pass stream; errors
 * leave no file behind.
 */
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import t from 'tap'
import { csvSource } from '../../lib/csv/read.ts'
import { readSidecar } from '../../lib/csv/schema.ts'
import { csvSink } from '../../lib/csv/stage-file.ts'
import { pgSource } from '../../lib/extract/pg-source.ts'
import { stamp, transformCsv } from '../../lib/transform/index.ts'
import type { Batch, Row } from '../../lib/types.ts'
import { testDb } from '../support/pg.ts'

async function readAll(path: string): Promise<Row[]> {
  const rows: Row[] = []
  await pipeline(csvSource(path), new Writable({ objectMode: true, write: (b: Batch, _e, cb) => (rows.push(...b.rows), cb()) }))
  return rows
}

const TABLE = `CREATE TABLE p ("Patient" int4, "lPSA" float8, gleason int4, note text, seen timestamptz, tags jsonb);
  INSERT INTO p SELECT g, g / 8.0, 6 + g % 4, CASE WHEN g % 5 = 0 THEN NULL WHEN g % 7 = 0 THEN '' ELSE 'n, "' || g || '"' END,
    CASE WHEN g % 3 = 0 THEN NULL ELSE timestamptz '2024-01-01 00:00:00+00' + g * interval '1 minute' END, jsonb_build_object('g', g)
  FROM generate_series(1, 2500) g`

t.test('round trip: extracted.csv -> transformed.csv (+ sidecar), values typed as before, two new columns', async (t) => {
  const { client } = await testDb(t)
  await client.query(TABLE)
  const dir = t.testdir()
  const input = join(dir, 'extracted.csv')
  const output = join(dir, 'transformed.csv')
  await pipeline(pgSource(client, { query: 'SELECT * FROM p ORDER BY "Patient"' }), csvSink(input))
  const extracted = await readAll(input)

  const runTime = new Date('2024-06-07T08:09:10.111Z')
  const summary = await transformCsv({ input, output, id: 'derived', key: ['patient'], runTime, missing: { columns: { seen: 'drop', note: { fill: 'none' } } }, batchSize: 300 })
  const sidecar = await readSidecar(output)
  t.same(sidecar.columns, [
    { name: 'patient', type: 'int4' }, { name: 'lpsa', type: 'float8' }, { name: 'gleason', type: 'int4' }, { name: 'note', type: 'text' },
    { name: 'seen', type: 'timestamptz' }, { name: 'tags', type: 'jsonb' }, { name: 'user_id', type: 'text' }, { name: 'datetime', type: 'timestamptz' },
  ])
  t.equal(sidecar.rows, 1667)
  t.equal((await readFile(output, 'utf8')).split('\n')[0], 'patient,lpsa,gleason,note,seen,tags,user_id,datetime')

  const transformed = await readAll(output)
  const kept = extracted.filter((r) => r[4] !== null)
  t.equal(transformed.length, kept.length)
  t.same(transformed.map((r) => r.slice(0, 6)), kept.map((r) => [r[0], r[1], r[2], r[3] ?? 'none', r[4], r[5]]), 'the values read back as they were (empty string stays apart from NULL)')
  t.ok(transformed.every((r) => r[7] === '2024-06-07T08:09:10.111Z'))
  t.same(
    { rows: summary.rows, dropped: summary.dropped, missing: summary.missing, filled: summary.filled, file: summary.file, id: summary.id, datetime: summary.datetime, runTime: summary.runTime },
    { rows: 1667, dropped: 833, missing: { patient: 0, lpsa: 0, gleason: 0, note: 500, seen: 833, tags: 0 }, filled: { note: 334 }, file: output, id: 'derived', datetime: 'run', runTime: '2024-06-07T08:09:10.111Z' },
  )
  t.ok(summary.durationMs >= 0)
  t.same(summary.columns, sidecar.columns)

  // The one-pass run stamps the rows straight from PostgreSQL: the same derived ids.
  const direct: Row[] = []
  await pipeline(pgSource(client, { table: 'p' }), stamp({ id: 'derived', key: ['patient'] }), new Writable({ objectMode: true, write: (b: Batch, _e, cb) => (direct.push(...b.rows), cb()) }))
  const directIds = new Map(direct.map((r) => [r[0], r[6]]))
  t.ok(transformed.every((r) => directIds.get(r[0]) === r[6]), 'derived ids from the CSV equal those from the database')
  t.same((await readdir(dir)).sort(), ['extracted.csv', 'extracted.schema.json', 'transformed.csv', 'transformed.schema.json'], 'no temporary file left')
})

t.test('an empty extracted.csv gives a transformed.csv with the header only', async (t) => {
  const { client } = await testDb(t)
  await client.query('CREATE TABLE e (a int4, "B" text)')
  const dir = t.testdir()
  await pipeline(pgSource(client, { table: 'e' }), csvSink(join(dir, 'extracted.csv')))
  const s = await transformCsv({ input: join(dir, 'extracted.csv'), output: join(dir, 'transformed.csv'), id: 'sequential' })
  t.equal(s.rows, 0)
  t.equal(await readFile(join(dir, 'transformed.csv'), 'utf8'), 'a,b,user_id,datetime\n')
  t.same((await readSidecar(join(dir, 'transformed.csv'))).columns.at(-2), { name: 'user_id', type: 'int8' })
})

t.test('errors: checked before any row is read, and no output left behind', async (t) => {
  const { client } = await testDb(t)
  const dir = t.testdir()
  const input = join(dir, 'extracted.csv')
  const output = join(dir, 'transformed.csv')
  await t.rejects(transformCsv({ input, output }), { code: 'ETL_INPUT', message: `input file not found: ${input}` })
  await client.query('CREATE TABLE c ("2nd value" int4, user_id int4); INSERT INTO c VALUES (1, 1)')
  await pipeline(pgSource(client, { table: 'c' }), csvSink(input))
  await t.rejects(transformCsv({ input, output }), { code: 'ETL_COLUMN_NAME', message: /^column "2nd value" cannot be a feature name/ })
  await t.rejects(transformCsv({ input, output: input }), { code: 'ETL_INVALID_OPTION', message: /^Invalid option output: expected a file other than input/ })
  await t.rejects(transformCsv({ input, output, batchSize: 0 }), { code: 'ETL_INVALID_OPTION', message: 'Invalid option batchSize: expected a positive integer, got 0' })

  await client.query('CREATE TABLE d (id int4, v text); INSERT INTO d SELECT g, NULLIF(g, 1500)::text FROM generate_series(1, 3000) g; UPDATE d SET id = NULL WHERE id = 2000')
  await pipeline(pgSource(client, { query: 'SELECT * FROM d ORDER BY v::int NULLS FIRST' }), csvSink(input))
  await t.rejects(transformCsv({ input, output, id: 'derived', key: ['id'] }), { code: 'ETL_TRANSFORM', message: /^row 2000: key column "id" is NULL/ }, "a NULL key mid-file (the NULL v sorts first: v 2000 is row 2000)")
  const abort = new AbortController()
  abort.abort()
  await t.rejects(transformCsv({ input, output, signal: abort.signal }), { name: 'AbortError' })
  t.same((await readdir(dir)).sort(), ['extracted.csv', 'extracted.schema.json'], 'no transformed.csv, no temporary file')
})
