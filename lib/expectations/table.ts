/**
 * Expectations on the table's shape (row count, columns) and on column types.
 * They need no per-row work beyond counting rows.
 *
 * Column types are named as GE names them for PostgreSQL (SQLAlchemy's
 * dialect types): int4 is INTEGER, int8 BIGINT, float8 DOUBLE_PRECISION,
 * text TEXT, and so on. A type also matches the names of its SQLAlchemy
 * base classes (Integer, Float, String ...), as GE's `issubclass` test does.
 */
import type { Row } from '../types.ts'
import { columnOf, type BuildContext, type Check, type Outcome } from './check.ts'
import { betweenOf } from './aggregate.ts'
import { expectationError, mostlyOf, optBoolean, optInteger, optStringList, reqString } from './kwargs.ts'

/** PostgreSQL type -> the SQLAlchemy type names it satisfies (the dialect's own name first). */
const SA_TYPES: Readonly<Record<string, readonly string[]>> = {
  int2: ['SMALLINT', 'SmallInteger', 'Integer'],
  int4: ['INTEGER', 'Integer'],
  int8: ['BIGINT', 'BigInteger', 'Integer'],
  float4: ['REAL', 'Float', 'Numeric'],
  float8: ['DOUBLE_PRECISION', 'Double', 'Float', 'Numeric'],
  numeric: ['NUMERIC', 'Numeric'],
  bool: ['BOOLEAN', 'Boolean'],
  text: ['TEXT', 'Text', 'String'],
  varchar: ['VARCHAR', 'String'],
  bpchar: ['CHAR', 'String'],
  char: ['CHAR', 'String'],
  name: ['NAME', 'String'],
  date: ['DATE', 'Date'],
  timestamp: ['TIMESTAMP', 'DateTime'],
  timestamptz: ['TIMESTAMP', 'DateTime'],
  time: ['TIME', 'Time'],
  timetz: ['TIME', 'Time'],
  interval: ['INTERVAL', 'Interval'],
  json: ['JSON'],
  jsonb: ['JSONB', 'JSON'],
  uuid: ['UUID', 'Uuid'],
  bytea: ['BYTEA', 'LargeBinary'],
}

/** The type names a PostgreSQL column type answers to. */
export function typeNames(pgType: string): readonly string[] {
  if (pgType.startsWith('_')) return ['ARRAY']
  return SA_TYPES[pgType] ?? [pgType.toUpperCase()]
}

/** State of the table checks: rows seen. */
export interface RowCountState {
  n: number
}

/** A check that only counts rows and decides at the end. */
function tableCheck(finish: (rows: number) => Outcome): Check<RowCountState> {
  return {
    rowLevel: false,
    init: () => ({ n: 0 }),
    update(s: RowCountState, rows: readonly Row[]): void {
      s.n += rows.length
    },
    merge: (a, b) => ({ n: a.n + b.n }),
    finish: (s) => finish(s.n),
  }
}

const observedOnly = (ctx: BuildContext, observed: unknown, extra: Record<string, unknown> = {}): Outcome['result'] =>
  ctx.format.result_format === 'BOOLEAN_ONLY' ? {} : { observed_value: observed, ...extra }

/** expect_column_values_to_be_of_type: observed_value is the column's type name. */
export function ofType(ctx: BuildContext): Check<RowCountState> {
  const col = columnOf(ctx)
  const wanted = reqString(ctx.kwargs, 'type_')
  // mostly is checked, and changes nothing: every value of a PostgreSQL column has the column's type (GE's SQL backend judges the column too)
  mostlyOf(ctx.kwargs)
  const names = typeNames(col.type)
  return tableCheck(() => ({ success: names.includes(wanted), result: observedOnly(ctx, names[0]) }))
}

/** expect_column_values_to_be_in_type_list (null list: vacuously true). */
export function inTypeList(ctx: BuildContext): Check<RowCountState> {
  const col = columnOf(ctx)
  const list = optStringList(ctx.kwargs, 'type_list')
  mostlyOf(ctx.kwargs) // as in ofType
  const names = typeNames(col.type)
  return tableCheck(() => ({ success: list === undefined || list.some((t) => names.includes(t)), result: observedOnly(ctx, names[0]) }))
}

/** expect_column_to_exist (column_index: 0-based position). */
export function columnToExist(ctx: BuildContext): Check<RowCountState> {
  const name = reqString(ctx.kwargs, 'column')
  const at = optInteger(ctx.kwargs, 'column_index')
  const index = ctx.columns.findIndex((c) => c.name === name)
  const success = index >= 0 && (at === undefined || at === index)
  return tableCheck(() => ({ success, result: {} }))
}

/** expect_table_column_count_to_be_between. */
export function columnCountBetween(ctx: BuildContext): Check<RowCountState> {
  const between = betweenOf(ctx, undefined, { requireOne: false })
  const observed = ctx.columns.length
  return tableCheck(() => ({ success: between.test(observed), result: observedOnly(ctx, observed) }))
}

/** expect_table_column_count_to_equal. */
export function columnCountEqual(ctx: BuildContext): Check<RowCountState> {
  const value = optInteger(ctx.kwargs, 'value')
  if (value === undefined) throw expectationError('value must be an integer, got None (not a valid integer)')
  const observed = ctx.columns.length
  return tableCheck(() => ({ success: observed === value, result: observedOnly(ctx, observed) }))
}

/** expect_table_columns_to_match_ordered_list (null list: vacuously true). */
export function columnsMatchOrderedList(ctx: BuildContext): Check<RowCountState> {
  const list = optStringList(ctx.kwargs, 'column_list')
  const names = ctx.columns.map((c) => c.name)
  const mismatched: Record<string, unknown>[] = []
  if (list) {
    for (let i = 0; i < Math.max(list.length, names.length); i++)
      if (list[i] !== names[i]) mismatched.push({ 'Expected Column Position': i, 'Expected': list[i] ?? null, 'Found': names[i] ?? null })
  }
  return tableCheck(() => ({
    success: mismatched.length === 0,
    result: observedOnly(ctx, names, mismatched.length ? { details: { mismatched } } : {}),
  }))
}

/** expect_table_columns_to_match_set: details.mismatched {unexpected, missing}; exact_match default true. */
export function columnsMatchSet(ctx: BuildContext): Check<RowCountState> {
  const set = optStringList(ctx.kwargs, 'column_set')
  const exact = optBoolean(ctx.kwargs, 'exact_match', true)
  const names = ctx.columns.map((c) => c.name)
  if (!set && !exact) return tableCheck(() => ({ success: true, result: observedOnly(ctx, names) }))
  const wanted = set ?? []
  const unexpected = names.filter((n) => !wanted.includes(n))
  const missing = wanted.filter((n) => !names.includes(n))
  const mismatched: Record<string, string[]> = {}
  if (unexpected.length) mismatched['unexpected'] = unexpected
  if (missing.length) mismatched['missing'] = missing
  const success = missing.length === 0 && (!exact || unexpected.length === 0)
  return tableCheck(() => ({ success, result: observedOnly(ctx, names, { details: { mismatched } }) }))
}

/** expect_table_row_count_to_be_between. */
export function rowCountBetween(ctx: BuildContext): Check<RowCountState> {
  const between = betweenOf(ctx, undefined, { requireOne: false })
  return tableCheck((n) => ({ success: between.test(n), result: observedOnly(ctx, n) }))
}

/** expect_table_row_count_to_equal. */
export function rowCountEqual(ctx: BuildContext): Check<RowCountState> {
  const value = optInteger(ctx.kwargs, 'value')
  if (value === undefined) throw expectationError('value must be an integer, got None (not a valid integer)')
  return tableCheck((n) => ({ success: n === value, result: observedOnly(ctx, n) }))
}
