/**
 * Where Great Expectations' SQL backend is followed on purpose: value_set
 * None, a NULL in expect_multicolumn_sum_to_equal, or_equal over two NULLs,
 * parse_strings_as_datetimes bounds, cross-type bounds, strftime over dates;
 * row_condition with both parsers; older type names; kwargs refused rather
 * than ignored. Through the pure engine.
 */
import t from 'tap'
import { compile } from '../../lib/expectations/engine.ts'
import { parseSuite } from '../../lib/expectations/suite.ts'
import type { ExpectationResult } from '../../lib/expectations/types.ts'
import type { Column, Row } from '../../lib/types.ts'

const columns: Column[] = [
  { name: 'a', type: 'int4' }, { name: 'b', type: 'float8' }, { name: 's', type: 'text' }, { name: 'd', type: 'timestamp' }, { name: 'f', type: 'bool' },
]
const rows: Row[] = [
  [1, 2, 'x', '2000-01-01T00:00:00Z', true],
  [2, null, 'y', '2000-06-01T00:00:00Z', false],
  [null, null, null, null, null],
  [3, 0, 'x', '2001-01-01T00:00:00Z', true],
  [4, 1, "it's", '1999-12-31T00:00:00Z', false],
]

function one(type: string, kwargs: Record<string, unknown>, data: readonly Row[] = rows): ExpectationResult {
  const c = compile(parseSuite({ expectations: [{ expectation_type: type, kwargs }] }), columns, { resultFormat: 'COMPLETE' })
  const s1 = c.init()
  const s2 = c.init()
  c.update(s1, data.slice(0, 2))
  c.update(s2, data.slice(2))
  return c.finish(c.merge(s1, s2)).results[0]!
}
const message = (r: ExpectationResult): string => r.exception_info.exception_message ?? ''

t.test('value_set None is vacuously true for in_set and not_in_set (GE SQL, 1.2)', async (t) => {
  for (const type of ['expect_column_values_to_be_in_set', 'expect_column_values_to_not_be_in_set']) {
    const r = one(type, { column: 'a', value_set: null })
    t.equal(r.exception_info.raised_exception, false, type)
    t.equal(r.success, true, type)
    t.equal(r.result.unexpected_count, 0, type)
  }
  // the distinct-set types, as GE's _validate: "in" passes with None or an empty set; contain / equal need a set
  t.equal(one('expect_column_distinct_values_to_be_in_set', { column: 'a', value_set: null }).success, true)
  t.equal(one('expect_column_distinct_values_to_be_in_set', { column: 'a', value_set: [] }).success, true)
  t.equal(one('expect_column_distinct_values_to_be_in_set', { column: 'a', value_set: [1] }).success, false)
  for (const type of ['expect_column_distinct_values_to_contain_set', 'expect_column_distinct_values_to_equal_set'])
    t.match(message(one(type, { column: 'a', value_set: null })), 'value_set must be a list', type)
  // a condition_parser that does not exist is an error even without a row_condition
  t.match(message(one('expect_column_values_to_not_be_null', { column: 'a', condition_parser: 'sql' })), 'not a valid enumeration member')
  // an empty set is another matter: nothing is in it
  t.equal(one('expect_column_values_to_be_in_set', { column: 'a', value_set: [] }).result.unexpected_count, 4)
})

t.test('multicolumn sum: a NULL in a kept row makes the sum NULL, and GE SQL does not count it unexpected', async (t) => {
  // a + b: 3, NULL (kept: one value missing), ignored (all missing), 3, 5
  const r = one('expect_multicolumn_sum_to_equal', { column_list: ['a', 'b'], sum_total: 3 })
  t.equal(r.result.element_count, 5)
  t.equal(r.result.missing_count, 1)
  t.same(r.result.unexpected_list, [{ a: 4, b: 1 }])
  const any = one('expect_multicolumn_sum_to_equal', { column_list: ['a', 'b'], sum_total: 3, ignore_row_if: 'any_value_is_missing' })
  t.equal(any.result.missing_count, 2)
  t.equal(any.result.unexpected_count, 1)
})

t.test('pair or_equal: two NULLs pass (A >= B OR both NULL), one NULL fails', async (t) => {
  const r = one('expect_column_pair_values_a_to_be_greater_than_b', { column_A: 'a', column_B: 'b', or_equal: true, ignore_row_if: 'neither' })
  t.same(r.result.unexpected_list, [[1, 2], [2, null]])
  const strict = one('expect_column_pair_values_a_to_be_greater_than_b', { column_A: 'a', column_B: 'b', ignore_row_if: 'neither' })
  t.same(strict.result.unexpected_list, [[1, 2], [2, null], [null, null]])
})

t.test('parse_strings_as_datetimes: min > max compares dates, not texts', async (t) => {
  const r = one('expect_column_values_to_be_between', { column: 'd', min_value: 'Jan 01 2000', max_value: 'Dec 31 2000', parse_strings_as_datetimes: true })
  t.equal(r.exception_info.raised_exception, false, message(r))
  t.same(r.result.unexpected_list, ['2001-01-01T00:00:00', '1999-12-31T00:00:00'])
  const max = one('expect_column_max_to_be_between', { column: 'd', min_value: 'Jan 01 2000', max_value: 'Dec 31 2000', parse_strings_as_datetimes: true })
  t.equal(max.exception_info.raised_exception, false, message(max))
  t.equal(max.success, false)
  const reversed = one('expect_column_values_to_be_between', { column: 'd', min_value: 'Dec 31 2000', max_value: 'Jan 01 2000', parse_strings_as_datetimes: true })
  t.match(message(reversed), 'cannot be greater than max_value')
  // on text, numbers or a pair of text columns it is refused by name, as GE's SQL backend raises NotImplementedError
  t.match(message(one('expect_column_values_to_be_between', { column: 's', min_value: 'a', max_value: 'b', parse_strings_as_datetimes: true })), 'parse_strings_as_datetimes is not supported on column s (text)')
  t.match(message(one('expect_column_min_to_be_between', { column: 'a', min_value: 1, parse_strings_as_datetimes: true })), 'parse_strings_as_datetimes is not supported on column a')
  t.match(message(one('expect_column_pair_values_a_to_be_greater_than_b', { column_A: 'a', column_B: 'b', parse_strings_as_datetimes: true })), 'parse_strings_as_datetimes is not supported on columns a')
})

t.test('text values against number bounds, strftime over timestamps: errors, as GE reports them', async (t) => {
  t.match(message(one('expect_column_values_to_be_between', { column: 's', min_value: 0, max_value: 10 })), 'Column values, min_value, and max_value must either be None or of the same type.')
  t.match(message(one('expect_column_values_to_match_strftime_format', { column: 'd', strftime_format: '%Y-%m-%d' })), 'must be of type string')
})

t.test('row_condition, great_expectations parser: one comparison, NULL matches nothing', async (t) => {
  const cases: [string, number][] = [
    ['col("a") > 1', 3], ['col("a") != 2', 3], ['col("s") == "x"', 2], ["col(\"s\") == 'x'", 2], ['col("a").notnull()', 4], ['col("a").notNull()', 4],
    ['col("d") <= date("2000-06-01")', 3], ['col("a") == "3"', 1], ['col("b") >= -0.5e1', 3],
  ]
  for (const [cond, n] of cases) {
    for (const parser of ['great_expectations', 'great_expectations__experimental__']) {
      const r = one('expect_column_values_to_not_be_null', { column: 'f', row_condition: cond, condition_parser: parser })
      t.equal(r.exception_info.raised_exception, false, `${cond}: ${message(r)}`)
      t.equal(r.result.element_count, n, cond)
    }
  }
  for (const bad of ['col("a") > 1 & col("b") < 2', 'a > 1', 'col("s") > 5', 'col("zz") == 1', 'col("a") <= date("2000-01-01")']) {
    const r = one('expect_column_values_to_not_be_null', { column: 'f', row_condition: bad, condition_parser: 'great_expectations' })
    t.equal(r.exception_info.raised_exception, true, bad)
    t.match(message(r), 'row_condition', bad)
  }
})

t.test('row_condition, pandas parser: and/or/not, backticks, NaN matches only !=', async (t) => {
  const cases: [string, number][] = [
    ['a > 1', 3], ['a != 2', 4], ['a == 2 | s == "x"', 3], ['(a >= 2) & ~(s == "y")', 2], ['a >= 2 and not s == "y"', 2], ['`s` == "it\'s"', 1],
    ["s == 'x' or b < 1", 2], ['f == True', 2], ['2 < a', 2], ['a == "1"', 0], ['a != "1"', 5], ['b != 7', 5],
  ]
  for (const [cond, n] of cases) {
    const r = one('expect_column_values_to_not_be_null', { column: 'd', row_condition: cond, condition_parser: 'pandas' })
    t.equal(r.exception_info.raised_exception, false, `${cond}: ${message(r)}`)
    t.equal(r.result.element_count, n, cond)
  }
  for (const bad of ['a > @limit', 'a > 1 < 2', 'a +1 > 2', 's < 5', 's == 5', 'a > ', 'abs(a) > 1', 'a < "1"']) {
    const r = one('expect_column_values_to_not_be_null', { column: 'd', row_condition: bad, condition_parser: 'pandas' })
    t.equal(r.exception_info.raised_exception, true, bad)
  }
})

t.test('row_condition: counts, failing rows at their place, every family, parsers checked', async (t) => {
  const c = compile(parseSuite({ expectations: [
    { expectation_type: 'expect_column_values_to_be_between', kwargs: { column: 'a', max_value: 2, row_condition: 'col("s") == "x"', condition_parser: 'great_expectations' } },
  ] }), columns)
  const s = c.init()
  const failed: number[] = []
  c.update(s, rows, { add: (i) => failed.push(i) })
  t.same(failed, [3], 'the row number in the batch, not among the matching rows')
  t.equal(one('expect_column_max_to_be_between', { column: 'a', max_value: 2, row_condition: 'a < 3', condition_parser: 'pandas' }).success, true)
  t.equal(one('expect_table_row_count_to_equal', { value: 2, row_condition: 's == "x"', condition_parser: 'pandas' }).success, true)
  t.equal(one('expect_column_values_to_be_unique', { column: 's', row_condition: 'a != 1', condition_parser: 'pandas' }).success, true)
  t.match(message(one('expect_column_values_to_be_unique', { column: 's', row_condition: 'a > 1', condition_parser: 'bad_parser' })), 'not a valid enumeration member')
  t.match(message(one('expect_column_values_to_be_unique', { column: 's', row_condition: 'a > 1' })), 'condition_parser is required')
  t.match(message(one('expect_column_value_z_scores_to_be_less_than', { column: 'a', threshold: 2, row_condition: 'a > 1', condition_parser: 'pandas' })), 'row_condition is not supported on expect_column_value_z_scores_to_be_less_than')
})

t.test('older type names are read as the current ones, with a notice', async (t) => {
  const s = parseSuite({ expectations: [
    { expectation_type: 'expect_column_pair_values_A_to_be_greater_than_B', kwargs: { column_A: 'a', column_B: 'b' } },
    { expectation_type: 'expect_multicolumn_values_to_be_unique', kwargs: { column_list: ['a', 'b'] } },
  ] }, 'old.json')
  t.same(s.expectations.map((e) => e.config.expectation_type), ['expect_column_pair_values_a_to_be_greater_than_b', 'expect_select_column_values_to_be_unique_within_record'])
  t.equal(s.notices?.length, 2)
  t.match(s.notices?.[0], 'old.json: expectation #0 (expect_column_pair_values_A_to_be_greater_than_B): the older name of expect_column_pair_values_a_to_be_greater_than_b')
  const r = compile(s, columns).finish(compile(s, columns).init())
  t.equal(r.results.length, 2)
})

t.test('kwargs with a meaning elsewhere only are refused by name, not ignored', async (t) => {
  const refused: [string, Record<string, unknown>, string][] = [
    ['expect_column_max_to_be_between', { column: 'a', max_value: 1, output_strftime_format: '%Y' }, 'output_strftime_format is not supported'],
    ['expect_column_values_to_be_between', { column: 'a', max_value: 1, output_strftime_format: '%Y' }, 'output_strftime_format is not supported'],
    ['expect_column_values_to_be_between', { column: 'a', max_value: 1, allow_cross_type_comparisons: true }, 'allow_cross_type_comparisons true is not supported'],
    ['expect_column_pair_values_a_to_be_greater_than_b', { column_A: 'a', column_B: 'b', allow_cross_type_comparisons: true }, 'allow_cross_type_comparisons true is not supported'],
    ['expect_column_values_to_be_between', { column: 'a', max_value: 1, allow_cross_type_comparisons: 'yes' }, 'allow_cross_type_comparisons must be true or false'],
    ['expect_column_values_to_not_be_null', { column: 'a', include_config: false }, 'include_config false is not supported'],
    ['expect_column_values_to_not_be_null', { column: 'a', catch_exceptions: 'no' }, 'catch_exceptions must be true or false'],
    ['expect_column_values_to_not_be_null', { column: 'a', meta: 'x' }, 'meta must be an object'],
  ]
  for (const [type, kwargs, says] of refused) {
    t.throws(() => parseSuite({ expectations: [{ expectation_type: type, kwargs }] }), { code: 'ETL_SUITE', message: new RegExp(`expectation #0 \\(${type}\\): ${says}`) }, says)
  }
  // their harmless values are accepted
  const ok = one('expect_column_values_to_be_between', { column: 'a', max_value: 9, allow_cross_type_comparisons: false, output_strftime_format: null, include_config: true })
  t.equal(ok.success, true)
  // meta as a kwarg (the 0.x call form) is the expectation's meta
  const s = parseSuite({ expectations: [{ expectation_type: 'expect_column_values_to_not_be_null', kwargs: { column: 'a', meta: { label: 'A', note: 1 } } }] })
  t.equal(s.expectations[0]!.label, 'A')
  t.same(s.expectations[0]!.config.meta, { label: 'A', note: 1 })
})

t.test('result_format: exclude_unexpected_values drops the values and keeps counts and index lists; the rest is refused by name', async (t) => {
  const c = compile(parseSuite({ expectations: [{ expectation_type: 'expect_column_values_to_be_between', kwargs: { column: 'a', max_value: 2,
    result_format: { result_format: 'COMPLETE', exclude_unexpected_values: true, unexpected_index_column_names: ['s'] } } }] }), columns)
  const s = c.init()
  c.update(s, rows)
  const r = c.finish(s).results[0]!
  t.strictSame(r.result, {
    element_count: 5, unexpected_count: 2, unexpected_percent: 50, missing_count: 1, missing_percent: 20, unexpected_percent_total: 40, unexpected_percent_nonmissing: 50,
    partial_unexpected_index_list: [{ a: 3, s: 'x' }, { a: 4, s: "it's" }], unexpected_index_column_names: ['s'], unexpected_index_list: [{ a: 3, s: 'x' }, { a: 4, s: "it's" }],
  })
  for (const [key, says] of [
    ['include_unexpected_rows', 'result_format.include_unexpected_rows true is not supported'],
    ['return_unexpected_index_query', 'result_format.return_unexpected_index_query true is not supported'],
    ['unexpected_rows', 'result_format has no "unexpected_rows"'],
  ] as const) {
    t.throws(() => parseSuite({ expectations: [{ expectation_type: 'expect_column_values_to_not_be_null', kwargs: { column: 'a', result_format: { result_format: 'COMPLETE', [key]: true } } }] }),
      { code: 'ETL_SUITE', message: new RegExp(says.replace(/[.()]/g, '\\$&')) }, key)
  }
  t.equal(one('expect_column_values_to_not_be_null', { column: 'a', result_format: { result_format: 'SUMMARY', include_unexpected_rows: false, return_unexpected_index_query: false } }).success, false)
})
