/**
 * Expectations over the set of distinct values of a column: distinct values
 * in / containing / equal to a set, the number and proportion of unique
 * values, the most common value. Exact: the state counts every distinct
 * non-null value, so memory grows with the number of distinct values.
 * Observed lists are sorted (numbers numerically, text by code unit, dates
 * and times chronologically).
 */
import type { Row } from '../types.ts'
import { columnOf, type BuildContext, type Check, type ColumnRef, type Outcome } from './check.ts'
import { aggregateResult, betweenOf } from './aggregate.ts'
import { memberKey, setKeys } from './column-map.ts'
import { expectationError, optBoolean, optList } from './kwargs.ts'
import { compareKeys, isTemporalKind, renderValue, type Key } from './values.ts'

/** State of the distinct-value expectations. */
export interface DistinctState {
  n: number
  missing: number
  /** key -> occurrences. */
  counts: Map<Key, number>
  /** key -> the value as first seen, for kinds whose key is not the value itself (dates, times, JSON). */
  shown: Map<Key, unknown>
}

function distinctCounter(ctx: BuildContext, col: ColumnRef): Omit<Check<DistinctState>, 'finish'> {
  const asDates = optBoolean(ctx.kwargs, 'parse_strings_as_datetimes', false)
  const key = memberKey(col, asDates)
  const keepShown = isTemporalKind(col.kind) || col.kind === 'json' || asDates
  const c = col.index
  return {
    rowLevel: false,
    init: () => ({ n: 0, missing: 0, counts: new Map(), shown: new Map() }),
    update(s: DistinctState, rows: readonly Row[]): void {
      s.n += rows.length
      for (let i = 0; i < rows.length; i++) {
        const v = rows[i]![c] ?? null
        if (v === null) {
          s.missing++
          continue
        }
        const k = key(v)
        const had = s.counts.get(k)
        s.counts.set(k, had === undefined ? 1 : had + 1)
        if (keepShown && had === undefined) s.shown.set(k, v)
      }
    },
    merge(a, b) {
      const counts = new Map(a.counts)
      const shown = new Map(a.shown)
      for (const [k, n] of b.counts) {
        const had = counts.get(k)
        counts.set(k, had === undefined ? n : had + n)
        if (had === undefined && b.shown.has(k)) shown.set(k, b.shown.get(k))
      }
      return { n: a.n + b.n, missing: a.missing + b.missing, counts, shown }
    },
  }
}

/** Distinct keys in order, with their shown values and counts. */
function sortedDistinct(s: DistinctState, col: ColumnRef): { keys: Key[]; values: unknown[]; counts: number[] } {
  const keys = [...s.counts.keys()].sort(compareKeys)
  const values = keys.map((k) => renderValue(s.shown.has(k) ? s.shown.get(k) : k, col.kind))
  return { keys, values, counts: keys.map((k) => s.counts.get(k)!) }
}

type SetRelation = 'in' | 'contain' | 'equal'

function distinctSet(ctx: BuildContext, relation: SetRelation): Check<DistinctState> {
  const col = columnOf(ctx)
  const list = optList(ctx.kwargs, 'value_set')
  const asDates = optBoolean(ctx.kwargs, 'parse_strings_as_datetimes', false)
  // GE (expect_column_distinct_values_to_*_set.py, _validate): for "in", None or an empty set passes; the others need a set
  if (list === undefined && relation !== 'in') throw expectationError("value_set must be a list, got None ('NoneType' object is not iterable)")
  const expected = list === undefined || (relation === 'in' && list.length === 0) ? undefined : setKeys(list, col, asDates)
  return {
    ...distinctCounter(ctx, col),
    finish(s): Outcome {
      const d = sortedDistinct(s, col)
      let success: boolean
      if (expected === undefined) success = relation === 'in'
      else if (relation === 'in') success = d.keys.every((k) => expected.has(k))
      else if (relation === 'contain') success = [...expected].every((k) => s.counts.has(k))
      else success = expected.size === d.keys.length && d.keys.every((k) => expected.has(k))
      const extra = relation === 'in' ? { details: { value_counts: d.values.map((value, i) => ({ value, count: d.counts[i] })) } } : {}
      return { success, result: aggregateResult(ctx, d.values, s.n, s.missing, extra) }
    },
  }
}

/** expect_column_distinct_values_to_be_in_set (a null or empty set: vacuously true), _contain_set, _equal_set (a set required). */
export const distinctInSet = (ctx: BuildContext): Check<DistinctState> => distinctSet(ctx, 'in')
export const distinctContainSet = (ctx: BuildContext): Check<DistinctState> => distinctSet(ctx, 'contain')
export const distinctEqualSet = (ctx: BuildContext): Check<DistinctState> => distinctSet(ctx, 'equal')

/** expect_column_unique_value_count_to_be_between: distinct non-null values. */
export function uniqueValueCount(ctx: BuildContext): Check<DistinctState> {
  const col = columnOf(ctx)
  const between = betweenOf(ctx, undefined, { requireOne: false })
  return {
    ...distinctCounter(ctx, col),
    finish(s): Outcome {
      const observed = s.counts.size
      return { success: between.test(observed), result: aggregateResult(ctx, observed, s.n, s.missing) }
    },
  }
}

/** expect_column_proportion_of_unique_values_to_be_between: distinct / non-null (0 on none). */
export function proportionUnique(ctx: BuildContext): Check<DistinctState> {
  const col = columnOf(ctx)
  const between = betweenOf(ctx, undefined, { requireOne: false })
  return {
    ...distinctCounter(ctx, col),
    finish(s): Outcome {
      const nonnull = s.n - s.missing
      const observed = nonnull > 0 ? s.counts.size / nonnull : 0
      return { success: between.test(observed), result: aggregateResult(ctx, observed, s.n, s.missing) }
    },
  }
}

/** The modes (every value tied for most frequent); success needs one mode in value_set, or any with ties_okay. */
export function mostCommonInSet(ctx: BuildContext): Check<DistinctState> {
  const col = columnOf(ctx)
  const list = optList(ctx.kwargs, 'value_set') ?? []
  const expected = setKeys(list, col, false)
  const tiesOkay = optBoolean(ctx.kwargs, 'ties_okay', false)
  return {
    ...distinctCounter(ctx, col),
    finish(s): Outcome {
      const d = sortedDistinct(s, col)
      let top = 0
      for (const k of d.counts) if (k > top) top = k
      const modes = d.keys.filter((_, i) => d.counts[i] === top)
      const shown = d.values.filter((_, i) => d.counts[i] === top)
      const hits = modes.filter((k) => expected.has(k)).length
      const success = tiesOkay ? hits > 0 : modes.length === 1 && hits === 1
      return { success, result: aggregateResult(ctx, s.counts.size ? shown : null, s.n, s.missing) }
    },
  }
}
