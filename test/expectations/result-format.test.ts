/**
 * Result shapes (BOOLEAN_ONLY, BASIC, SUMMARY, COMPLETE), partial lists,
 * unexpected_index_column_names, mostly, catch_exceptions and invalid
 * arguments, through the pure engine.
 */
import t from 'tap'
import { EtlError } from '../../lib/errors.ts'
import { compile } from '../../lib/expectations/engine.ts'
import { parseSuite } from '../../lib/expectations/suite.ts'
import type { ExpectationResult, ResultFormatInput, SuiteResult } from '../../lib/expectations/types.ts'
import type { Column, Row } from '../../lib/types.ts'

const columns: Column[] = [{ name: 'id', type: 'int8' }, { name: 'x', type: 'int4' }, { name: 's', type: 'text' }]
// x: 0..99 with every 4th value null; s: 'v0'..'v99'
const rows: Row[] = Array.from({ length: 100 }, (_, i) => [i, i % 4 === 3 ? null : i, `v${i}`])

function validateAll(expectations: unknown[], opts: { resultFormat?: ResultFormatInput; catchExceptions?: boolean } = {}): SuiteResult {
  const c = compile(parseSuite({ expectations }), columns, opts)
  const s = c.init()
  c.update(s, rows.slice(0, 37))
  c.update(s, rows.slice(37))
  return c.finish(s)
}
const one = (type: string, kwargs: Record<string, unknown>, opts = {}): ExpectationResult =>
  validateAll([{ expectation_type: type, kwargs }], opts).results[0]!

const between = { column: 'x', min_value: 0, max_value: 49 }

t.test('BOOLEAN_ONLY: success and an empty result', async (t) => {
  const r = one('expect_column_values_to_be_between', { ...between, result_format: 'BOOLEAN_ONLY' })
  t.equal(r.success, false)
  t.same(r.result, {})
})

t.test('BASIC: counts, percents and a partial list of at most 20', async (t) => {
  const r = one('expect_column_values_to_be_between', between)
  // x values 50..99 not null: 50 - 13 (nulls at 51, 55, ... 99) = 37 unexpected; 25 nulls in all
  t.strictSame(r.result, {
    element_count: 100,
    unexpected_count: 37,
    unexpected_percent: (37 / 75) * 100,
    partial_unexpected_list: [50, 52, 53, 54, 56, 57, 58, 60, 61, 62, 64, 65, 66, 68, 69, 70, 72, 73, 74, 76],
    missing_count: 25,
    missing_percent: 25,
    unexpected_percent_total: 37,
    unexpected_percent_nonmissing: (37 / 75) * 100,
  })
})

t.test('SUMMARY: partial_unexpected_counts and index list; COMPLETE: every unexpected value', async (t) => {
  const format = { result_format: 'SUMMARY', partial_unexpected_count: 3, unexpected_index_column_names: ['id'] }
  const summary = one('expect_column_values_to_be_between', { ...between, result_format: format })
  t.same(summary.result.partial_unexpected_list, [50, 52, 53])
  t.same(summary.result.partial_unexpected_counts, [{ value: 50, count: 1 }, { value: 52, count: 1 }, { value: 53, count: 1 }])
  t.same(summary.result.partial_unexpected_index_list, [{ x: 50, id: 50 }, { x: 52, id: 52 }, { x: 53, id: 53 }])
  t.notOk('unexpected_list' in summary.result)
  const complete = one('expect_column_values_to_be_between', { ...between, result_format: { ...format, result_format: 'COMPLETE' } })
  t.equal(complete.result.unexpected_list!.length, 37)
  t.equal(complete.result.unexpected_index_list!.length, 37)
  t.same(complete.result.unexpected_index_list![36], { x: 98, id: 98 })
})

t.test('a suite-wide default result format applies where an expectation gives none', async (t) => {
  const r = one('expect_column_values_to_be_between', between, { resultFormat: 'COMPLETE' })
  t.equal(r.result.unexpected_list!.length, 37)
})

t.test('mostly: nulls are left out of the denominator; the null checks count every row', async (t) => {
  // 38 of the 75 non-null values are within 0..49: 0.5067
  t.equal(one('expect_column_values_to_be_between', { ...between, mostly: 0.5 }).success, true)
  t.equal(one('expect_column_values_to_be_between', { ...between, mostly: 0.51 }).success, false)
  t.equal(one('expect_column_values_to_not_be_null', { column: 'x', mostly: 0.75 }).success, true)
  t.equal(one('expect_column_values_to_not_be_null', { column: 'x', mostly: 0.76 }).success, false)
  const r = one('expect_column_values_to_not_be_null', { column: 'x' })
  t.equal(r.result.unexpected_percent, 25)
  t.notOk('missing_count' in r.result, 'null checks report no missing counts (as GE)')
})

t.test('catch_exceptions: a bad argument is an error result and the other expectations still run', async (t) => {
  const res = validateAll([
    { expectation_type: 'expect_column_values_to_be_between', kwargs: { column: 'x', min_value: 10, max_value: 0 } },
    { expectation_type: 'expect_column_values_to_match_regex', kwargs: { column: 'x', regex: '^1' } },
    { expectation_type: 'expect_column_values_to_not_be_null', kwargs: { column: 'nope' } },
    { expectation_type: 'expect_column_values_to_not_be_null', kwargs: { column: 's' } },
  ])
  t.same(res.results.map((r) => [r.success, r.exception_info.raised_exception]), [[false, true], [false, true], [false, true], [true, false]])
  t.match(res.results[0]!.exception_info.exception_message, /min_value \(10\) cannot be greater than max_value \(0\)/)
  t.match(res.results[1]!.exception_info.exception_message, /not text/)
  t.match(res.results[2]!.exception_info.exception_message, /column "nope" is not in the table/)
  t.same(res.statistics, { evaluated_expectations: 4, successful_expectations: 1, unsuccessful_expectations: 3, success_percent: 25 })
  t.equal(res.success, false)
})

t.test('catch_exceptions false: compile throws ETL_EXPECTATION naming the expectation', async (t) => {
  t.throws(
    () => one('expect_column_values_to_be_between', { column: 'x', min_value: 'a', catch_exceptions: false }),
    { code: 'ETL_EXPECTATION', message: /^expectation #0 \(expect_column_values_to_be_between\): min_value must be a number/ },
  )
  t.throws(() => one('expect_column_values_to_not_be_null', { column: 'nope' }, { catchExceptions: false }), EtlError)
})

t.test('aggregates: observed_value with element and missing counts; invalid bounds are errors', async (t) => {
  const r = one('expect_column_mean_to_be_between', { column: 'x', min_value: 0, max_value: 100 })
  t.equal(r.success, true)
  t.same(r.result, { observed_value: 49, element_count: 100, missing_count: 25, missing_percent: 25 })
  t.same(one('expect_column_mean_to_be_between', { column: 'x', result_format: 'BOOLEAN_ONLY' }).result, {})
  t.equal(one('expect_column_sum_to_be_between', { column: 'x' }).exception_info.raised_exception, true, 'sum needs a bound')
  t.equal(one('expect_table_row_count_to_be_between', { min_value: 5, max_value: 1 }).exception_info.raised_exception, true)
  t.equal(one('expect_table_row_count_to_equal', { value: 100 }).success, true)
})

t.test('evaluation parameters are resolved before the check is built', async (t) => {
  const c = compile(parseSuite({ expectations: [{ expectation_type: 'expect_table_row_count_to_be_between', kwargs: { min_value: { $PARAMETER: 'lo' }, max_value: { $PARAMETER: 'lo * 2' } } }] }), columns, {
    evaluationParameters: { lo: 50 },
  })
  const s = c.init()
  c.update(s, rows)
  const res = c.finish(s)
  t.equal(res.results[0]!.success, true)
  t.same(res.evaluation_parameters, { lo: 50 })
})

t.test('row_condition: only the matching rows are judged and counted', async (t) => {
  // x > 1 among x = 0..99 without the 25 nulls (i % 4 == 3): 2..99 minus 25 nulls = 73 rows; a null matches no comparison
  const r = one('expect_column_values_to_not_be_null', { column: 'x', row_condition: 'x > 1', condition_parser: 'pandas' })
  t.equal(r.exception_info.raised_exception, false)
  t.equal(r.success, true)
  t.equal(r.result.element_count, 73)
  const g = one('expect_column_values_to_be_between', { ...between, row_condition: 'col("x") >= 40', condition_parser: 'great_expectations' })
  // 40..99 without nulls: 45 values, of which 50..99 (37) are over 49
  t.equal(g.result.element_count, 45)
  t.equal(g.result.unexpected_count, 37)
})

t.test("the suite's own parameters (0.x evaluation_parameters, 1.x suite_parameters); the run's win", async (t) => {
  const kwargs = { min_value: { $PARAMETER: 'lo' }, max_value: { $PARAMETER: 'hi' } }
  for (const key of ['evaluation_parameters', 'suite_parameters']) {
    const suite = parseSuite({ [key]: { lo: 50, hi: 200 }, expectations: [{ expectation_type: 'expect_table_row_count_to_be_between', kwargs }] })
    const c = compile(suite, columns)
    const s = c.init()
    c.update(s, rows)
    t.equal(c.finish(s).results[0]!.success, true, key)
    const run = compile(suite, columns, { evaluationParameters: { hi: 60 } })
    const s2 = run.init()
    run.update(s2, rows)
    const r = run.finish(s2)
    t.equal(r.results[0]!.success, false, `${key}: the run's hi wins`)
    t.same(r.evaluation_parameters, { lo: 50, hi: 60 })
  }
  t.throws(() => parseSuite({ suite_parameters: [1], expectations: [] }), { code: 'ETL_SUITE', message: /suite_parameters must be object,null/ })
})
