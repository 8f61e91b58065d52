/**
 * Policy `quarantine`: failing rows leave the flow and land in quarantine.csv
 * with the ids of the expectations they failed; `keep` (the default) lets
 * them through. The file appears only when the input has ended.
 */
import { readdir, readFile, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import t from 'tap'
import { csvSource } from '../../lib/csv/read.ts'
import { parseSuite } from '../../lib/expectations/suite.ts'
import type { Batch, Column, Row } from '../../lib/types.ts'
import { quarantineCsv } from '../../lib/validate/quarantine.ts'
import { validate } from '../../lib/validate/validate.ts'

const columns: readonly Column[] = Object.freeze([{ name: 'age', type: 'int4' }, { name: 'name', type: 'text' }])
const batches: Batch[] = [
  { columns, rows: [[50, 'a'], [90, 'b, with a comma'], [60, null]] },
  { columns, rows: [[30, 'c'], [70, 'd']] },
]
const suite = parseSuite({
  expectations: [
    { expectation_type: 'expect_column_values_to_be_between', kwargs: { column: 'age', min_value: 41, max_value: 80 }, meta: { id: 'age' } },
    { expectation_type: 'expect_column_values_to_not_be_null', kwargs: { column: 'name' }, meta: { id: 'name' } },
    { expectation_type: 'expect_column_values_to_match_regex', kwargs: { column: 'name', regex: '^[a-d]' }, meta: { id: 'name-abc' } },
  ],
})

async function collect(stage: ReturnType<typeof validate>, input: Batch[]): Promise<Row[]> {
  const rows: Row[] = []
  await pipeline(Readable.from(input), stage, new Writable({ objectMode: true, write: (b: Batch, _e, cb) => (rows.push(...b.rows), cb()) }))
  return rows
}

async function tmp(t: { teardown(fn: () => unknown): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'quarantine-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  return dir
}

t.test('keep (default): every row flows on, failures are only reported', async (t) => {
  const stage = validate({ suite })
  const rows = await collect(stage, batches)
  t.equal(rows.length, 5)
  const s = await stage.summary
  t.same([s.invalidRows, s.quarantinedRows], [3, 0])
})

t.test('quarantine: failing rows go to quarantine.csv with their failed ids', async (t) => {
  const dir = await tmp(t)
  const path = join(dir, 'quarantine.csv')
  const stage = validate({ suite, policy: 'quarantine', quarantine: quarantineCsv(path) })
  const rows = await collect(stage, batches)
  t.same(rows, [[50, 'a'], [70, 'd']], 'only passing rows flow on')
  const s = await stage.summary
  t.same([s.rows, s.invalidRows, s.quarantinedRows], [5, 3, 3])
  t.equal(s.result.results[0]!.result.unexpected_count, 2, 'the result still counts every row')
  t.equal(await readFile(path, 'utf8'), 'age,name,failed_expectations\n90,"b, with a comma",age\n60,,name\n30,c,age\n')
  const back: Row[] = []
  for await (const b of csvSource(path)) back.push(...(b as Batch).rows)
  t.same(back, [[90, 'b, with a comma', 'age'], [60, null, 'name'], [30, 'c', 'age']], 'typed back through its sidecar')
})

t.test('quarantine: a row failing several expectations lists them all; an empty quarantine is still written', async (t) => {
  const dir = await tmp(t)
  const path = join(dir, 'quarantine.csv')
  const stage = validate({ suite, policy: 'quarantine', quarantine: quarantineCsv(path) })
  await collect(stage, [{ columns, rows: [[99, 'zed']] }])
  t.equal(await readFile(path, 'utf8'), 'age,name,failed_expectations\n99,zed,age;name-abc\n')
  const none = join(dir, 'none.csv')
  const clean = validate({ suite, policy: 'quarantine', quarantine: quarantineCsv(none) })
  await collect(clean, [{ columns, rows: [[50, 'a']] }])
  t.equal(await readFile(none, 'utf8'), 'age,name,failed_expectations\n')
})

t.test('quarantine: a failed run leaves no file behind', async (t) => {
  const dir = await tmp(t)
  const stage = validate({ suite, policy: 'quarantine', quarantine: quarantineCsv(join(dir, 'quarantine.csv')) })
  const failing = new Readable({
    objectMode: true,
    read() {
      this.push(batches[0])
      this.destroy(new Error('source broke'))
    },
  })
  await t.rejects(pipeline(failing, stage, new Writable({ objectMode: true, write: (_b, _e, cb) => cb() })), { message: 'source broke' })
  await t.rejects(stage.summary, { message: 'source broke' })
  t.same(await readdir(dir), [], 'no quarantine.csv, no temporary file')
})
