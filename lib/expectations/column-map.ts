/**
 * Row-level checks of one column: null checks, ranges, sets, z-scores.
 * (Text checks are in text-map.ts.) Each compiles to a predicate run in one
 * tight loop over the batch; nothing is allocated for a row that passes.
 *
 * Nulls are "missing": not judged, and left out of the `mostly` denominator,
 * except for the null checks themselves, which judge every row.
 */
import type { Row } from '../types.ts'
import { capOf, columnOf, indexEntryFn, type BuildContext, type Check, type ColumnRef, type FailureSink } from './check.ts'
import { parseDateTime } from './datetime.ts'
import { checkRange, expectationError, mostlyOf, mostlySuccess, optBoolean, optList, optNumber } from './kwargs.ts'
import { formatMap, initMap, mergeMap, type MapState } from './map.ts'
import { coerceBound, coerceToKind, isNumericKind, isTemporalKind, keyFn, orderFn, renderValue, toNumber, type Key } from './values.ts'

/** A row-level test of one value: true when the value is as expected. */
export type Predicate = (v: unknown) => boolean

/**
 * The hottest checks get a loop of their own with the test written inline
 * (no function call per row): most suites are made of these.
 */
export type FastPath =
  | { readonly op: 'notnull' }
  | { readonly op: 'null' }
  | { readonly op: 'range'; readonly lo: number; readonly hi: number; readonly strictMin: boolean; readonly strictMax: boolean }
  | { readonly op: 'set'; readonly keys: ReadonlySet<unknown>; readonly negate: boolean }

export interface ColumnMapOptions {
  /** 'missing' (default): nulls are not judged. 'judge': the null checks, which see every value. */
  readonly nulls?: 'missing' | 'judge'
  /** A specialised loop giving the same verdicts as the predicate. */
  readonly fast?: FastPath
}

/** A row-level check of one column from a predicate (true = as expected). */
export function columnMap(ctx: BuildContext, col: ColumnRef, test: Predicate, opts: ColumnMapOptions = {}): Check<MapState> {
  const mostly = mostlyOf(ctx.kwargs)
  const cap = capOf(ctx.format)
  const ids = indexEntryFn(ctx, [col])
  const c = col.index
  const kind = col.kind
  const temporal = kind === 'timestamp' || kind === 'timestamptz'
  const judgeNulls = opts.nulls === 'judge'
  const fast = opts.fast

  /** Records row i as unexpected (only called for failing rows). */
  function fail(s: MapState, row: Row, v: unknown, i: number, sink: FailureSink | undefined, self: number): void {
    s.unexpected++
    if (s.values.length < cap) {
      s.values.push(temporal ? renderValue(v, kind) : v)
      if (ids) s.ids.push(ids(row))
    }
    if (sink) sink.add(i, self)
  }

  function update(s: MapState, rows: readonly Row[], _base: number, sink: FailureSink | undefined, self: number): void {
    const n = rows.length
    s.n += n
    if (fast?.op === 'notnull') {
      for (let i = 0; i < n; i++) {
        const row = rows[i]!
        if ((row[c] ?? null) === null) fail(s, row, null, i, sink, self)
      }
    } else if (fast?.op === 'null') {
      for (let i = 0; i < n; i++) {
        const row = rows[i]!
        const v = row[c] ?? null
        if (v !== null) fail(s, row, v, i, sink, self)
      }
    } else if (fast?.op === 'range') {
      const { lo, hi, strictMin, strictMax } = fast
      for (let i = 0; i < n; i++) {
        const row = rows[i]!
        const v = row[c] ?? null
        if (v === null) {
          s.missing++
          continue
        }
        const x = typeof v === 'number' ? v : Number(v)
        if ((strictMin ? x > lo : x >= lo) && (strictMax ? x < hi : x <= hi)) continue
        fail(s, row, v, i, sink, self)
      }
    } else if (fast?.op === 'set') {
      const { keys, negate } = fast
      for (let i = 0; i < n; i++) {
        const row = rows[i]!
        const v = row[c] ?? null
        if (v === null) {
          s.missing++
          continue
        }
        if (keys.has(v) !== negate) continue
        fail(s, row, v, i, sink, self)
      }
    } else {
      for (let i = 0; i < n; i++) {
        const row = rows[i]!
        const v = row[c] ?? null
        if (v === null && !judgeNulls) {
          s.missing++
          continue
        }
        if (!test(v)) fail(s, row, v, i, sink, self)
      }
    }
  }

  return {
    rowLevel: true,
    init: initMap,
    update,
    merge: (a, b) => mergeMap(a, b, cap),
    finish(s) {
      const considered = judgeNulls ? s.n : s.n - s.missing
      return {
        success: mostlySuccess(considered, s.unexpected, mostly),
        result: formatMap(ctx.format, s, { withIds: ids !== undefined, skipMissing: judgeNulls }),
      }
    },
  }
}

/** expect_column_values_to_not_be_null: every row judged; success over all rows with `mostly`. */
export function notNull(ctx: BuildContext): Check<MapState> {
  return columnMap(ctx, columnOf(ctx), (v) => v !== null, { nulls: 'judge', fast: { op: 'notnull' } })
}

/** expect_column_values_to_be_null. */
export function beNull(ctx: BuildContext): Check<MapState> {
  return columnMap(ctx, columnOf(ctx), (v) => v === null, { nulls: 'judge', fast: { op: 'null' } })
}

/** The bounds of a "between" check as order keys (undefined = open). */
export function boundsOf(ctx: BuildContext, col: ColumnRef, requireOne: boolean): { min: Key | undefined; max: Key | undefined } {
  const { min_value: minIn, max_value: maxIn } = ctx.kwargs
  checkRange(minIn, maxIn, { requireOne })
  const kind = boundKind(ctx, col)
  const min = minIn === undefined || minIn === null ? undefined : coerceBound(minIn, kind, 'min_value')
  const max = maxIn === undefined || maxIn === null ? undefined : coerceBound(maxIn, kind, 'max_value')
  if (min !== undefined && max !== undefined && min > max)
    throw expectationError(`min_value (${JSON.stringify(minIn)}) cannot be greater than max_value (${JSON.stringify(maxIn)})`)
  return { min, max }
}

/**
 * parse_strings_as_datetimes (GE up to 0.18): the bounds are dates, so the
 * "min greater than max" check compares dates, not texts. On a date or time
 * column the bounds are read as dates anyway. On a text column the values
 * would have to be parsed one by one, which Great Expectations' SQL backend
 * never did (0.12-0.14 raise NotImplementedError for min/max; between sends
 * the parsed bound to the database, which refuses `text >= timestamp`): an
 * error naming the kwarg. Returns the kind the bounds are read as.
 */
export function boundKind(ctx: BuildContext, col: ColumnRef): ColumnRef['kind'] {
  if (!optBoolean(ctx.kwargs, 'parse_strings_as_datetimes', false)) return col.kind
  if (isTemporalKind(col.kind)) return col.kind
  throw expectationError(
    `parse_strings_as_datetimes is not supported on column ${col.name} (${col.type}): only on a date or time column, where the bounds are read as dates (operator does not exist: ${col.type} >= timestamp); cast the column in the source query`,
  )
}

/**
 * expect_column_values_to_be_between: numbers, dates/times (bounds parsed as
 * dates) or text (bounds as text); strict_min/strict_max; one bound at least;
 * min > max is an error.
 */
export function valuesBetween(ctx: BuildContext): Check<MapState> {
  const col = columnOf(ctx)
  const { min, max } = boundsOf(ctx, col, true)
  const strictMin = optBoolean(ctx.kwargs, 'strict_min', false)
  const strictMax = optBoolean(ctx.kwargs, 'strict_max', false)
  if (isNumericKind(col.kind)) {
    const lo = min === undefined ? -Infinity : (min as number)
    const hi = max === undefined ? Infinity : (max as number)
    // NaN fails every comparison, as in PostgreSQL where NaN is above every bound.
    const test: Predicate =
      strictMin || strictMax
        ? (v) => {
            const x = typeof v === 'number' ? v : Number(v)
            return (strictMin ? x > lo : x >= lo) && (strictMax ? x < hi : x <= hi)
          }
        : (v) => {
            const x = typeof v === 'number' ? v : Number(v)
            return x >= lo && x <= hi
          }
    return columnMap(ctx, col, test, { fast: { op: 'range', lo, hi, strictMin, strictMax } })
  }
  const order = orderFn(col.kind)
  if (!order) throw expectationError(`column ${col.name} (${col.type}) has no order to compare min_value and max_value with`)
  return columnMap(ctx, col, (v) => {
    const k = order(v)
    if (min !== undefined && (strictMin ? !(k > min) : !(k >= min))) return false
    if (max !== undefined && (strictMax ? !(k < max) : !(k <= max))) return false
    return true
  })
}

/** Keys of a value_set for a column (nulls in the set never match, as SQL's IN). */
export function setKeys(list: readonly unknown[], col: ColumnRef, asDates: boolean): Set<Key> {
  const keys = new Set<Key>()
  for (const x of list) {
    if (x === null) continue
    if (asDates && typeof x === 'string') {
      const us = parseDateTime(x)
      if (us === undefined) throw expectationError(`value_set entry ${JSON.stringify(x)} is not a date (invalid datetime format)`)
      keys.add(us)
    } else keys.add(coerceToKind(x, col.kind, 'value_set entry'))
  }
  return keys
}

/** The key of a column value for set membership (parse_strings_as_datetimes reads text as dates). */
export function memberKey(col: ColumnRef, asDates: boolean): (v: unknown) => Key {
  if (asDates && col.kind === 'string') return (v) => parseDateTime(v as string) ?? NaN
  return keyFn(col.kind)
}

function inSet(ctx: BuildContext, negate: boolean): Check<MapState> {
  const col = columnOf(ctx)
  const list = optList(ctx.kwargs, 'value_set')
  const asDates = optBoolean(ctx.kwargs, 'parse_strings_as_datetimes', false)
  // GE's SQL backend (column_values_in_set.py / _not_in_set.py, still in 1.2): value_set None is vacuously true.
  if (!list) return columnMap(ctx, col, () => true)
  const keys = setKeys(list, col, asDates)
  const key = memberKey(col, asDates)
  if (col.kind === 'number' || col.kind === 'string' || col.kind === 'boolean')
    return columnMap(ctx, col, negate ? (v) => !keys.has(v as Key) : (v) => keys.has(v as Key), { fast: { op: 'set', keys, negate } })
  return columnMap(ctx, col, negate ? (v) => !keys.has(key(v)) : (v) => keys.has(key(v)))
}

/** expect_column_values_to_be_in_set / _not_be_in_set (value_set entries coerced to the column type; a null entry never matches). */
export const valuesInSet = (ctx: BuildContext): Check<MapState> => inSet(ctx, false)
export const valuesNotInSet = (ctx: BuildContext): Check<MapState> => inSet(ctx, true)

/**
 * z-scores need the column's mean and standard deviation before the first
 * row is judged: they come from a prepass (prepass.ts: an aggregate query on
 * the source, or a first pass over a CSV), given to compile() as `stats`.
 * A row is unexpected when |z| >= threshold (double_sided, the default) or
 * z >= threshold.
 */
export function zScores(ctx: BuildContext): Check<MapState> {
  const col = columnOf(ctx)
  if (!isNumericKind(col.kind)) throw expectationError(`column ${col.name} (${col.type}) is not numeric: z-scores need numbers`)
  const threshold = optNumber(ctx.kwargs, 'threshold')
  if (threshold === undefined) throw expectationError('threshold must be a number, got None')
  const doubleSided = optBoolean(ctx.kwargs, 'double_sided', true)
  const stats = ctx.stats[col.name]
  if (!stats)
    throw expectationError(`z-scores of column ${col.name} need its mean and standard deviation before the rows are read: run the prepass (columnStatsFromPg / columnStatsFromBatches) and pass its result as stats`)
  const mean = stats.mean ?? NaN
  const stdev = stats.stdev ?? NaN
  return columnMap(ctx, col, (v) => {
    const z = (toNumber(v) - mean) / stdev
    return doubleSided ? Math.abs(z) < threshold : z < threshold
  })
}
