/**
 * Reading suites: GE's JSON form and the newer `type` key; clear ETL_SUITE
 * errors naming the expectation; ids and labels.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { parseSuite, readSuite } from '../../lib/expectations/suite.ts'

const between = { expectation_type: 'expect_column_values_to_be_between', kwargs: { column: 'age', min_value: 41, max_value: 80 } }

t.test('GE JSON form: name, expectations, ids and labels', async (t) => {
  const s = parseSuite({ expectation_suite_name: 'p', expectations: [between, { ...between, meta: { label: 'age2' } }, between] })
  t.equal(s.name, 'p')
  t.same(s.expectations.map((e) => [e.index, e.id, e.label]), [
    [0, 'expect_column_values_to_be_between(age)', 'age'],
    [1, 'age2', 'age2'],
    [2, 'expect_column_values_to_be_between(age)#2', 'age'],
  ])
  t.same(s.expectations[0]!.config, between)
})

t.test('the newer form: `type`, `name` and a top-level id', async (t) => {
  const s = parseSuite({ name: 'v1', expectations: [{ type: 'expect_table_row_count_to_equal', kwargs: { value: 3 }, id: 'rows' }] })
  t.equal(s.name, 'v1')
  t.equal(s.expectations[0]!.id, 'rows')
  t.equal(s.expectations[0]!.config.expectation_type, 'expect_table_row_count_to_equal')
  t.equal(s.expectations[0]!.label, 'expect_table_row_count_to_equal')
})

t.test('an unknown type names the expectation', async (t) => {
  t.throws(() => parseSuite({ expectations: [between, { expectation_type: 'expect_magic', kwargs: {} }] }, 'suite.json'), {
    code: 'ETL_SUITE',
    message: 'suite.json: expectation #1 (expect_magic): unknown expectation type "expect_magic"',
  })
})

t.test('a wrong kwarg names the expectation and lists the right ones', async (t) => {
  t.throws(() => parseSuite({ expectations: [{ expectation_type: 'expect_column_values_to_not_be_null', kwargs: { colum: 'a' } }] }), {
    code: 'ETL_SUITE',
    message: /^expectation #0 \(expect_column_values_to_not_be_null\): unknown kwarg "colum" \(it takes column, mostly, result_format/,
  })
})

t.test('a malformed suite says where', async (t) => {
  t.throws(() => parseSuite({}), { code: 'ETL_SUITE', message: /must have required property 'expectations'/ })
  t.throws(() => parseSuite({ expectations: [{ kwargs: {} }] }), { code: 'ETL_SUITE', message: /expectations\/0: needs "expectation_type"/ })
  t.throws(() => parseSuite({ expectations: [{ ...between, extra: 1 }] }), { code: 'ETL_SUITE', message: /unknown key "extra"/ })
  t.throws(() => parseSuite({ expectations: [{ ...between, kwargs: [] }] }), { code: 'ETL_SUITE', message: /kwargs must be object/ })
  t.throws(() => parseSuite({ expectations: [{ ...between, type: 'expect_table_row_count_to_equal' }] }), { code: 'ETL_SUITE', message: /disagree/ })
  t.throws(() => parseSuite({ expectations: [{ ...between, meta: { id: 'a' } }, { ...between, meta: { id: 'a' } }] }), { code: 'ETL_SUITE', message: /id "a" is used twice/ })
})

t.test('readSuite: missing file, bad JSON, and the default suite', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'suite-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  await t.rejects(readSuite(join(dir, 'none.json')), { code: 'ETL_SUITE', message: /cannot read suite/ })
  await writeFile(join(dir, 'bad.json'), '{"expectations": [')
  await t.rejects(readSuite(join(dir, 'bad.json')), { code: 'ETL_SUITE', message: /bad\.json: not valid JSON/ })
  const s = await readSuite(new URL('../../fixtures/suites/prostate.json', import.meta.url).pathname)
  t.same(s.expectations.map((e) => e.label), ['target_exp', 'age', 'lcavol', 'lweight', 'gleason', 'pgg45'])
})

t.test('readSuite passes the notices of older type names on', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'suite-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const path = join(dir, 'old.json')
  await writeFile(path, JSON.stringify({ expectations: [{ expectation_type: 'expect_column_pair_values_A_to_be_greater_than_B', kwargs: { column_A: 'a', column_B: 'b' } }] }))
  const seen: string[] = []
  const s = await readSuite(path, (m) => seen.push(m))
  t.equal(s.expectations[0]!.config.expectation_type, 'expect_column_pair_values_a_to_be_greater_than_b')
  t.same(seen, [`${path}: expectation #0 (expect_column_pair_values_A_to_be_greater_than_B): the older name of expect_column_pair_values_a_to_be_greater_than_b; read as expect_column_pair_values_a_to_be_greater_than_b`])
})
