/**
 * Each row is formatted once (lib/csv/lines.ts): the lines the extracted.csv
 * tee keeps are reused by the transform, the transformed.csv tee and the
 * local sink. Whatever is reused, every file must hold exactly the bytes it
 * holds when each stage formats the rows itself.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable, Transform, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import t from 'tap'
import { csvField, formatCsv, formatLines, formatRow, jsonFlags } from '../../lib/csv/format.ts'
import { cachedLines, plainLines } from '../../lib/csv/lines.ts'
import { csvTee } from '../../lib/csv/stage-file.ts'
import { parseSuite } from '../../lib/expectations/suite.ts'
import { localSink } from '../../lib/load/local-sink.ts'
import { stamp } from '../../lib/transform/stamp.ts'
import type { Batch, Column, Row } from '../../lib/types.ts'
import { quarantineCsv } from '../../lib/validate/quarantine.ts'
import { validate } from '../../lib/validate/validate.ts'

async function tmp(t: { teardown(fn: () => unknown): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'lines-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  return dir
}

/** The field-by-field formatting every line must equal (numbers by String() but -0 as -0, the rest by csvField, JSON columns as JSON text). */
function reference(row: Row, columns?: readonly Column[]): string {
  return row
    .map((v, i) => {
      if (typeof v === 'number') return Object.is(v, -0) ? '-0' : String(v)
      const json = columns && (columns[i]!.type === 'json' || columns[i]!.type === 'jsonb' || columns[i]!.type.startsWith('_'))
      return json && v !== null && v !== undefined && typeof v !== 'object' ? csvField(JSON.stringify(v)) : csvField(v)
    })
    .join(',')
}

t.test('formatRow writes what field-by-field formatting writes, on its fast path and off it', async (t) => {
  const columns: readonly Column[] = [
    { name: 'x', type: 'float8' }, { name: 's', type: 'text' }, { name: 'b', type: 'bool' }, { name: 'j', type: 'jsonb' }, { name: 'n', type: 'int8' },
  ]
  const rows: Row[] = [
    [1.5, 'plain', true, 3, 7],
    [-0, 'a,b', false, null, null],
    [Number.NaN, '', null, 'text in json', '9007199254740993'],
    [Number.POSITIVE_INFINITY, 'say "hi"', true, { a: [1, 'x,y'] }, 12n],
    [0.1 + 0.2, 'line\nbreak', undefined, true, -12],
    [1e21, 'é ü 漢字', true, [1, 2], 1e-7],
    [null, null, null, null, null],
  ]
  for (const row of rows) {
    t.equal(formatRow(row, jsonFlags(columns)), reference(row, columns), `with columns: ${reference(row, columns)}`)
    t.equal(formatRow(row, null), reference(row), `without columns: ${reference(row)}`)
  }
  t.equal(formatCsv(rows, columns), rows.map((r) => reference(r, columns) + '\n').join(''))
  t.equal(formatCsv([], columns), '')
  t.same(formatLines(rows), rows.map((r) => reference(r)))
})

const columns: readonly Column[] = Object.freeze([
  { name: 'Age', type: 'int4' }, { name: 'lcavol', type: 'float8' }, { name: 'pgg45', type: 'int4' }, { name: 'note', type: 'text' },
].map((c) => Object.freeze(c)))

/** Deterministic rows: some fail the suite (age out of range), some have NULLs to fill, notes that need quoting. */
function makeBatches(n: number, size: number): Batch[] {
  const out: Batch[] = []
  for (let i = 0; i < n; i += size) {
    const rows: Row[] = []
    for (let k = i; k < Math.min(n, i + size); k++)
      rows.push([k % 17 === 0 ? 95 : 41 + (k % 39), Math.sin(k) * 3.7, k % 5 === 0 ? null : k % 101, k % 3 === 0 ? `n${k}, "q"` : k % 7 === 0 ? '' : `n${k}`])
    out.push({ columns, rows })
  }
  return out
}

const suite = parseSuite({
  expectations: [{ expectation_type: 'expect_column_values_to_be_between', kwargs: { column: 'Age', min_value: 41, max_value: 80 } }],
})

/** The one-pass stages of `etl run` over `input`, writing into `dir`; `keepLines` as run.ts sets it, or off. */
async function run(dir: string, input: Batch[], keepLines: boolean): Promise<{ lined: number; batches: number }> {
  const quarantine = quarantineCsv(join(dir, 'quarantine.csv'))
  const stamper = stamp({ id: 'sequential', runTime: new Date(Date.UTC(2024, 1, 3, 4, 5, 6, 7)), missing: { default: 'keep', columns: { pgg45: { fill: 0 } } } })
  const planned = [...columns.map((c) => ({ name: c.name.toLowerCase(), type: c.type })), { name: 'user_id', type: 'int8' }, { name: 'datetime', type: 'timestamptz' }]
  const sink = await localSink({ dataDir: dir, columns: planned, buckets: 4 })
  let lined = 0
  let batches = 0
  const probe = new Transform({
    objectMode: true,
    transform(batch: Batch, _e, cb) {
      batches++
      if (plainLines(batch.rows)) lined++
      cb(null, batch)
    },
  })
  await pipeline(
    Readable.from(input), csvTee(join(dir, 'extracted.csv'), { keepLines }), validate({ suite, policy: 'quarantine', quarantine }), stamper,
    csvTee(join(dir, 'transformed.csv')), probe, sink.writable,
  )
  await sink.commit()
  return { lined, batches }
}

async function files(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  for (const f of ['extracted.csv', 'transformed.csv', 'quarantine.csv', 'extracted.schema.json', 'transformed.schema.json']) out[f] = await readFile(join(dir, f), 'utf8')
  const store = join(dir, 'feature_store', 'prostate_group_1')
  for (const f of (await readdir(store)).filter((x) => x.startsWith('part-')).sort()) out[f] = await readFile(join(store, f), 'utf8')
  return out
}

t.test('kept lines: every stage file and store part holds the bytes it holds without them', async (t) => {
  const a = await tmp(t)
  const b = await tmp(t)
  // Each run gets its own batches: kept lines stay with the rows arrays they were made for.
  const withLines = await run(a, makeBatches(5000, 700), true)
  const without = await run(b, makeBatches(5000, 700), false)
  t.equal(withLines.lined, withLines.batches, 'every batch reaching the sink came with its lines')
  t.equal(without.lined, 0, 'nothing is kept unless asked')
  const fa = await files(a)
  const fb = await files(b)
  t.same(Object.keys(fa), Object.keys(fb))
  for (const k of Object.keys(fb)) t.equal(fa[k], fb[k], k)
  t.match(fa['transformed.csv'], /\n46,[^,\n]+,0,n5,5,/, 'a NULL pgg45 was filled (that row formatted afresh)')
  t.match(fa['quarantine.csv'], /^age,lcavol|^Age,lcavol/i, 'failing rows were quarantined')
  t.equal(fa['extracted.csv']!.split('\n').length - 2, 5000)
})

t.test('a json column: lines are kept for the stage files but the sink formats its own parts', async (t) => {
  const cols: readonly Column[] = Object.freeze([{ name: 'id', type: 'int4' }, { name: 'doc', type: 'jsonb' }].map((c) => Object.freeze(c)))
  const rows: Row[] = [[1, 'a string'], [2, { k: 'v, w' }], [3, null]]
  const dir = await tmp(t)
  const seen: (readonly string[] | undefined)[] = []
  await pipeline(
    Readable.from([{ columns: cols, rows }]), csvTee(join(dir, 'x.csv'), { keepLines: true }),
    new Transform({ objectMode: true, transform: (batch: Batch, _e, cb) => (seen.push(cachedLines(batch.rows), plainLines(batch.rows)), cb(null, batch)) }),
    csvTee(join(dir, 'y.csv')), new Writable({ objectMode: true, write: (_b, _e, cb) => cb() }),
  )
  t.same(seen[0], formatLines(rows, cols), 'the kept lines are those of the columns')
  t.equal(seen[1], undefined, 'not plain: a sink writes JSON scalars as they are')
  t.equal(await readFile(join(dir, 'y.csv'), 'utf8'), await readFile(join(dir, 'x.csv'), 'utf8'))
  t.equal(await readFile(join(dir, 'x.csv'), 'utf8'), 'id,doc\n1,"""a string"""\n2,"{""k"":""v, w""}"\n3,\n')
})
