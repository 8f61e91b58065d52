/**
 * expect_column_values_to_be_increasing / _decreasing: each non-null value is
 * compared with the previous non-null value (GE's `diff()` over the column
 * with nulls left out); the first non-null value passes. With `strictly`,
 * equal neighbours fail too.
 *
 * Mergeable across partitions: a partition keeps its first non-null value
 * (judged, when merged, against the last value of the partition before it)
 * and its last one. Partitions must be merged in source order.
 */
import type { Row } from '../types.ts'
import { capOf, columnOf, indexEntryFn, type BuildContext, type Check, type FailureSink } from './check.ts'
import { parseDateTime } from './datetime.ts'
import { expectationError, mostlyOf, mostlySuccess, optBoolean } from './kwargs.ts'
import { formatMap, initMap, mergeMap, type MapState } from './map.ts'
import { orderFn, renderValue, type Key } from './values.ts'

/** State of increasing/decreasing. */
export interface OrderedState extends MapState {
  /** First non-null value of the partition: its key, shown value and index entry (null when none yet). */
  first: { key: Key; value: unknown; id: unknown } | null
  /** Key of the last non-null value seen. */
  last: Key | null
}

function build(ctx: BuildContext, decreasing: boolean): Check<OrderedState> {
  const col = columnOf(ctx)
  const strictly = optBoolean(ctx.kwargs, 'strictly', false)
  const asDates = optBoolean(ctx.kwargs, 'parse_strings_as_datetimes', false)
  const order = asDates && col.kind === 'string' ? (v: unknown) => parseDateTime(v as string) ?? NaN : orderFn(col.kind)
  if (!order) throw expectationError(`column ${col.name} (${col.type}) has no order`)
  const mostly = mostlyOf(ctx.kwargs)
  const cap = capOf(ctx.format)
  const ids = indexEntryFn(ctx, [col])
  const c = col.index
  /** True when `k` may follow `prev`. */
  const ok = (prev: Key, k: Key): boolean =>
    decreasing ? (strictly ? k < prev : k <= prev) : strictly ? k > prev : k >= prev

  return {
    rowLevel: true,
    init: () => ({ ...initMap(), first: null, last: null }),
    update(s: OrderedState, rows: readonly Row[], _base: number, sink: FailureSink | undefined, self: number): void {
      const n = rows.length
      s.n += n
      for (let i = 0; i < n; i++) {
        const row = rows[i]!
        const v = row[c] ?? null
        if (v === null) {
          s.missing++
          continue
        }
        const k = order(v)
        const prev = s.last
        s.last = k
        if (prev === null) {
          s.first = { key: k, value: renderValue(v, col.kind), id: ids ? ids(row) : null }
          continue
        }
        if (ok(prev, k)) continue
        s.unexpected++
        if (s.values.length < cap) {
          s.values.push(renderValue(v, col.kind))
          if (ids) s.ids.push(ids(row))
        }
        if (sink) sink.add(i, self)
      }
    },
    merge(a, b) {
      const m = mergeMap(a, b, cap)
      const out: OrderedState = { ...m, first: a.first ?? b.first, last: b.last ?? a.last }
      if (b.first && a.last !== null && !ok(a.last, b.first.key)) {
        // b's first value got a bye inside b; against a's last value it fails: it comes first among b's failures.
        out.unexpected++
        const keep = Math.min(a.values.length, cap)
        out.values = [...a.values.slice(0, keep), b.first.value, ...b.values].slice(0, cap)
        if (ids) out.ids = [...a.ids.slice(0, keep), b.first.id, ...b.ids].slice(0, cap)
      }
      return out
    },
    finish(s) {
      return {
        success: mostlySuccess(s.n - s.missing, s.unexpected, mostly),
        result: formatMap(ctx.format, s, { withIds: ids !== undefined }),
      }
    },
  }
}

/** expect_column_values_to_be_increasing / _decreasing (strictly). */
export const increasing = (ctx: BuildContext): Check<OrderedState> => build(ctx, false)
export const decreasing = (ctx: BuildContext): Check<OrderedState> => build(ctx, true)
