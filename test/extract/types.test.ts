import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import t from 'tap'
import { jsonText } from '../../lib/csv/format.ts'
import { csvSource } from '../../lib/csv/read.ts'
import { csvSink } from '../../lib/csv/stage-file.ts'
import { pgSource } from '../../lib/extract/pg-source.ts'
import { JSON_NULL } from '../../lib/extract/types.ts'
import type { Batch, Row } from '../../lib/types.ts'
import { testDb } from '../support/pg.ts'

async function collect(stream: AsyncIterable<Batch>): Promise<{ rows: Row[]; batches: Batch[] }> {
  const batches: Batch[] = []
  for await (const b of stream) batches.push(b)
  return { rows: batches.flatMap((b) => b.rows), batches }
}

t.test('common types map as documented and survive a CSV round trip', async (t) => {
  const { client, config } = await testDb(t)
  await client.query(`CREATE TABLE types (
    i2 int2, i4 int4, i8 int8, big int8, n numeric, nbig numeric, f4 float4, f8 float8, b bool,
    txt text, d date, ts timestamp, tz timestamptz, j json, jb jsonb, u uuid, ai int4[], at text[])`)
  await client.query(`INSERT INTO types VALUES
    (1, -2, 3, 9007199254740993, 12.50, 12345678901234567890.123, 1.5, -2.25, true,
     'a,b "quoted"\nline2 éü€', '2024-02-29', '2024-01-02 03:04:05.123456', '2024-01-02 03:04:05+02', '{"a":[1,2]}', '{"k": "v"}',
     'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{1,NULL,3}', '{"x,y","",NULL}'),
    (NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    (0, 0, 0, 0, 0, 0, 0, 0, false, '', '1970-01-01', '1970-01-01 00:00:00', '1970-01-01 00:00:00+00', 'null', '[]', '00000000-0000-0000-0000-000000000000', '{}', '{}')`)
  const source = pgSource(config, { query: 'SELECT * FROM types ORDER BY i2 NULLS LAST' })
  const { rows, batches } = await collect(source)
  const columns = batches[0]!.columns
  t.same(columns.map((c) => c.type), ['int2', 'int4', 'int8', 'int8', 'numeric', 'numeric', 'float4', 'float8', 'bool', 'text', 'date', 'timestamp', 'timestamptz', 'json', 'jsonb', 'uuid', '_int4', '_text'])
  t.same(rows[1], [1, -2, 3, '9007199254740993', 12.5, '12345678901234567890.123', 1.5, -2.25, true,
    'a,b "quoted"\nline2 éü€', '2024-02-29', '2024-01-02T03:04:05.123456Z', '2024-01-02T01:04:05Z', { a: [1, 2] }, { k: 'v' },
    'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', [1, null, 3], ['x,y', '', null]], 'values mapped (int8 past 2^53 and long numeric stay exact text)')
  t.same(rows[0], [0, 0, 0, 0, 0, 0, 0, 0, false, '', '1970-01-01', '1970-01-01T00:00:00Z', '1970-01-01T00:00:00Z', JSON_NULL, [], '00000000-0000-0000-0000-000000000000', [], []])
  t.equal(rows[0]![13], JSON_NULL, "json 'null' is a JSON null, not SQL NULL")
  t.ok(rows[2]!.every((v) => v === null), 'NULL in every column is null')

  const dir = await mkdtemp(join(tmpdir(), 'etl-types-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const file = join(dir, 'extracted.csv')
  await pipeline(pgSource(config, { query: 'SELECT * FROM types ORDER BY i2 NULLS LAST' }), csvSink(file))
  const text = await readFile(file, 'utf8')
  t.match(text, /^i2,i4,i8,big,n,nbig,f4,f8,b,txt,d,ts,tz,j,jb,u,ai,at\n/)
  t.match(text, /"a,b ""quoted""\nline2 éü€"/, 'text quoted per RFC 4180')
  const back = await collect(csvSource(file))
  t.same(back.batches[0]!.columns, columns, 'sidecar gives the columns back')
  t.same(back.rows[0], rows[0], 'empty string reads back as empty string, not NULL')
  t.same(back.rows[1], rows[1])
  t.same(back.rows[2], rows[2], 'NULLs read back as null')
})

t.test('a session in another time zone still gives UTC', async (t) => {
  const { client } = await testDb(t)
  await client.query(`SET TIME ZONE 'Asia/Kolkata'`)
  const { rows } = await collect(pgSource(client, { query: `SELECT '2024-06-01 12:00:00.5+00'::timestamptz AS tz` }))
  t.same(rows, [['2024-06-01T12:00:00.5Z']], 'converted to UTC, the fraction kept as PostgreSQL wrote it')
})

t.test('json values that are strings or numbers survive the CSV round trip as themselves', async (t) => {
  const { client, config } = await testDb(t)
  await client.query(`CREATE TABLE js AS SELECT * FROM (VALUES ('"2024-02-03"'::jsonb), ('"12"'::jsonb), ('12'::jsonb), ('"a,b"'::jsonb), ('true'::jsonb)) v(j)`)
  const dir = await mkdtemp(join(tmpdir(), 'etl-json-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const file = join(dir, 'x.csv')
  await pipeline(pgSource(config, { table: 'js' }), csvSink(file))
  const back = await collect(csvSource(file))
  t.same(back.rows, [['2024-02-03'], ['12'], [12], ['a,b'], [true]])
})

t.test('json numbers are kept exactly, a JSON null is not NULL, and both survive the stage files and the store', async (t) => {
  const { client, config } = await testDb(t)
  await client.query(`CREATE TABLE big (k jsonb, j json, f float8[], note text)`)
  await client.query(`INSERT INTO big VALUES
    ('12345678901234567890123', '{"n": 1e400, "m": 1.0, "z": -0}', '{Infinity,-Infinity,NaN,-0,1.5}', 'a'),
    ('12345678901234567890124', '[0.1000000000000000055511151231257827]', '{}', 'b'),
    ('null', 'null', NULL, 'c'),
    ('"123"', '123', NULL, 'd')`)
  const { rows } = await collect(pgSource(config, { query: 'SELECT * FROM big ORDER BY note' }))
  t.equal(JSON.stringify(rows[0]![0]), '12345678901234567890123')
  t.equal(JSON.stringify(rows[1]![0]), '12345678901234567890124', 'two keys a double would make one stay two')
  t.equal(JSON.stringify(rows[0]![1]), '{"n":1e400,"m":1.0,"z":-0}')
  t.same(rows[0]![2], [Infinity, -Infinity, NaN, -0, 1.5])
  t.ok(Object.is((rows[0]![2] as number[])[3], -0))
  t.equal(rows[2]![0], JSON_NULL)
  t.equal(rows[2]![2], null)
  t.same([rows[3]![0], rows[3]![1]], ['123', 123], 'a JSON string and a JSON number stay apart')

  const dir = await mkdtemp(join(tmpdir(), 'etl-json-exact-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const file = join(dir, 'x.csv')
  await pipeline(pgSource(config, { query: 'SELECT * FROM big ORDER BY note' }), csvSink(file))
  const text = await readFile(file, 'utf8')
  t.match(text, /\n12345678901234567890123,"{""n"":1e400,""m"":1.0,""z"":-0}","\[""Infinity"",""-Infinity"",""NaN"",-0,1.5\]",a\n/)
  t.match(text, /\nnull,null,,c\n"""123""",123,,d\n/, 'JSON null written null (not an empty field); a JSON string keeps its quotes')
  const back = await collect(csvSource(file))
  t.same(back.rows.map((r) => r.map(jsonText)), rows.map((r) => r.map(jsonText)))
  t.equal(back.rows[2]![0], JSON_NULL)
  t.ok(Object.is((back.rows[0]![2] as number[])[3], -0))
  t.same(back.rows[0]![2], [Infinity, -Infinity, NaN, -0, 1.5], 'float array specials read back as numbers')
})

t.test('what hashes or compares values tells apart what PostgreSQL tells apart: NaN, ±Infinity, -0 and exact JSON numbers in arrays', async (t) => {
  const { keyText } = await import('../../lib/transform/ids.ts')
  const { keyFn } = await import('../../lib/expectations/values.ts')
  const { parseJsonValue, parserFor } = await import('../../lib/extract/types.ts')
  const arrays = [[Infinity], [-Infinity], [NaN], [null], [1.5]]
  t.equal(new Set(arrays.map((a) => keyText([a]))).size, arrays.length, 'derived id key texts differ')
  const key = keyFn('json')
  t.equal(new Set(arrays.map(key)).size, arrays.length, 'expectation keys differ')
  t.not(key(parseJsonValue('12345678901234567890123')), key(parseJsonValue('12345678901234567890124')))
  t.not(key(parseJsonValue('{"a": 1.0}')), key(parseJsonValue('{"a": 1}')), 'jsonb keeps 1.0 and 1 apart in its text')
  t.same(parserFor('_box')('{(1,1),(0,0);(2,2),(1,1)}'), ['(1,1),(0,0)', '(2,2),(1,1)'], "box[] splits on ';'")
  t.equal(parserFor('_int4')('[0:1]={1,2}'), '[0:1]={1,2}', 'an array not starting at 1 stays its text')
  t.equal(parserFor('json')('{"a": 1, "a": 2}'), '{"a": 1, "a": 2}', 'a json key twice: the text')
  t.same(parserFor('date')('0044-03-15 BC'), '-0043-03-15')
  t.same(parserFor('timestamptz')('10000-01-01 00:00:00+00'), '+10000-01-01T00:00:00Z')
})
