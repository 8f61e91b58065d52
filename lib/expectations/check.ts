/**
 * The contract every expectation family implements, and helpers they share.
 *
 * A `Check` is compiled once per (expectation, column list). Its state is
 * plain data (numbers, arrays, plain objects, Maps; see state-json.ts for the
 * JSON form); `update` folds one batch into it column-wise, in place; `merge`
 * is pure and combines the states of two partitions, `a` coming before `b`
 * in source order; `finish` computes GE's `success` and `result`.
 *
 *     init() -> update(s, rows...) ... -> merge(s1, s2) -> finish(s)
 *
 * No node:stream here: the same core serves the stream stage, a CSV re-run,
 * a test, or a worker that validates one key range.
 */
import type { Column, Row } from '../types.ts'
import { expectationError, type Kwargs } from './kwargs.ts'
import type { ColumnStats, ExpectationResultDetail, ResultFormat } from './types.ts'
import { kindOf, renderValue, type ValueKind } from './values.ts'

/** Where row-level checks report the rows they fail (used by the stage for 'invalid' and quarantine). */
export interface FailureSink {
  add(rowInBatch: number, expectation: number): void
}

/** What a check finishes with: GE's `success` and `result`. */
export interface Outcome {
  readonly success: boolean
  readonly result: ExpectationResultDetail
}

/** One compiled expectation: state S is plain data (see the file header). */
export interface Check<S> {
  /** True when a row's verdict is known as the row passes (it can be reported and quarantined). */
  readonly rowLevel: boolean
  init(): S
  /** Folds rows into `state`. `base`: rows of this partition before `rows[0]`. `self`: this expectation's index. */
  update(state: S, rows: readonly Row[], base: number, sink: FailureSink | undefined, self: number): void
  /** a then b, in source order. Pure. */
  merge(a: S, b: S): S
  finish(state: S): Outcome
}

/** What a builder gets: the evaluated kwargs, the columns, the resolved result format, prepass statistics. */
export interface BuildContext {
  readonly type: string
  readonly kwargs: Kwargs
  readonly columns: readonly Column[]
  readonly format: ResultFormat
  /** Whole-column statistics from a prepass (z-scores), by column name. */
  readonly stats: Readonly<Record<string, ColumnStats>>
}

/** Compiles one expectation; throws ETL_EXPECTATION for a kwarg value that cannot work. */
export type Builder = (ctx: BuildContext) => Check<unknown>

/** A resolved column: position, name, PostgreSQL type and value kind. */
export interface ColumnRef {
  readonly index: number
  readonly name: string
  readonly type: string
  readonly kind: ValueKind
}

/** Finds a column by name. Throws ETL_EXPECTATION when it is missing. */
export function findColumn(ctx: BuildContext, name: unknown, what = 'column'): ColumnRef {
  if (typeof name !== 'string') throw expectationError(`${what} must be a column name, got ${name === undefined ? 'nothing' : JSON.stringify(name)}`)
  const index = ctx.columns.findIndex((c) => c.name === name)
  if (index < 0) throw expectationError(`column ${JSON.stringify(name)} is not in the table (columns: ${ctx.columns.map((c) => c.name).join(', ')})`)
  const type = ctx.columns[index]!.type
  return { index, name, type, kind: kindOf(type) }
}

/** The `column` kwarg resolved. */
export function columnOf(ctx: BuildContext): ColumnRef {
  return findColumn(ctx, ctx.kwargs['column'])
}

/** How many unexpected values a state keeps: all for COMPLETE, none for BOOLEAN_ONLY, else the partial count. */
export function capOf(format: ResultFormat): number {
  if (format.result_format === 'COMPLETE') return Infinity
  if (format.result_format === 'BOOLEAN_ONLY') return 0
  return format.partial_unexpected_count
}

/** Builds one entry of unexpected_index_list from a row. */
export type IndexEntryFn = (row: Row) => Record<string, unknown>

/**
 * With `unexpected_index_column_names`, the function building one entry of
 * `unexpected_index_list`: the checked columns' values plus the index
 * columns' values (`{"x": 10, "pk_index": 9}`). Undefined otherwise.
 */
export function indexEntryFn(ctx: BuildContext, shown: readonly ColumnRef[]): IndexEntryFn | undefined {
  const names = ctx.format.unexpected_index_column_names
  if (!names || ctx.format.result_format === 'BOOLEAN_ONLY') return undefined
  const refs = [...shown, ...names.map((n) => findColumn(ctx, n, 'unexpected_index_column_names'))]
  return (row) => {
    const entry: Record<string, unknown> = {}
    for (const r of refs) entry[r.name] = renderValue(row[r.index] ?? null, r.kind)
    return entry
  }
}
