/**
 * Vacuous passes are flagged: an expectation that passed on zero rows, or on
 * a column that was entirely null, fails the meta check `no_vacuous_pass`
 * (and the results CSV says which, in its `vacuous` column).
 */
import t from 'tap'
import { parseSuite } from '../../lib/expectations/suite.ts'
import { gateReport, metaValidate } from '../../lib/validate/meta.ts'
import { isVacuous, resultRows, RESULTS_COLUMNS } from '../../lib/validate/results.ts'
import { testDb } from '../support/pg.ts'
import { allCounts, failedIds, prostateDb, prostateSuite, validateSource } from './support.ts'

const vacuousAt = RESULTS_COLUMNS.findIndex((c) => c.name === 'vacuous')

t.test('a pass on an all-null column is flagged', async (t) => {
  const { client } = await testDb(t)
  await client.query('CREATE TABLE p (id int4 NOT NULL, psa float8, grade int4)')
  await client.query('INSERT INTO p SELECT g, NULL, NULL FROM generate_series(1, 50) g')
  const suite = parseSuite({
    expectation_suite_name: 'nulls',
    expectations: [
      { expectation_type: 'expect_column_values_to_be_between', kwargs: { column: 'id', min_value: 1, max_value: 50 }, meta: { id: 'id_range' } },
      { expectation_type: 'expect_column_values_to_be_between', kwargs: { column: 'psa', min_value: 0, max_value: 100 }, meta: { id: 'psa_range' } },
      { expectation_type: 'expect_column_distinct_values_to_be_in_set', kwargs: { column: 'grade', value_set: [6, 7, 8, 9] }, meta: { id: 'grade_set' } },
      { expectation_type: 'expect_column_values_to_be_null', kwargs: { column: 'psa' }, meta: { id: 'psa_null' } },
      { expectation_type: 'expect_table_row_count_to_equal', kwargs: { value: 50 }, meta: { id: 'fifty' } },
    ],
  })
  const v = await validateSource(client, { table: 'p' }, suite)
  t.equal(v.result.success, true, 'every expectation passed')
  t.same(v.result.results.map(isVacuous), [false, true, true, false, false], 'a null check judges nulls; a row count judges no column')
  t.same(resultRows(v.result).map((r) => r[vacuousAt]), [false, true, true, false, false])
  const meta = metaValidate({ validation: v.result, declared: suite, counts: allCounts(50) })
  t.same(failedIds(meta), ['no_vacuous_pass'])
  t.match(gateReport(v.result, meta), /no expectation passed vacuously \(zero rows, or an all-null column\) \[no_vacuous_pass\]: 2 of 5 unexpected \(40%\): psa_range, grade_set/)
})

t.test('passes on zero rows are flagged', async (t) => {
  const { client } = await prostateDb(t)
  const suite = await prostateSuite()
  const v = await validateSource(client, { query: 'SELECT * FROM prostate WHERE age > 200' }, suite)
  t.equal(v.rows, 0)
  t.same(v.result.results.map((r) => r.success), [false, true, true, true, true, true], 'the range checks pass on nothing; the target set fails')
  const meta = metaValidate({ validation: v.result, declared: suite, counts: allCounts(0) })
  t.same(failedIds(meta), ['all_success', 'no_vacuous_pass'])
  const flagged = meta.results.find((r) => r.meta['expectation_id'] === 'no_vacuous_pass')!
  t.same(flagged.result.partial_unexpected_index_list?.map((e) => (e as Record<string, unknown>)['expectation_id']), ['age', 'lcavol', 'lweight', 'gleason', 'pgg45'])
})

t.test('a failed expectation is a failure, not a vacuous pass', async (t) => {
  const { client } = await testDb(t)
  await client.query('CREATE TABLE q (x int4)')
  const suite = parseSuite({ expectations: [{ expectation_type: 'expect_column_max_to_be_between', kwargs: { column: 'x', min_value: 0 } }] })
  const v = await validateSource(client, { table: 'q' }, suite)
  t.same(v.result.results.map((r) => [r.success, isVacuous(r)]), [[false, false]])
})
