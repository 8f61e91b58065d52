/**
 * Every expectation type this engine knows: its family, the kwargs it takes
 * (suite.ts rejects any other name), and the builder that compiles it.
 */
import type { Builder } from './check.ts'
import { columnMax, columnMean, columnMin, columnStdev, columnSum } from './aggregate.ts'
import { columnMedian, columnQuantiles } from './quantiles.ts'
import { beNull, notNull, valuesBetween, valuesInSet, valuesNotInSet, zScores } from './column-map.ts'
import { distinctContainSet, distinctEqualSet, distinctInSet, mostCommonInSet, proportionUnique, uniqueValueCount } from './distinct.ts'
import { multicolumnSum, pairEqual, pairGreater, pairInSet, uniqueWithinRecord } from './multi.ts'
import { decreasing, increasing } from './ordered.ts'
import {
  columnCountBetween, columnCountEqual, columnsMatchOrderedList, columnsMatchSet, columnToExist, inTypeList, ofType, rowCountBetween, rowCountEqual,
} from './table.ts'
import {
  dateutilParseable, jsonParseable, lengthsBetween, lengthsEqual, matchJsonSchema, matchLike, matchLikeList, matchRegex, matchRegexList, matchStrftime,
  notMatchLike, notMatchLikeList, notMatchRegex, notMatchRegexList,
} from './text-map.ts'
import { compoundUnique, valuesUnique } from './unique.ts'

/** GE's expectation families (the conformance folders). */
export type Family = 'column_map' | 'column_pair_map' | 'multicolumn_map' | 'column_aggregate' | 'table'

/** What the catalog knows of one type. */
export interface CatalogEntry {
  readonly family: Family
  readonly kwargs: readonly string[]
  readonly build: Builder
}

/** Accepted by every type. row_condition/condition_parser are accepted and reported as unsupported. */
export const COMMON_KWARGS = ['result_format', 'catch_exceptions', 'include_config', 'meta', 'row_condition', 'condition_parser'] as const

const MAP = ['column', 'mostly']
const BETWEEN = ['min_value', 'max_value', 'strict_min', 'strict_max']
const DATES = ['parse_strings_as_datetimes']
const PAIR = ['column_A', 'column_B', 'ignore_row_if', 'mostly']
const MULTI = ['column_list', 'ignore_row_if', 'mostly']

const entry = (family: Family, kwargs: readonly string[], build: Builder): CatalogEntry => ({ family, kwargs, build })

/** expectation_type -> family, kwarg names, builder. */
export const CATALOG: Readonly<Record<string, CatalogEntry>> = {
  // row-level, one column
  expect_column_values_to_not_be_null: entry('column_map', MAP, notNull),
  expect_column_values_to_be_null: entry('column_map', MAP, beNull),
  expect_column_values_to_be_between: entry('column_map', [...MAP, ...BETWEEN, ...DATES, 'allow_cross_type_comparisons', 'output_strftime_format'], valuesBetween),
  expect_column_values_to_be_in_set: entry('column_map', [...MAP, 'value_set', ...DATES], valuesInSet),
  expect_column_values_to_not_be_in_set: entry('column_map', [...MAP, 'value_set', ...DATES], valuesNotInSet),
  expect_column_values_to_be_unique: entry('column_map', MAP, valuesUnique),
  expect_column_value_lengths_to_be_between: entry('column_map', [...MAP, 'min_value', 'max_value'], lengthsBetween),
  expect_column_value_lengths_to_equal: entry('column_map', [...MAP, 'value'], lengthsEqual),
  expect_column_values_to_match_regex: entry('column_map', [...MAP, 'regex'], matchRegex),
  expect_column_values_to_not_match_regex: entry('column_map', [...MAP, 'regex'], notMatchRegex),
  expect_column_values_to_match_regex_list: entry('column_map', [...MAP, 'regex_list', 'match_on'], matchRegexList),
  expect_column_values_to_not_match_regex_list: entry('column_map', [...MAP, 'regex_list'], notMatchRegexList),
  expect_column_values_to_match_like_pattern: entry('column_map', [...MAP, 'like_pattern'], matchLike),
  expect_column_values_to_not_match_like_pattern: entry('column_map', [...MAP, 'like_pattern'], notMatchLike),
  expect_column_values_to_match_like_pattern_list: entry('column_map', [...MAP, 'like_pattern_list', 'match_on'], matchLikeList),
  expect_column_values_to_not_match_like_pattern_list: entry('column_map', [...MAP, 'like_pattern_list'], notMatchLikeList),
  expect_column_values_to_match_strftime_format: entry('column_map', [...MAP, 'strftime_format'], matchStrftime),
  expect_column_values_to_be_dateutil_parseable: entry('column_map', MAP, dateutilParseable),
  expect_column_values_to_be_json_parseable: entry('column_map', MAP, jsonParseable),
  expect_column_values_to_match_json_schema: entry('column_map', [...MAP, 'json_schema'], matchJsonSchema),
  expect_column_values_to_be_increasing: entry('column_map', [...MAP, 'strictly', ...DATES], increasing),
  expect_column_values_to_be_decreasing: entry('column_map', [...MAP, 'strictly', ...DATES], decreasing),
  expect_column_value_z_scores_to_be_less_than: entry('column_map', [...MAP, 'threshold', 'double_sided'], zScores),
  expect_column_values_to_be_of_type: entry('column_map', [...MAP, 'type_'], ofType),
  expect_column_values_to_be_in_type_list: entry('column_map', [...MAP, 'type_list'], inTypeList),
  // row-level, several columns
  expect_column_pair_values_a_to_be_greater_than_b: entry('column_pair_map', [...PAIR, 'or_equal', ...DATES, 'allow_cross_type_comparisons'], pairGreater),
  expect_column_pair_values_to_be_equal: entry('column_pair_map', PAIR, pairEqual),
  expect_column_pair_values_to_be_in_set: entry('column_pair_map', [...PAIR, 'value_pairs_set'], pairInSet),
  expect_compound_columns_to_be_unique: entry('multicolumn_map', MULTI, compoundUnique),
  expect_multicolumn_sum_to_equal: entry('multicolumn_map', [...MULTI, 'sum_total'], multicolumnSum),
  expect_select_column_values_to_be_unique_within_record: entry('multicolumn_map', MULTI, uniqueWithinRecord),
  // whole column
  expect_column_distinct_values_to_be_in_set: entry('column_aggregate', ['column', 'value_set', ...DATES], distinctInSet),
  expect_column_distinct_values_to_contain_set: entry('column_aggregate', ['column', 'value_set', ...DATES], distinctContainSet),
  expect_column_distinct_values_to_equal_set: entry('column_aggregate', ['column', 'value_set', ...DATES], distinctEqualSet),
  expect_column_max_to_be_between: entry('column_aggregate', ['column', ...BETWEEN, ...DATES, 'output_strftime_format'], columnMax),
  expect_column_min_to_be_between: entry('column_aggregate', ['column', ...BETWEEN, ...DATES, 'output_strftime_format'], columnMin),
  expect_column_mean_to_be_between: entry('column_aggregate', ['column', ...BETWEEN], columnMean),
  expect_column_median_to_be_between: entry('column_aggregate', ['column', ...BETWEEN], columnMedian),
  expect_column_sum_to_be_between: entry('column_aggregate', ['column', ...BETWEEN], columnSum),
  expect_column_stdev_to_be_between: entry('column_aggregate', ['column', ...BETWEEN], columnStdev),
  expect_column_unique_value_count_to_be_between: entry('column_aggregate', ['column', ...BETWEEN], uniqueValueCount),
  expect_column_proportion_of_unique_values_to_be_between: entry('column_aggregate', ['column', ...BETWEEN], proportionUnique),
  expect_column_most_common_value_to_be_in_set: entry('column_aggregate', ['column', 'value_set', 'ties_okay'], mostCommonInSet),
  expect_column_quantile_values_to_be_between: entry('column_aggregate', ['column', 'quantile_ranges', 'allow_relative_error'], columnQuantiles),
  // table
  expect_column_to_exist: entry('table', ['column', 'column_index'], columnToExist),
  expect_table_column_count_to_be_between: entry('table', ['min_value', 'max_value', 'strict_min', 'strict_max'], columnCountBetween),
  expect_table_column_count_to_equal: entry('table', ['value'], columnCountEqual),
  expect_table_columns_to_match_ordered_list: entry('table', ['column_list'], columnsMatchOrderedList),
  expect_table_columns_to_match_set: entry('table', ['column_set', 'exact_match'], columnsMatchSet),
  expect_table_row_count_to_be_between: entry('table', ['min_value', 'max_value', 'strict_min', 'strict_max'], rowCountBetween),
  expect_table_row_count_to_equal: entry('table', ['value'], rowCountEqual),
}

/** Every supported expectation type (51 names). */
export const EXPECTATION_TYPES: readonly string[] = Object.freeze(Object.keys(CATALOG))
