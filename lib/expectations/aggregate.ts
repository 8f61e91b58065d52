/**
 * Whole-column statistics: min, max, sum, mean, standard deviation (median
 * and quantiles are in quantiles.ts). Their result carries `observed_value`
 * (plus element_count, missing_count and missing_percent unless BOOLEAN_ONLY).
 *
 * - sum / mean / stdev are exact: the state holds exact sums of x and x^2
 *   (exact.ts), so the result is the correctly rounded value of the exact
 *   statistic whatever the order or the partitioning of the rows (PostgreSQL
 *   computes these exactly for integer and numeric columns too). stdev is the
 *   sample standard deviation (ddof 1), as stddev_samp and GE. Values of a
 *   numeric column that do not fit a double are read through Number.
 */
import { EtlError } from '../errors.ts'
import type { Row } from '../types.ts'
import { columnOf, type BuildContext, type Check, type ColumnRef, type Outcome } from './check.ts'
import { meanOf, stdevOf, sumAdd, sumAddBig, sumAddSquare, sumMerge, sumValue } from './exact.ts'
import { boundKind } from './column-map.ts'
import { checkRange, expectationError, optBoolean } from './kwargs.ts'
import type { ExpectationResultDetail } from './types.ts'
import { coerceBound, compareKeys, isNumericKind, orderFn, renderValue, toNumber, type Key } from './values.ts'

/** The result of an aggregate expectation. */
export function aggregateResult(ctx: BuildContext, observed: unknown, n: number, missing: number, extra: Record<string, unknown> = {}): ExpectationResultDetail {
  if (ctx.format.result_format === 'BOOLEAN_ONLY') return {}
  return { observed_value: observed, element_count: n, missing_count: missing, missing_percent: n > 0 ? (missing / n) * 100 : null, ...extra }
}

/** A compiled min/max test. */
export interface Between {
  /** True when `observed` (an order key) is within the bounds; false for null. */
  test(observed: Key | null): boolean
}

/** min_value / max_value / strict_min / strict_max of an aggregate, coerced for the observed value's kind. */
export function betweenOf(ctx: BuildContext, col: ColumnRef | undefined, opts: { requireOne: boolean }): Between {
  const { min_value: minIn, max_value: maxIn } = ctx.kwargs
  checkRange(minIn, maxIn, opts)
  const kind = col ? boundKind(ctx, col) : 'number'
  const min = minIn === undefined || minIn === null ? undefined : coerceBound(minIn, kind, 'min_value')
  const max = maxIn === undefined || maxIn === null ? undefined : coerceBound(maxIn, kind, 'max_value')
  if (min !== undefined && max !== undefined && compareKeys(min, max) > 0)
    throw expectationError(`min_value (${JSON.stringify(minIn)}) cannot be greater than max_value (${JSON.stringify(maxIn)})`)
  const strictMin = optBoolean(ctx.kwargs, 'strict_min', false)
  const strictMax = optBoolean(ctx.kwargs, 'strict_max', false)
  return {
    test(o) {
      if (o === null || (typeof o === 'number' && Number.isNaN(o))) return false
      if (min !== undefined) {
        const c = compareKeys(o, min)
        if (strictMin ? c <= 0 : c < 0) return false
      }
      if (max !== undefined) {
        const c = compareKeys(o, max)
        if (strictMax ? c >= 0 : c > 0) return false
      }
      return true
    },
  }
}

/** The `column` kwarg, which must be numeric. */
export function numericColumn(ctx: BuildContext): ColumnRef {
  const col = columnOf(ctx)
  if (!isNumericKind(col.kind)) throw expectationError(`column ${col.name} (${col.type}) is not numeric (function requires a numeric column)`)
  return col
}

/**
 * GE compares a statistic with its bounds after computing it: on a column with
 * no value the statistic is None and the expectation fails without an error,
 * whatever the column's type. So a type problem (the mean of a text column, a
 * number bound for a text column) is an error only once the column has a value.
 * Argument problems (min > max, no bound where one is required) are errors at once.
 */
export function whenData<S>(ctx: BuildContext, requireOne: boolean, build: () => Check<S>): Check<S> {
  const col = columnOf(ctx)
  checkRange(ctx.kwargs['min_value'], ctx.kwargs['max_value'], { requireOne })
  try {
    return build()
  } catch (err) {
    if (!(err instanceof EtlError) || err.code !== 'ETL_EXPECTATION') throw err
    const c = col.index
    const deferred: Check<{ n: number; missing: number }> = {
      rowLevel: false,
      init: () => ({ n: 0, missing: 0 }),
      update(s, rows) {
        s.n += rows.length
        for (let i = 0; i < rows.length; i++) if ((rows[i]![c] ?? null) === null) s.missing++
      },
      merge: (a, b) => ({ n: a.n + b.n, missing: a.missing + b.missing }),
      finish(s) {
        if (s.n > s.missing) throw err
        return { success: false, result: aggregateResult(ctx, null, s.n, s.missing) }
      },
    }
    return deferred as unknown as Check<S>
  }
}

// ---- min / max ----

/** State of min/max: the best value so far (first occurrence wins ties). */
export interface ExtremeState {
  n: number
  missing: number
  best: { key: Key; value: unknown } | null
}

function extreme(ctx: BuildContext, wantMax: boolean): Check<ExtremeState> {
  const col = columnOf(ctx)
  const order = orderFn(col.kind)
  if (!order) throw expectationError(`column ${col.name} (${col.type}) has no ${wantMax ? 'max' : 'min'} (function ${wantMax ? 'max' : 'min'}(${col.type}) does not exist)`)
  const between = betweenOf(ctx, col, { requireOne: true })
  const c = col.index
  const better = (k: Key, than: Key): boolean => (wantMax ? compareKeys(k, than) > 0 : compareKeys(k, than) < 0)
  return {
    rowLevel: false,
    init: () => ({ n: 0, missing: 0, best: null }),
    update(s: ExtremeState, rows: readonly Row[]): void {
      s.n += rows.length
      for (let i = 0; i < rows.length; i++) {
        const v = rows[i]![c] ?? null
        if (v === null) {
          s.missing++
          continue
        }
        const k = order(v)
        if (s.best === null || better(k, s.best.key)) s.best = { key: k, value: v }
      }
    },
    merge: (a, b) => ({
      n: a.n + b.n,
      missing: a.missing + b.missing,
      best: a.best === null ? b.best : b.best !== null && better(b.best.key, a.best.key) ? b.best : a.best,
    }),
    finish(s): Outcome {
      const observed = s.best === null ? null : renderValue(s.best.value, col.kind)
      return { success: between.test(s.best?.key ?? null), result: aggregateResult(ctx, observed, s.n, s.missing) }
    },
  }
}

/** expect_column_max_to_be_between / expect_column_min_to_be_between (numbers, dates and times, text). */
export const columnMax = (ctx: BuildContext): Check<ExtremeState> => whenData(ctx, true, () => extreme(ctx, true))
export const columnMin = (ctx: BuildContext): Check<ExtremeState> => whenData(ctx, true, () => extreme(ctx, false))

// ---- sum / mean / stdev ----

/** State of sum/mean/stdev: exact sums of x and x^2, and counts. */
export interface MomentState {
  n: number
  missing: number
  /** Non-null values. */
  count: number
  sum: number[]
  sumSq: number[]
  /** NaN, +Infinity, -Infinity seen. */
  nan: number
  posInf: number
  negInf: number
}

type Statistic = 'sum' | 'mean' | 'stdev'

function moments(ctx: BuildContext, stat: Statistic, requireOne: boolean): Check<MomentState> {
  const between = betweenOf(ctx, undefined, { requireOne })
  const col = numericColumn(ctx)
  const c = col.index
  const squares = stat === 'stdev'
  const int8 = col.kind === 'int8'
  return {
    rowLevel: false,
    init: () => ({ n: 0, missing: 0, count: 0, sum: [], sumSq: [], nan: 0, posInf: 0, negInf: 0 }),
    update(s: MomentState, rows: readonly Row[]): void {
      s.n += rows.length
      for (let i = 0; i < rows.length; i++) {
        const v = rows[i]![c] ?? null
        if (v === null) {
          s.missing++
          continue
        }
        s.count++
        if (int8 && typeof v === 'string') {
          const b = BigInt(v)
          sumAddBig(s.sum, b)
          if (squares) sumAddBig(s.sumSq, b * b)
          continue
        }
        const x = toNumber(v)
        if (Number.isFinite(x)) {
          sumAdd(s.sum, x)
          if (squares) sumAddSquare(s.sumSq, x)
        } else if (Number.isNaN(x)) s.nan++
        else if (x > 0) s.posInf++
        else s.negInf++
      }
    },
    merge: (a, b) => ({
      n: a.n + b.n,
      missing: a.missing + b.missing,
      count: a.count + b.count,
      sum: sumMerge(a.sum, b.sum),
      sumSq: sumMerge(a.sumSq, b.sumSq),
      nan: a.nan + b.nan,
      posInf: a.posInf + b.posInf,
      negInf: a.negInf + b.negInf,
    }),
    finish(s): Outcome {
      let observed: number | null
      if (s.count === 0 || (stat === 'stdev' && s.count < 2)) observed = null
      else if (s.nan > 0 || (s.posInf > 0 && s.negInf > 0) || (stat === 'stdev' && s.posInf + s.negInf > 0)) observed = NaN
      else if (s.posInf > 0) observed = Infinity
      else if (s.negInf > 0) observed = -Infinity
      else if (stat === 'sum') observed = sumValue(s.sum)
      else if (stat === 'mean') observed = meanOf(s.sum, s.count)
      else observed = stdevOf(s.sum, s.sumSq, s.count)
      return { success: between.test(observed), result: aggregateResult(ctx, observed, s.n, s.missing) }
    },
  }
}

/** expect_column_sum_to_be_between (a bound required), _mean_ and _stdev_ (ddof 1); numeric columns. */
export const columnSum = (ctx: BuildContext): Check<MomentState> => whenData(ctx, true, () => moments(ctx, 'sum', true))
export const columnMean = (ctx: BuildContext): Check<MomentState> => whenData(ctx, false, () => moments(ctx, 'mean', false))
export const columnStdev = (ctx: BuildContext): Check<MomentState> => whenData(ctx, false, () => moments(ctx, 'stdev', false))
