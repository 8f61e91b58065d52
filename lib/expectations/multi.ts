/**
 * Row-level checks over several columns of a row: column pairs (A > B, A = B,
 * (A, B) in a set of pairs) and multicolumn checks (sum equals, values unique
 * within the row). Rows left out by `ignore_row_if` count as missing.
 *
 * Pairs: ignore_row_if is both_values_are_missing (default),
 * either_value_is_missing or neither; a remaining null compares as SQL does
 * (never equal, never greater), so such a row is unexpected.
 */
import type { Row } from '../types.ts'
import { capOf, findColumn, indexEntryFn, type BuildContext, type Check, type ColumnRef, type FailureSink, type IndexEntryFn } from './check.ts'
import { expectationError, mostlyOf, mostlySuccess, oneOf, optBoolean, optList, optNumber } from './kwargs.ts'
import { formatMap, initMap, mergeMap, type MapState } from './map.ts'
import { columnListOf, ignoreRowIfOf, multiIgnore, rowDict } from './unique.ts'
import { coerceToKind, isNumericKind, isTemporalKind, keyFn, orderFn, renderValue, toNumber, type Key } from './values.ts'

interface RowCheck {
  /** True when the row is left out (missing). */
  ignore(row: Row): boolean
  test(row: Row): boolean
  value(row: Row): unknown
  ids: IndexEntryFn | undefined
  unhashable: boolean
}

function rowMap(ctx: BuildContext, rc: RowCheck): Check<MapState> {
  const mostly = mostlyOf(ctx.kwargs)
  const cap = capOf(ctx.format)
  const { ids } = rc
  return {
    rowLevel: true,
    init: initMap,
    update(s: MapState, rows: readonly Row[], _base: number, sink: FailureSink | undefined, self: number): void {
      const n = rows.length
      s.n += n
      for (let i = 0; i < n; i++) {
        const row = rows[i]!
        if (rc.ignore(row)) {
          s.missing++
          continue
        }
        if (rc.test(row)) continue
        s.unexpected++
        if (s.values.length < cap) {
          s.values.push(rc.value(row))
          if (ids) s.ids.push(ids(row))
        }
        if (sink) sink.add(i, self)
      }
    },
    merge: (a, b) => mergeMap(a, b, cap),
    finish(s) {
      return {
        success: mostlySuccess(s.n - s.missing, s.unexpected, mostly),
        result: formatMap(ctx.format, s, { withIds: ids !== undefined, unhashable: rc.unhashable }),
      }
    },
  }
}

function pairOf(ctx: BuildContext): { a: ColumnRef; b: ColumnRef; ignore: (row: Row) => boolean } {
  const a = findColumn(ctx, ctx.kwargs['column_A'], 'column_A')
  const b = findColumn(ctx, ctx.kwargs['column_B'], 'column_B')
  const how = oneOf(ctx.kwargs, 'ignore_row_if', ['both_values_are_missing', 'either_value_is_missing', 'neither'], 'both_values_are_missing')
  const ia = a.index
  const ib = b.index
  const ignore =
    how === 'neither'
      ? () => false
      : how === 'either_value_is_missing'
        ? (row: Row) => (row[ia] ?? null) === null || (row[ib] ?? null) === null
        : (row: Row) => (row[ia] ?? null) === null && (row[ib] ?? null) === null
  return { a, b, ignore }
}

/** A common key for comparing a value of column A with one of column B, or throws when the types cannot meet. */
function comparable(a: ColumnRef, b: ColumnRef, ordered: boolean): (v: unknown) => Key {
  if (isNumericKind(a.kind) && isNumericKind(b.kind)) return toNumber
  if (isTemporalKind(a.kind) && isTemporalKind(b.kind)) return orderFn(a.kind)!
  if (a.kind === b.kind && (!ordered || orderFn(a.kind))) return ordered ? orderFn(a.kind)! : keyFn(a.kind)
  throw expectationError(`columns ${a.name} (${a.type}) and ${b.name} (${b.type}) cannot be compared (operator does not exist: ${a.type} ${ordered ? '>' : '='} ${b.type})`)
}

const pairValue = (a: ColumnRef, b: ColumnRef) => (row: Row): unknown[] => [renderValue(row[a.index] ?? null, a.kind), renderValue(row[b.index] ?? null, b.kind)]

/** expect_column_pair_values_a_to_be_greater_than_b (or_equal). */
export function pairGreater(ctx: BuildContext): Check<MapState> {
  const { a, b, ignore } = pairOf(ctx)
  const orEqual = optBoolean(ctx.kwargs, 'or_equal', false)
  // GE's SQL backend raises NotImplementedError for this flag (column_pair_values_greater.py, 0.13-0.18).
  if (optBoolean(ctx.kwargs, 'parse_strings_as_datetimes', false) && !(isTemporalKind(a.kind) && isTemporalKind(b.kind)))
    throw expectationError(`parse_strings_as_datetimes is not supported on columns ${a.name} (${a.type}) and ${b.name} (${b.type}): only on date or time columns; cast them in the source query`)
  const key = comparable(a, b, true)
  return rowMap(ctx, {
    ignore,
    test: (row) => {
      const va = row[a.index] ?? null
      const vb = row[b.index] ?? null
      // or_equal is `A >= B OR (A IS NULL AND B IS NULL)` in GE's SQL backend
      if (va === null && vb === null) return orEqual
      if (va === null || vb === null) return false
      const ka = key(va)
      const kb = key(vb)
      return orEqual ? ka >= kb : ka > kb
    },
    value: pairValue(a, b),
    ids: indexEntryFn(ctx, [a, b]),
    unhashable: false,
  })
}

/** expect_column_pair_values_to_be_equal. */
export function pairEqual(ctx: BuildContext): Check<MapState> {
  const { a, b, ignore } = pairOf(ctx)
  const key = comparable(a, b, false)
  return rowMap(ctx, {
    ignore,
    test: (row) => {
      const va = row[a.index] ?? null
      const vb = row[b.index] ?? null
      return va !== null && vb !== null && key(va) === key(vb)
    },
    value: pairValue(a, b),
    ids: indexEntryFn(ctx, [a, b]),
    unhashable: false,
  })
}

/** expect_column_pair_values_to_be_in_set: value_pairs_set [[a, b], ...]. */
export function pairInSet(ctx: BuildContext): Check<MapState> {
  const { a, b, ignore } = pairOf(ctx)
  const pairs = optList(ctx.kwargs, 'value_pairs_set')
  if (!pairs) throw expectationError('value_pairs_set must be a list of pairs, got None')
  const ka = keyFn(a.kind)
  const kb = keyFn(b.kind)
  const set = new Set<string>()
  for (const p of pairs) {
    if (!Array.isArray(p) || p.length !== 2) throw expectationError(`value_pairs_set entries must be pairs, got ${JSON.stringify(p)}`)
    const x = p[0] === null ? null : coerceToKind(p[0], a.kind, 'value_pairs_set entry')
    const y = p[1] === null ? null : coerceToKind(p[1], b.kind, 'value_pairs_set entry')
    set.add(JSON.stringify([x, y]))
  }
  return rowMap(ctx, {
    ignore,
    test: (row) => {
      const va = row[a.index] ?? null
      const vb = row[b.index] ?? null
      if (va === null || vb === null) return false
      return set.has(JSON.stringify([ka(va), kb(vb)]))
    },
    value: pairValue(a, b),
    ids: indexEntryFn(ctx, [a, b]),
    unhashable: false,
  })
}

/**
 * The row's values add up to sum_total (left to right in doubles, as SQL's
 * a + b + c). A null in a row that ignore_row_if keeps makes the sum NULL,
 * and GE's SQL backend counts a row unexpected only where NOT(sum = total)
 * is true (multicolumn_sum_equal.py, multicolumn_condition_partial.py): such
 * a row passes. (Its pandas backend fails it, its Spark backend reads the null
 * as 0; see the README.) To fail such rows, use ignore_row_if "never" with
 * expect_column_values_to_not_be_null, or "any_value_is_missing" to leave them out.
 */
export function multicolumnSum(ctx: BuildContext): Check<MapState> {
  const cols = columnListOf(ctx, 1)
  const total = optNumber(ctx.kwargs, 'sum_total')
  if (total === undefined) throw expectationError('sum_total must be a number, got None')
  for (const c of cols) if (!isNumericKind(c.kind)) throw expectationError(`column ${c.name} (${c.type}) is not numeric`)
  const idx = cols.map((c) => c.index)
  return rowMap(ctx, {
    ignore: multiIgnore(cols, ignoreRowIfOf(ctx)),
    test: (row) => {
      let sum = 0
      for (const i of idx) {
        const v = row[i] ?? null
        if (v === null) return true
        sum += toNumber(v)
      }
      return sum === total
    },
    value: rowDict(cols),
    ids: indexEntryFn(ctx, cols),
    unhashable: true,
  })
}

/** No two non-null values of the row are equal. */
export function uniqueWithinRecord(ctx: BuildContext): Check<MapState> {
  const cols = columnListOf(ctx, 2)
  const keyOf = (c: ColumnRef): ((v: unknown) => Key) => (isNumericKind(c.kind) ? toNumber : keyFn(c.kind))
  const keys = cols.map(keyOf)
  return rowMap(ctx, {
    ignore: multiIgnore(cols, ignoreRowIfOf(ctx)),
    test: (row) => {
      for (let x = 0; x < cols.length; x++) {
        const vx = row[cols[x]!.index] ?? null
        if (vx === null) continue
        const kx = keys[x]!(vx)
        for (let y = x + 1; y < cols.length; y++) {
          const vy = row[cols[y]!.index] ?? null
          if (vy !== null && keys[y]!(vy) === kx) return false
        }
      }
      return true
    },
    value: rowDict(cols),
    ids: indexEntryFn(ctx, cols),
    unhashable: true,
  })
}
