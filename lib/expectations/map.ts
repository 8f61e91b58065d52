/**
 * The state and result of a "map" expectation (a verdict per row): counters,
 * plus the first unexpected values (and index entries) in row order, capped
 * at `partial_unexpected_count`, or all of them for COMPLETE (memory then
 * grows with the number of failing rows).
 *
 * formatMap() builds GE's result (`_format_map_output`):
 *   BASIC    element_count, unexpected_count, unexpected_percent,
 *            partial_unexpected_list, missing_count, missing_percent,
 *            unexpected_percent_total, unexpected_percent_nonmissing
 *   SUMMARY  + partial_unexpected_counts, partial_unexpected_index_list
 *   COMPLETE + unexpected_list, unexpected_index_list
 */
import type { ExpectationResultDetail, ResultFormat } from './types.ts'

/** The state of a map expectation (plain data). */
export interface MapState {
  /** Rows seen. */
  n: number
  /** Rows not judged: null values, or rows left out by ignore_row_if. */
  missing: number
  unexpected: number
  /** First unexpected values, in row order (capped). */
  values: unknown[]
  /** Index entries aligned with `values` (only with unexpected_index_column_names). */
  ids: unknown[]
}

/** A fresh map state. */
export function initMap(): MapState {
  return { n: 0, missing: 0, unexpected: 0, values: [], ids: [] }
}

function concatCapped(a: readonly unknown[], b: readonly unknown[], cap: number): unknown[] {
  if (a.length >= cap) return a.slice(0, cap)
  const out = a.concat(b)
  return out.length > cap ? out.slice(0, cap) : out
}

/** a then b; lists keep the first `cap` entries in row order. Pure. */
export function mergeMap(a: MapState, b: MapState, cap: number): MapState {
  return {
    n: a.n + b.n,
    missing: a.missing + b.missing,
    unexpected: a.unexpected + b.unexpected,
    values: concatCapped(a.values, b.values, cap),
    ids: concatCapped(a.ids, b.ids, cap),
  }
}

/** Python's str() for sorting partial_unexpected_counts ties. */
function pyStr(v: unknown): string {
  if (v === null) return 'None'
  if (v === true) return 'True'
  if (v === false) return 'False'
  return typeof v === 'string' ? v : JSON.stringify(v)
}

function counts(values: readonly unknown[], limit: number): { value: unknown; count: number }[] {
  const m = new Map<string, { value: unknown; count: number }>()
  for (const v of values) {
    const k = typeof v === 'object' && v !== null ? JSON.stringify(v) : `${typeof v}:${String(v)}`
    const e = m.get(k)
    if (e) e.count++
    else m.set(k, { value: v, count: 1 })
  }
  // Counter.most_common keeps first-seen order among equal counts; then GE sorts by (-count, str(value)).
  const top = [...m.values()].sort((x, y) => y.count - x.count).slice(0, limit)
  return top.sort((x, y) => y.count - x.count || (pyStr(x.value) < pyStr(y.value) ? -1 : pyStr(x.value) > pyStr(y.value) ? 1 : 0))
}

/** How formatMap() shapes a family's result. */
export interface MapFormatOptions {
  /** Unexpected values are dicts (multicolumn): GE cannot count them and says so in details. */
  readonly unhashable?: boolean
  /** The null checks: no missing_* fields, percentages over all rows (GE passes nonnull_count None). */
  readonly skipMissing?: boolean
  /** Index entries were collected. */
  readonly withIds: boolean
}

/** GE's result object of a map expectation. */
export function formatMap(format: ResultFormat, s: MapState, opts: MapFormatOptions): ExpectationResultDetail {
  if (format.result_format === 'BOOLEAN_ONLY') return {}
  const element = s.n
  const nonnull = element - s.missing
  const pct = (x: number, of: number): number | null => (of > 0 ? (x / of) * 100 : null)
  const partialCount = format.partial_unexpected_count
  const values = !format.exclude_unexpected_values
  const result: Record<string, unknown> = {
    element_count: element,
    unexpected_count: s.unexpected,
    unexpected_percent: opts.skipMissing ? pct(s.unexpected, element) : pct(s.unexpected, nonnull),
  }
  if (values) result['partial_unexpected_list'] = s.values.slice(0, partialCount)
  if (!opts.skipMissing) {
    result['missing_count'] = s.missing
    result['missing_percent'] = pct(s.missing, element)
    result['unexpected_percent_total'] = pct(s.unexpected, element)
    result['unexpected_percent_nonmissing'] = pct(s.unexpected, nonnull)
  }
  if (format.result_format === 'BASIC') return result
  if (partialCount > 0) {
    if (!values) {
      // GE leaves partial_unexpected_counts out with the values
    } else if (opts.unhashable) {
      result['details'] = { partial_unexpected_counts_error: 'partial_unexpected_counts requested, but requires a hashable type' }
      result['partial_unexpected_counts'] = []
    } else {
      result['partial_unexpected_counts'] = counts(s.values, partialCount)
    }
    if (opts.withIds) result['partial_unexpected_index_list'] = s.ids.slice(0, partialCount)
  }
  if (opts.withIds && format.unexpected_index_column_names) result['unexpected_index_column_names'] = [...format.unexpected_index_column_names]
  if (format.result_format === 'SUMMARY') return result
  if (values) result['unexpected_list'] = s.values
  if (opts.withIds) result['unexpected_index_list'] = s.ids
  return result
}
