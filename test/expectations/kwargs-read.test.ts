/**
 * No kwarg is accepted and then ignored: every kwarg the catalog accepts for a
 * type is read by that type's builder, or checked by the suite reader
 * (SUITE_CHECKED_KWARGS, which refuses the values it cannot honour). The
 * builders are run over Great Expectations' own test inputs for the type plus
 * the examples below, with the kwargs behind a Proxy that records each read.
 * Adding a kwarg to the catalog without reading it fails here. The kwargs
 * common to every type are read by the engine: their effect is checked last.
 */
import t from 'tap'
import { CATALOG, COMMON_KWARGS } from '../../lib/expectations/catalog.ts'
import { compile } from '../../lib/expectations/engine.ts'
import { DEFAULT_RESULT_FORMAT } from '../../lib/expectations/kwargs.ts'
import { parseSuite, SUITE_CHECKED_KWARGS } from '../../lib/expectations/suite.ts'
import type { ColumnStats } from '../../lib/expectations/types.ts'
import type { Column } from '../../lib/types.ts'
import { loadCases, ROW_LEVEL_GROUPS, sqlType } from '../conformance/cases.ts'

const PG_NAMES: Readonly<Record<string, string>> = {
  bigint: 'int8', integer: 'int4', smallint: 'int2', 'double precision': 'float8', boolean: 'bool', text: 'text', varchar: 'varchar',
  numeric: 'numeric', date: 'date', timestamp: 'timestamp',
}

/** Examples for kwargs that Great Expectations' test inputs never give for the type. */
const EXTRA: Readonly<Record<string, readonly Record<string, unknown>[]>> = {
  expect_column_values_to_be_between: [{ column: 'd', min_value: '2000-01-01', max_value: '2001-01-01', parse_strings_as_datetimes: true, strict_min: true, strict_max: true, mostly: 0.5 }],
  expect_column_max_to_be_between: [{ column: 'd', min_value: '2000-01-01', max_value: '2001-01-01', parse_strings_as_datetimes: true, strict_min: true, strict_max: true }],
  expect_column_min_to_be_between: [{ column: 'd', min_value: '2000-01-01', max_value: '2001-01-01', parse_strings_as_datetimes: true, strict_min: true, strict_max: true }],
  expect_column_values_to_be_in_set: [{ column: 's', value_set: ['2000-01-01'], parse_strings_as_datetimes: true, mostly: 0.5 }],
  expect_column_values_to_not_be_in_set: [{ column: 's', value_set: ['2000-01-01'], parse_strings_as_datetimes: true, mostly: 0.5 }],
  expect_column_values_to_be_increasing: [{ column: 's', strictly: true, parse_strings_as_datetimes: true, mostly: 0.5 }],
  expect_column_values_to_be_decreasing: [{ column: 's', strictly: true, parse_strings_as_datetimes: true, mostly: 0.5 }],
  expect_column_distinct_values_to_be_in_set: [{ column: 's', value_set: ['2000-01-01'], parse_strings_as_datetimes: true }],
  expect_column_distinct_values_to_contain_set: [{ column: 's', value_set: ['2000-01-01'], parse_strings_as_datetimes: true }],
  expect_column_distinct_values_to_equal_set: [{ column: 's', value_set: ['2000-01-01'], parse_strings_as_datetimes: true }],
  expect_column_pair_values_a_to_be_greater_than_b: [{ column_A: 'd', column_B: 'd', or_equal: true, parse_strings_as_datetimes: true, ignore_row_if: 'neither', mostly: 0.5 }],
  expect_column_pair_values_to_be_equal: [{ column_A: 'n', column_B: 'n', ignore_row_if: 'neither', mostly: 0.5 }],
  expect_column_pair_values_to_be_in_set: [{ column_A: 'n', column_B: 'n', value_pairs_set: [[1, 1]], ignore_row_if: 'neither', mostly: 0.5 }],
  expect_compound_columns_to_be_unique: [{ column_list: ['n', 's'], ignore_row_if: 'never', mostly: 0.5 }],
  expect_multicolumn_sum_to_equal: [{ column_list: ['n', 'n'], sum_total: 2, ignore_row_if: 'never', mostly: 0.5 }],
  expect_select_column_values_to_be_unique_within_record: [{ column_list: ['n', 's'], ignore_row_if: 'never', mostly: 0.5 }],
  expect_column_values_to_match_regex_list: [{ column: 's', regex_list: ['a'], match_on: 'all', mostly: 0.5 }],
  expect_column_values_to_match_like_pattern_list: [{ column: 's', like_pattern_list: ['a%'], match_on: 'all', mostly: 0.5 }],
  expect_column_value_z_scores_to_be_less_than: [{ column: 'n', threshold: 2, double_sided: false, mostly: 0.5 }],
  expect_column_most_common_value_to_be_in_set: [{ column: 's', value_set: ['a'], ties_okay: true }],
  expect_column_quantile_values_to_be_between: [{ column: 'n', quantile_ranges: { quantiles: [0.5], value_ranges: [[0, 1]] }, allow_relative_error: false }],
  expect_column_to_exist: [{ column: 'n', column_index: 0 }],
  expect_table_columns_to_match_set: [{ column_set: ['n'], exact_match: false }],
}
const EXTRA_COLUMNS: Column[] = [{ name: 'n', type: 'int4' }, { name: 's', type: 'text' }, { name: 'd', type: 'timestamp' }]

/** Builds `type` over `kwargs` and returns the names read (a throwing build still counts what it read first). */
function reads(type: string, kwargs: Record<string, unknown>, columns: readonly Column[]): Set<string> {
  const seen = new Set<string>()
  const proxy = new Proxy(kwargs, {
    get(target, key, receiver) {
      if (typeof key === 'string') seen.add(key)
      return Reflect.get(target, key, receiver)
    },
    has(target, key) {
      if (typeof key === 'string') seen.add(key)
      return Reflect.has(target, key)
    },
  })
  const stats: Record<string, ColumnStats> = Object.fromEntries(columns.map((c) => [c.name, { count: 3, mean: 0, stdev: 1 }]))
  try {
    CATALOG[type]!.build({ type, kwargs: proxy, columns, format: DEFAULT_RESULT_FORMAT, stats })
  } catch {
    // an error result is fine here: only the reads matter
  }
  return seen
}

t.test('every kwarg a type accepts is read by its builder or checked by the suite reader', async (t) => {
  const examples = new Map<string, { kwargs: Record<string, unknown>; columns: Column[] }[]>()
  for (const c of loadCases()) {
    const columns = Object.keys(c.dataset.data).map((name) => ({ name, type: PG_NAMES[sqlType(c.dataset, name)] ?? 'text' }))
    if (ROW_LEVEL_GROUPS.includes(c.group)) columns.push({ name: 'pk_index', type: 'int8' })
    const list = examples.get(c.type) ?? []
    list.push({ kwargs: c.test.in, columns })
    examples.set(c.type, list)
  }
  for (const [type, list] of Object.entries(EXTRA)) for (const kwargs of list) examples.get(type)?.push({ kwargs, columns: EXTRA_COLUMNS }) ?? examples.set(type, [{ kwargs, columns: EXTRA_COLUMNS }])
  for (const [type, entry] of Object.entries(CATALOG)) {
    const read = new Set<string>()
    for (const e of examples.get(type) ?? []) for (const k of reads(type, e.kwargs, e.columns)) read.add(k)
    const ignored = entry.kwargs.filter((k) => !read.has(k) && !Object.hasOwn(SUITE_CHECKED_KWARGS, k))
    t.same(ignored, [], `${type}: accepted but never read: ${ignored.join(', ')}`)
  }
})

t.test('the kwargs every type takes have their effect', async (t) => {
  const cols: Column[] = [{ name: 'x', type: 'int4' }]
  const run = (kwargs: Record<string, unknown>) => {
    const c = compile(parseSuite({ expectations: [{ expectation_type: 'expect_column_values_to_be_between', kwargs: { column: 'x', max_value: 1, ...kwargs } }] }), cols)
    const s = c.init()
    c.update(s, [[0], [1], [2]])
    return c.finish(s).results[0]!
  }
  t.same(run({ result_format: 'BOOLEAN_ONLY' }).result, {}, 'result_format')
  t.throws(() => run({ max_value: 'x', catch_exceptions: false }), { code: 'ETL_EXPECTATION' }, 'catch_exceptions')
  t.equal(run({ row_condition: 'x > 0', condition_parser: 'pandas' }).result.element_count, 2, 'row_condition, condition_parser')
  t.equal(run({ row_condition: 'x > 0', condition_parser: 'nope' }).exception_info.raised_exception, true, 'condition_parser')
  t.same(run({ meta: { label: 'L' } }).meta['label'], 'L', 'meta')
  for (const k of COMMON_KWARGS) t.ok(['result_format', 'catch_exceptions', 'row_condition', 'condition_parser'].includes(k) || Object.hasOwn(SUITE_CHECKED_KWARGS, k), `${k} is covered`)
})
