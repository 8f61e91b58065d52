import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { parse } from 'csv-parse/sync'
import t from 'tap'
import { featureGroupDto } from '../../lib/load/feature-group.ts'
import { localSink } from '../../lib/load/local-sink.ts'
import type { Row } from '../../lib/types.ts'
import { batches, prostateColumns, prostateRow, prostateRows } from '../support/hopsworks/data.ts'

async function dataDir(t: { teardown(fn: () => unknown): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'etl-local-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  return dir
}

async function load(dir: string, rows: Row[], extra: object = {}) {
  const sink = await localSink({ dataDir: dir, columns: prostateColumns, ...extra })
  await pipeline(batches(prostateColumns, rows, 250), sink.writable)
  return sink.commit()
}

/** The file of bucket `i`, as the manifest names it. */
async function part(folder: string, i: number): Promise<string> {
  const m = JSON.parse(await readFile(join(folder, 'manifest.json'), 'utf8')) as { parts: { file: string }[] }
  return join(folder, m.parts[i]!.file)
}

/** Every row of the local feature group, as CSV records keyed by user_id. */
async function stored(folder: string): Promise<Map<string, Record<string, string>>> {
  const out = new Map<string, Record<string, string>>()
  for (const f of (await readdir(folder)).filter((x) => x.endsWith('.csv')).sort()) {
    for (const r of parse(await readFile(join(folder, f)), { columns: true }) as Record<string, string>[]) {
      if (out.has(r['user_id']!)) throw new Error(`duplicate user_id ${r['user_id']}`)
      out.set(r['user_id']!, r)
    }
  }
  return out
}


// Many loads, each synced to disk: on a busy 2-core machine this file can pass the runner's 120 s.
t.setTimeout(600_000)

t.test('commit renames the staged folder into place, with feature_group.json', async (t) => {
  const dir = await dataDir(t)
  const summary = await load(dir, prostateRows(1000))
  const folder = join(dir, 'feature_store', 'prostate_group_1')
  t.same(summary, { sink: 'local', rows: 1000, report: { write: 'merge', inserted: 1000, updated: 0, unchanged: 0, deleted: 0, rowsBefore: 0, rowsAfter: 1000 }, featureGroup: { name: 'prostate_group', version: 1 }, location: folder, columns: prostateColumns })
  t.same(await readdir(join(dir, 'feature_store')), ['prostate_group_1'], 'no staging folder left')
  t.same(JSON.parse(await readFile(join(folder, 'feature_group.json'), 'utf8')), featureGroupDto(prostateColumns), 'the schema Hopsworks would get')
  const rows = await stored(folder)
  t.equal(rows.size, 1000)
  const want = prostateRow(123)
  t.same(rows.get('u123'), Object.fromEntries(prostateColumns.map((c, i) => [c.name, want[i] === null ? '' : String(want[i])])))
  t.match(JSON.parse(await readFile(join(folder, 'manifest.json'), 'utf8')), { buckets: 16, rows: 1000, primaryKey: ['user_id'], loads: [{ rows: 1000 }] })
})

t.test('abort leaves nothing, and the feature group as it was', async (t) => {
  const dir = await dataDir(t)
  await load(dir, prostateRows(10))
  const before = await readFile(await part(join(dir, 'feature_store', 'prostate_group_1'), 0), 'utf8').catch(() => '')
  const sink = await localSink({ dataDir: dir, columns: prostateColumns })
  await pipeline(batches(prostateColumns, prostateRows(500, 'x')), sink.writable)
  await sink.abort()
  t.same(await readdir(join(dir, 'feature_store')), ['prostate_group_1'], 'the staging folder is gone')
  t.equal((await stored(join(dir, 'feature_store', 'prostate_group_1'))).size, 10)
  t.equal(await readFile(await part(join(dir, 'feature_store', 'prostate_group_1'), 0), 'utf8').catch(() => ''), before)
  await t.rejects(sink.commit(), { code: 'ETL_ABORTED' })
  const fresh = await dataDir(t)
  const unused = await localSink({ dataDir: fresh, columns: prostateColumns })
  await unused.abort()
  t.same(await readdir(join(fresh, 'feature_store')), [], 'abort before any data leaves nothing either')
})

t.test('a second load of the same version upserts on user_id', async (t) => {
  const dir = await dataDir(t)
  await load(dir, prostateRows(1000))
  const changed = prostateRows(300, 'u', 900).map((r) => r.map((v, i) => (prostateColumns[i]!.name === 'age' ? 99 : v)))
  const summary = await load(dir, changed)
  t.equal(summary.rows, 300)
  const rows = await stored(summary.location)
  t.equal(rows.size, 1200, '1000 old + 200 new keys; the 100 shared keys are replaced, not duplicated')
  t.equal(rows.get('u950')!['age'], '99', 'a replaced row')
  t.equal(rows.get('u1150')!['age'], '99', 'a new row')
  t.equal(rows.get('u10')!['age'], String(prostateRow(10)[2]), 'an untouched row')
  t.match(JSON.parse(await readFile(join(summary.location, 'manifest.json'), 'utf8')), { rows: 1200, loads: [{ rows: 1000 }, { rows: 300 }] })
})

t.test('within one load the last row of a key wins', async (t) => {
  const dir = await dataDir(t)
  const rows = [...prostateRows(5), ...prostateRows(2).map((r) => r.map((v, i) => (i === 2 ? 77 : v)))]
  const summary = await load(dir, rows)
  const got = await stored(summary.location)
  t.equal(got.size, 5)
  t.equal(got.get('u0')!['age'], '77')
  t.equal(got.get('u1')!['age'], '77')
})

t.test('values survive the round trip: quotes, line breaks, NULL and the empty string', async (t) => {
  const dir = await dataDir(t)
  const columns = [{ name: 'user_id', type: 'text' }, { name: 'note', type: 'text' }, { name: 'n', type: 'int4' }, { name: 'datetime', type: 'timestamptz' }]
  const rows = [['a', 'x, "y"\nz', 1, '2024-01-01T00:00:00.000Z'], ['b', '', null, '2024-01-01T00:00:00.000Z'], ['c', null, 3, '2024-01-01T00:00:00.000Z']]
  const sink = await localSink({ dataDir: dir, columns, buckets: 1 })
  await pipeline(batches(columns, rows), sink.writable)
  const s = await sink.commit()
  t.equal(await readFile(await part(s.location, 0), 'utf8'), 'user_id,note,n,datetime\na,"x, ""y""\nz",1,2024-01-01T00:00:00.000Z\nb,"",,2024-01-01T00:00:00.000Z\nc,,3,2024-01-01T00:00:00.000Z\n')
  const again = await localSink({ dataDir: dir, columns, buckets: 8 })
  await pipeline(batches(columns, [['b', 'B', 2, '2024-01-02T00:00:00.000Z']]), again.writable)
  await again.commit()
  t.equal(await readFile(await part(s.location, 0), 'utf8'), 'user_id,note,n,datetime\na,"x, ""y""\nz",1,2024-01-01T00:00:00.000Z\nc,,3,2024-01-01T00:00:00.000Z\nb,B,2,2024-01-02T00:00:00.000Z\n', 'an existing feature group keeps its bucket count')
})

t.test('a different schema is refused before any data; a NULL key is refused', async (t) => {
  const dir = await dataDir(t)
  await load(dir, prostateRows(3))
  await t.rejects(localSink({ dataDir: dir, columns: prostateColumns.filter((c) => c.name !== 'lcp') }), { code: 'ETL_SINK', message: /^feature group prostate_group version 1 already exists in the local feature store \(.+\) with a different schema: feature lcp \(double\) is not in the data\./ })
  const sink = await localSink({ dataDir: dir, columns: prostateColumns })
  const bad = prostateRows(1).map((r) => r.map((v, i) => (prostateColumns[i]!.name === 'user_id' ? null : v)))
  await t.rejects(pipeline(batches(prostateColumns, bad), sink.writable), { code: 'ETL_SINK', message: 'primary key user_id is NULL in a row; the feature store needs a key on every row' })
  await sink.abort()
  t.same(await readdir(join(dir, 'feature_store')), ['prostate_group_1'])
})

t.test('another version is another folder', async (t) => {
  const dir = await dataDir(t)
  await load(dir, prostateRows(3))
  const s = await load(dir, prostateRows(4), { featureGroup: { version: 2 } })
  t.equal(s.location, join(dir, 'feature_store', 'prostate_group_2'))
  t.same((await readdir(join(dir, 'feature_store'))).sort(), ['prostate_group_1', 'prostate_group_2'])
})

t.test('scanRecords: record ends and key fields of RFC 4180 text', async (t) => {
  const { scanRecords } = await import('../../lib/load/store-files.ts')
  const seen: [string, string][] = []
  const text = 'a,"x\n,""y""",1\r\n"b""q",,2\nc,"unfinished\n'
  const tail = scanRecords(text, [0, 2], (k, raw) => void seen.push([k, raw]))
  t.same(seen, [['a\u00011', 'a,"x\n,""y""",1\r\n'], ['b"q\u00012', '"b""q",,2\n']])
  t.equal(text.slice(tail), 'c,"unfinished\n', 'the unfinished record is left for the next chunk')
})

t.test('large bucket files (read in several chunks) merge exactly', async (t) => {
  const dir = await dataDir(t)
  await load(dir, prostateRows(30_000), { buckets: 1 })
  const s = await load(dir, prostateRows(10_000, 'u', 25_000), { buckets: 1 })
  const rows = await stored(s.location)
  t.equal(rows.size, 35_000)
  t.equal(rows.get('u29999')!['lcavol'], String(prostateRow(29999)[0]))
})

t.test('repeated keys within a load: the last row of a key, at the place of its first; old rows first', async (t) => {
  const dir = await dataDir(t)
  const columns = [{ name: 'k', type: 'text' }, { name: 'v', type: 'int4' }]
  const featureGroup = { primaryKey: ['k'], eventTime: null }
  const first = await localSink({ dataDir: dir, columns, featureGroup, buckets: 1 })
  await pipeline(batches(columns, [['x', 0], ['a', 0], ['y', 0]]), first.writable)
  const s = await first.commit()
  const second = await localSink({ dataDir: dir, columns, featureGroup })
  await pipeline(batches(columns, [['a', 1], ['b', 1], ['a', 2], ['c', 1], ['b', 2], ['a', 3]], 2), second.writable)
  t.equal((await second.commit()).rows, 6)
  t.equal(await readFile(await part(s.location, 0), 'utf8'), 'k,v\nx,0\ny,0\na,3\nb,2\nc,1\n')
  t.match(JSON.parse(await readFile(join(s.location, 'manifest.json'), 'utf8')), { rows: 5, loads: [{ rows: 3 }, { rows: 6 }] })
})

t.test('keys holding line breaks, quotes and commas upsert like any other', async (t) => {
  const dir = await dataDir(t)
  const columns = [{ name: 'k', type: 'text' }, { name: 'n', type: 'int4' }, { name: 'v', type: 'int4' }]
  const featureGroup = { primaryKey: ['k', 'n'], eventTime: null }
  const keys = ['"quoted" start', 'line\nbreak', 'cr\r\nlf', 'a,b', '', 'plain', 'é漢字']
  const old = await localSink({ dataDir: dir, columns, featureGroup, buckets: 3 })
  await pipeline(batches(columns, keys.flatMap((k) => [[k, 1, 0], [k, 2, 0]])), old.writable)
  const s = await old.commit()
  const next = await localSink({ dataDir: dir, columns, featureGroup })
  await pipeline(batches(columns, [...keys.map((k) => [k, 1, 1]), ...keys.map((k) => [k, 1, 2])]), next.writable)
  await next.commit()
  const got: string[][] = []
  for (const f of (await readdir(s.location)).filter((x) => x.endsWith('.csv')).sort())
    got.push(...(parse(await readFile(join(s.location, f)), { from_line: 2 }) as string[][]))
  t.same(got.map((r) => r.join('|')).sort(), keys.flatMap((k) => [`${k}|1|2`, `${k}|2|0`]).sort(), 'one row per key: (k, 1) replaced by its last new row, (k, 2) kept')
})

t.test('recordKeyOf and keyLine: the key as the stored CSV gives it back, one line each', async (t) => {
  const { keyLine, keyOf, recordKeyOf } = await import('../../lib/load/local-merge.ts')
  const when = new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 6))
  const row = ['a', 2, when, true]
  t.equal(recordKeyOf(row, [0, 1], keyOf(row, [0, 1], () => 'k')), 'a\u00012')
  t.equal(recordKeyOf(row, [0, 2], keyOf(row, [0, 2], () => 'k')), 'a\u00012024-01-02T03:04:05.006Z', 'a Date as its CSV text')
  t.equal(keyLine('plain'), 'plain')
  t.equal(keyLine('two\nlines'), '"two\\nlines"')
  t.equal(keyLine('"q"'), '"\\"q\\""')
})

t.test('a bucket with more new keys than are kept as strings merges exactly (hashes, then the keys that meet)', async (t) => {
  const dir = await dataDir(t)
  await load(dir, prostateRows(70_000), { buckets: 1 })
  const again = prostateRows(60_000, 'u', 40_000).map((r) => r.map((v, i) => (prostateColumns[i]!.name === 'age' ? 90 : v)))
  const repeats = [40_001, 99_999, 40_001].map((i, j) => prostateRow(i).map((v, c) => (prostateColumns[c]!.name === 'age' ? 91 + j : v)))
  const s = await load(dir, [...again, ...repeats], { buckets: 1 })
  t.equal(s.rows, 60_003)
  const rows = await stored(s.location)
  t.equal(rows.size, 100_000, '70k old + 30k new keys; the 30k shared keys replaced, repeats counted once')
  t.equal(rows.get('u0')!['age'], String(prostateRow(0)[2]), 'an untouched old row')
  t.equal(rows.get('u50000')!['age'], '90', 'a replaced row')
  t.equal(rows.get('u40001')!['age'], '93', 'a key repeated in the load: its last row')
  t.equal(rows.get('u99999')!['age'], '92')
  const text = await readFile(await part(s.location, 0), 'utf8')
  t.ok(text.indexOf(',u39999,') < text.indexOf(',u40000,'), 'old rows first, then the new ones in load order')
  t.ok(text.indexOf(',u40001,') < text.indexOf(',u40002,'), 'a repeated key stays at the place of its first row')
})

t.test('a load that leaves some buckets without new rows keeps their old rows as they are', async (t) => {
  const dir = await dataDir(t)
  const first = await load(dir, prostateRows(2000))
  const before = new Map<string, string>()
  for (const f of (await readdir(first.location)).filter((x) => x.endsWith('.csv'))) before.set(f, await readFile(join(first.location, f), 'utf8'))
  const s = await load(dir, prostateRows(1, 'new'))
  const rows = await stored(s.location)
  t.equal(rows.size, 2001)
  let untouched = 0
  for (const [f, text] of before) if ((await readFile(join(s.location, f), 'utf8').catch(() => '')) === text) untouched++
  t.equal(untouched, 15, 'the 15 buckets the new row did not go to are byte for byte the same')
})

t.test('uniqueKeys: new buckets are renamed as staged; a later load into them still upserts', async (t) => {
  const dir = await dataDir(t)
  const folder = join(dir, 'feature_store', 'prostate_group_1')
  const first = await load(dir, prostateRows(3000), { uniqueKeys: true })
  t.equal(first.rows, 3000)
  const rows = await stored(folder)
  t.equal(rows.size, 3000, 'every row once')
  t.match(JSON.parse(await readFile(join(folder, 'manifest.json'), 'utf8')), { rows: 3000 })
  for (const f of (await readdir(folder)).filter((x) => x.endsWith('.csv'))) t.match(await readFile(join(folder, f), 'utf8'), /^lcavol,/, `${f} starts with the header`)
  // Rows 2000..3999: 1000 replace old ones, 1000 are new; both with uniqueKeys (no key twice within this load).
  const changed = prostateRows(4000).slice(2000).map((r) => r.map((v, i) => (i === 2 ? 99 : v)))
  await load(dir, changed, { uniqueKeys: true })
  const after = await stored(folder)
  t.equal(after.size, 4000)
  t.equal(after.get('u2500')?.['age'], '99', 'a replaced row')
  t.equal(after.get('u3500')?.['age'], '99', 'a new row')
  t.not(after.get('u1500')?.['age'], '99', 'an untouched old row')
  t.match(JSON.parse(await readFile(join(folder, 'manifest.json'), 'utf8')), { rows: 4000, loads: [{ rows: 3000 }, { rows: 2000 }] })
})

t.test('adopt: buckets staged elsewhere (partition workers) become the load; a folder of another layout is refused', async (t) => {
  const dir = await dataDir(t)
  const { BucketStager } = await import('../../lib/load/bucket-stage.ts')
  const { mkdir } = await import('node:fs/promises')
  const rows = prostateRows(5000)
  const parts = [join(dir, 'p0'), join(dir, 'p1')]
  for (const [k, part] of parts.entries()) {
    await mkdir(part)
    const stager = new BucketStager(part, prostateColumns, ['user_id'], 16)
    const mine = rows.filter((_, i) => i % 2 === k)
    for (let i = 0; i < mine.length; i += 700) await stager.write({ columns: prostateColumns, rows: mine.slice(i, i + 700) })
    t.match(await stager.finish(), { buckets: 16, rows: 2500 })
  }
  const sink = await localSink({ dataDir: dir, columns: prostateColumns, uniqueKeys: true })
  t.equal(sink.buckets, 16)
  t.equal(await sink.adopt(parts), 5000)
  t.match(await sink.commit(), { rows: 5000 })
  const stored1 = await stored(join(dir, 'feature_store', 'prostate_group_1'))
  t.equal(stored1.size, 5000, 'every row once')
  t.equal(stored1.get('u4321')?.['age'], String(rows[4321]![2]))

  const wrong = join(dir, 'p8')
  await mkdir(wrong)
  const eight = new BucketStager(wrong, prostateColumns, ['user_id'], 8)
  await eight.write({ columns: prostateColumns, rows: rows.slice(0, 10) })
  await eight.finish()
  const next = await localSink({ dataDir: dir, columns: prostateColumns })
  await t.rejects(next.adopt([wrong]), { code: 'ETL_SINK', message: /holds no staged buckets for this feature group \(16 buckets/ })
  await t.rejects(next.adopt([join(dir, 'nothing-here')]), { code: 'ETL_SINK' })
  await next.abort()
  t.same((await readdir(join(dir, 'feature_store'))).filter((f) => f.startsWith('.staging')), [], 'the aborted staging is gone')
})
