/**
 * Order statistics: expect_column_median_to_be_between and
 * expect_column_quantile_values_to_be_between. Exact: the state counts each
 * distinct value, so memory grows with the number of distinct values (not
 * with the number of rows). Quantiles are PostgreSQL's percentile_disc (what
 * GE's SQL backend runs); the median of an even count is the mean of the two
 * middle values. NaN sorts last, as in PostgreSQL.
 */
import { aggregateResult, betweenOf, numericColumn, whenData } from './aggregate.ts'
import type { BuildContext, Check, ColumnRef, Outcome } from './check.ts'
import { expectationError } from './kwargs.ts'
import { compareKeys, toNumber } from './values.ts'

/** State of median/quantiles: occurrences of each distinct value. */
export interface CountsState {
  n: number
  missing: number
  /** value -> occurrences. */
  counts: Map<number, number>
}

function countNumbers(col: ColumnRef): Pick<Check<CountsState>, 'init' | 'update' | 'merge'> {
  const c = col.index
  return {
    init: () => ({ n: 0, missing: 0, counts: new Map() }),
    update(s, rows) {
      s.n += rows.length
      for (let i = 0; i < rows.length; i++) {
        const v = rows[i]![c] ?? null
        if (v === null) {
          s.missing++
          continue
        }
        const x = toNumber(v)
        s.counts.set(x, (s.counts.get(x) ?? 0) + 1)
      }
    },
    merge(a, b) {
      const counts = new Map(a.counts)
      for (const [x, k] of b.counts) counts.set(x, (counts.get(x) ?? 0) + k)
      return { n: a.n + b.n, missing: a.missing + b.missing, counts }
    },
  }
}

/** Sorted distinct values and the cumulative counts (NaN last, as PostgreSQL sorts it). */
function cumulative(counts: Map<number, number>): { values: number[]; upTo: number[]; total: number } {
  const values = [...counts.keys()].sort(compareKeys as (a: number, b: number) => number)
  const upTo: number[] = []
  let total = 0
  for (const v of values) {
    total += counts.get(v)!
    upTo.push(total)
  }
  return { values, upTo, total }
}

/** The value at 1-based position `pos` of the sorted column. */
function at(cum: { values: number[]; upTo: number[] }, pos: number): number {
  let lo = 0
  let hi = cum.upTo.length - 1
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (cum.upTo[mid]! >= pos) hi = mid
    else lo = mid + 1
  }
  return cum.values[lo]!
}

/** expect_column_median_to_be_between. */
export function columnMedian(ctx: BuildContext): Check<CountsState> {
  return whenData(ctx, false, () => median(ctx))
}

function median(ctx: BuildContext): Check<CountsState> {
  const between = betweenOf(ctx, undefined, { requireOne: false })
  const col = numericColumn(ctx)
  return {
    rowLevel: false,
    ...countNumbers(col),
    finish(s): Outcome {
      const cum = cumulative(s.counts)
      let observed: number | null = null
      if (cum.total > 0) {
        const half = Math.floor((cum.total + 1) / 2)
        observed = cum.total % 2 === 1 ? at(cum, half) : (at(cum, half) + at(cum, half + 1)) / 2
      }
      return { success: between.test(observed), result: aggregateResult(ctx, observed, s.n, s.missing) }
    },
  }
}

/** expect_column_quantile_values_to_be_between: quantile_ranges {quantiles, value_ranges}; observed {quantiles, values}. */
export function columnQuantiles(ctx: BuildContext): Check<CountsState> {
  const col = numericColumn(ctx)
  // The quantiles are exact (PostgreSQL's percentile_disc, as GE's SQL backend computes them there), so any allowed error is met.
  const relative = ctx.kwargs['allow_relative_error'] ?? false
  if (typeof relative !== 'boolean' && !(typeof relative === 'number' && relative >= 0 && relative <= 1))
    throw expectationError(`allow_relative_error must be true, false or a number between 0 and 1, got ${JSON.stringify(relative)}`)
  const qr = ctx.kwargs['quantile_ranges'] as { quantiles?: unknown; value_ranges?: unknown } | null | undefined
  const quantiles = qr?.quantiles
  const ranges = qr?.value_ranges
  if (!Array.isArray(quantiles) || !quantiles.every((q) => typeof q === 'number' && q >= 0 && q <= 1))
    throw expectationError('quantile_ranges.quantiles must be a list of numbers between 0 and 1')
  if (!Array.isArray(ranges) || ranges.length !== quantiles.length)
    throw expectationError('quantile_ranges.value_ranges must hold one [min, max] range per quantile')
  for (const r of ranges) {
    if (!Array.isArray(r) || r.length !== 2 || !r.every((x) => x === null || typeof x === 'number'))
      throw expectationError(`each value range must be [min, max] (numbers or null), got ${JSON.stringify(r)}`)
    if (r[0] !== null && r[1] !== null && r[0] > r[1]) throw expectationError(`value range ${JSON.stringify(r)}: min cannot be greater than max`)
  }
  return {
    rowLevel: false,
    ...countNumbers(col),
    finish(s): Outcome {
      const cum = cumulative(s.counts)
      const values = quantiles.map((q: number) => (cum.total === 0 ? null : at(cum, Math.max(1, Math.ceil(q * cum.total)))))
      const each = values.map((v, i) => {
        const [lo, hi] = ranges[i] as [number | null, number | null]
        return v !== null && (lo === null || v >= lo) && (hi === null || v <= hi)
      })
      return {
        success: each.every(Boolean),
        result: aggregateResult(ctx, { quantiles, values }, s.n, s.missing, ctx.format.result_format === 'BOOLEAN_ONLY' ? {} : { details: { success_details: each } }),
      }
    },
  }
}
