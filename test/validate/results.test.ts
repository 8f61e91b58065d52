/**
 * The stage files of a validation: extract_validation_results.csv (label,
 * results, ...; typed by its sidecar) and extract_validation_result.json
 * (GE's suite result).
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { csvSource } from '../../lib/csv/read.ts'
import { compile } from '../../lib/expectations/engine.ts'
import { parseSuite } from '../../lib/expectations/suite.ts'
import type { Batch, Column, Row } from '../../lib/types.ts'
import { writeValidationFiles } from '../../lib/validate/results.ts'

const columns: Column[] = [{ name: 'target', type: 'int4' }, { name: 'age', type: 'int4' }]
const rows: Row[] = [[0, 50], [1, 90], [1, null]]
const suite = parseSuite({
  expectation_suite_name: 'prostate',
  expectations: [
    { expectation_type: 'expect_column_distinct_values_to_equal_set', kwargs: { column: 'target', value_set: [0, 1] }, meta: { label: 'target_exp' } },
    { expectation_type: 'expect_column_values_to_be_between', kwargs: { column: 'age', min_value: 41, max_value: 80 }, meta: { label: 'age' } },
    { expectation_type: 'expect_column_pair_values_a_to_be_greater_than_b', kwargs: { column_A: 'age', column_B: 'target' } },
    { expectation_type: 'expect_table_row_count_to_equal', kwargs: { value: 'three' } },
  ],
})

t.test('writes the results CSV (typed by a sidecar) and the GE JSON', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'results-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const c = compile(suite, columns)
  const s = c.init()
  c.update(s, rows)
  const result = c.finish(s, { validationTime: '2025-01-01T00:00:00.000Z' })
  const files = await writeValidationFiles(dir, result)
  t.same(files, { csv: join(dir, 'extract_validation_results.csv'), json: join(dir, 'extract_validation_result.json') })
  t.same((await readdir(dir)).sort(), ['extract_validation_result.json', 'extract_validation_results.csv', 'extract_validation_results.schema.json'])

  const text = await readFile(files.csv, 'utf8')
  t.equal(text.split('\n')[0], 'label,results,expectation_id,expectation_type,column,kwargs,element_count,missing_count,unexpected_count,unexpected_percent,observed_value,raised_exception,vacuous')
  const back: Row[] = []
  for await (const b of csvSource(files.csv)) back.push(...(b as Batch).rows)
  t.same(back, [
    ['target_exp', 'success', 'target_exp', 'expect_column_distinct_values_to_equal_set', 'target', { column: 'target', value_set: [0, 1] }, 3, 0, null, null, [0, 1], false, false],
    ['age', 'failure', 'age', 'expect_column_values_to_be_between', 'age', { column: 'age', min_value: 41, max_value: 80 }, 3, 1, 1, 50, null, false, false],
    ['age,target', 'failure', 'expect_column_pair_values_a_to_be_greater_than_b(age,target)', 'expect_column_pair_values_a_to_be_greater_than_b', 'age,target', { column_A: 'age', column_B: 'target' }, 3, 0, 1, (1 / 3) * 100, null, false, false],
    ['expect_table_row_count_to_equal', 'failure', 'expect_table_row_count_to_equal()', 'expect_table_row_count_to_equal', null, { value: 'three' }, null, null, null, null, null, true, false],
  ])
  t.same(JSON.parse(await readFile(files.json, 'utf8')), JSON.parse(JSON.stringify(result)))
})

t.test('a prefix names the meta-validation files', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'results-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const c = compile(suite, columns)
  const files = await writeValidationFiles(dir, c.finish(c.init()), 'meta_extract')
  t.equal(files.csv, join(dir, 'meta_extract_validation_results.csv'))
  t.equal(files.json, join(dir, 'meta_extract_validation_result.json'))
})

t.test('an unwritable folder is ETL_DATA_DIR', async (t) => {
  const c = compile(suite, columns)
  await t.rejects(writeValidationFiles('/nonexistent/dir', c.finish(c.init())), { code: 'ETL_DATA_DIR' })
})
