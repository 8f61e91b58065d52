/**
 * Great Expectations' own test definitions (../shared/conformance/gx, see its
 * README): which apply to a PostgreSQL source, and how each dataset becomes a
 * table (typed from its `postgresql` schema, else by the pandas rule).
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const CONFORMANCE_DIR = process.env['CONFORMANCE_DIR'] ?? fileURLToPath(new URL('../../../shared/conformance/gx/', import.meta.url))

/** The groups whose datasets get a pk_index column (GE's runner does the same). */
export const ROW_LEVEL_GROUPS = ['column_map_expectations', 'column_pair_map_expectations', 'multicolumn_map_expectations']

export interface GxTest {
  readonly title: string
  readonly in: Record<string, unknown>
  readonly out: Record<string, unknown>
  readonly error?: unknown
  readonly tolerance?: number
  readonly suppress_test_for?: string[]
  readonly only_for?: string[]
}

export interface GxDataset {
  readonly data: Record<string, unknown[]>
  readonly schemas?: Record<string, Record<string, string>>
  readonly tests: GxTest[]
  readonly suppress_test_for?: string[]
  readonly only_for?: string[]
}

export interface Case {
  readonly group: string
  readonly file: string
  readonly type: string
  readonly datasetIndex: number
  readonly dataset: GxDataset
  readonly test: GxTest
  /** Why the test does not apply to PostgreSQL, or undefined when it does. */
  readonly skip: string | undefined
  /** Columns typed otherwise for this test alone (see RETYPED), or undefined. */
  readonly retype: Readonly<Record<string, string>> | undefined
}

/**
 * Three error tests are written for a backend whose column type differs from
 * the one PostgreSQL gets by the rules above, and on PostgreSQL's type Great
 * Expectations raises no error either (its own runner checks nothing for an
 * empty `out`, and has no SQL implementation of strftime at all:
 * great_expectations/self_check/util.py, expectations_not_implemented_v3_sql).
 * The error they test is real, so they run on a copy of their dataset with the
 * column typed as the backend they were written for:
 * - `numeric` holds the strings "1".."10": pandas keeps them as `str` (its
 *   schema says so), and comparing them with integer bounds is the TypeError
 *   of column_values_between.py; the PostgreSQL schema says INTEGER. As text,
 *   PostgreSQL refuses `text >= integer` too.
 * - `e` is a Spark TimestampType (its only schema); without a postgresql schema
 *   it would be text. As a timestamp, the values are already datetimes.
 */
export const RETYPED: Readonly<Record<string, { readonly columns: Readonly<Record<string, string>>; readonly why: string }>> = {
  'expect_column_values_to_be_between.json#error_on_string-to-int_comparisons': {
    columns: { numeric: 'text' }, why: 'the pandas str column of the test (postgresql schema: INTEGER)',
  },
  'expect_column_values_to_be_between_tz_naive.json#error_on_string-to-int_comparisons': {
    columns: { numeric: 'text' }, why: 'the pandas str column of the test (postgresql schema: INTEGER)',
  },
  'expect_column_values_to_match_strftime_format.json#negative_test_input_already_datetimes': {
    columns: { e: 'timestamp' }, why: 'the Spark TimestampType column of the test (no postgresql schema)',
  },
}

const ours = (list: readonly string[] | undefined): boolean => !!list && (list.includes('postgresql') || list.includes('sqlalchemy'))

/**
 * Tests whose expected result is another backend's, where Great Expectations'
 * SQL backend does otherwise (its source cited), and its own runner would not
 * notice (an empty `out` checks nothing; `error` is never read there):
 * great_expectations/self_check/util.py, check_json_test_result.
 */
export const OTHER_BACKENDS: Readonly<Record<string, string>> = {
  'expect_column_values_to_not_be_in_set.json#raise_typeerror_when_values_set_is_missing':
    'the error is pandas\'; on SQL a value_set of None is vacuously true (column_values_not_in_set.py, _sqlalchemy, 1.2)',
}

/** Why a test is skipped for PostgreSQL (suppress_test_for / only_for, on the test or on its dataset; OTHER_BACKENDS). */
export function skipReason(dataset: GxDataset, test: GxTest, file = ''): string | undefined {
  const other = OTHER_BACKENDS[`${file}#${test.title}`]
  if (other) return `written for another backend: ${other}`
  if (ours(test.suppress_test_for)) return `suppressed for ${test.suppress_test_for!.join(', ')}`
  if (test.only_for && !ours(test.only_for)) return `only for ${test.only_for.join(', ')}`
  if (ours(dataset.suppress_test_for)) return `dataset suppressed for ${dataset.suppress_test_for!.join(', ')}`
  if (dataset.only_for && !ours(dataset.only_for)) return `dataset only for ${dataset.only_for.join(', ')}`
  return undefined
}

/** Every test of every file, in a stable order. */
export function loadCases(dir = CONFORMANCE_DIR): Case[] {
  const cases: Case[] = []
  for (const group of readdirSync(dir).filter((d) => !d.includes('.')).sort()) {
    for (const file of readdirSync(join(dir, group)).filter((f) => f.endsWith('.json')).sort()) {
      const spec = JSON.parse(readFileSync(join(dir, group, file), 'utf8')) as { expectation_type: string; datasets: GxDataset[] }
      spec.datasets.forEach((dataset, datasetIndex) => {
        for (const test of dataset.tests)
          cases.push({
            group, file, type: spec.expectation_type, datasetIndex, dataset, test, skip: skipReason(dataset, test, file), retype: RETYPED[`${file}#${test.title}`]?.columns,
          })
      })
    }
  }
  return cases
}

const SCHEMA_TYPES: Readonly<Record<string, string>> = {
  DOUBLE_PRECISION: 'double precision', FLOAT: 'double precision', INTEGER: 'integer', BIGINT: 'bigint', SMALLINT: 'smallint',
  TEXT: 'text', VARCHAR: 'varchar', BOOLEAN: 'boolean', DATE: 'date', TIMESTAMP: 'timestamp', NUMERIC: 'numeric',
}

/**
 * The SQL type of a column: from the dataset's `postgresql` schema, else
 * pandas' to_sql rule: integers without null -> bigint; integers with a
 * null, or any fraction -> double precision; booleans without null ->
 * boolean; anything else -> text.
 */
export function sqlType(dataset: GxDataset, column: string, retype?: Readonly<Record<string, string>>): string {
  const over = retype?.[column]
  if (over) return over
  const given = dataset.schemas?.['postgresql']?.[column]
  if (given) return SCHEMA_TYPES[given] ?? given.toLowerCase()
  const values = dataset.data[column] ?? []
  const present = values.filter((v) => v !== null)
  const hasNull = present.length < values.length
  if (present.length && present.every((v) => typeof v === 'number')) {
    return !hasNull && present.every((v) => Number.isInteger(v)) ? 'bigint' : 'double precision'
  }
  if (present.length && !hasNull && present.every((v) => typeof v === 'boolean')) return 'boolean'
  return 'text'
}

/** A value as a query parameter for a column of `type`. */
export function sqlValue(v: unknown, type: string): unknown {
  if (v === null || v === undefined) return null
  if (type === 'text' || type === 'varchar') return typeof v === 'string' ? v : typeof v === 'boolean' ? (v ? 'True' : 'False') : String(v)
  return v
}
