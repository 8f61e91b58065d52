/**
 * Uniqueness: expect_column_values_to_be_unique (one column) and
 * expect_compound_columns_to_be_unique (a tuple of columns). Every row whose
 * value occurs more than once is unexpected, the first occurrence included,
 * so a row's verdict is only known at the end: these are not row-level for
 * the stage (no 'invalid' event, no quarantine).
 *
 * Exact, and memory grows with the number of distinct values: the state maps
 * each distinct value to where it was first seen (and, once repeated, to the
 * first `partial_unexpected_count` positions: all of them for COMPLETE).
 * Positions are counted from the start of the partition; merge shifts the
 * second partition's positions by the first one's row count.
 */
import type { Row } from '../types.ts'
import { capOf, columnOf, findColumn, indexEntryFn, type BuildContext, type Check, type ColumnRef, type IndexEntryFn } from './check.ts'
import { expectationError, mostlyOf, mostlySuccess, oneOf, optStringList } from './kwargs.ts'
import { formatMap, type MapState } from './map.ts'
import { keyFn, renderValue, type Key } from './values.ts'

/** One occurrence: row position in the partition, and its index entry (null without index columns). */
type Seen = { pos: number; id: unknown }
/** A repeated value. */
interface Dup {
  count: number
  value: unknown
  at: Seen[]
}

/** State of the uniqueness expectations. */
export interface UniqueState {
  n: number
  missing: number
  /** key -> first occurrence (value seen once: a `[pos, id, value]` triple) or a Dup. */
  seen: Map<Key, [number, unknown, unknown] | Dup>
}

interface Shape {
  /** The value's key, or undefined when the row is not judged (missing). */
  key(row: Row): Key | undefined
  /** The unexpected value as GE shows it. */
  value(row: Row): unknown
  ids: IndexEntryFn | undefined
  unhashable: boolean
}

function build(ctx: BuildContext, shape: Shape): Check<UniqueState> {
  const mostly = mostlyOf(ctx.kwargs)
  const cap = capOf(ctx.format)
  const { ids } = shape
  const addAt = (d: Dup, seen: Seen): void => {
    if (d.at.length < cap) d.at.push(seen)
  }
  return {
    rowLevel: false,
    init: () => ({ n: 0, missing: 0, seen: new Map() }),
    update(s: UniqueState, rows: readonly Row[], base: number): void {
      const n = rows.length
      s.n += n
      for (let i = 0; i < n; i++) {
        const row = rows[i]!
        const k = shape.key(row)
        if (k === undefined) {
          s.missing++
          continue
        }
        const e = s.seen.get(k)
        if (e === undefined) {
          s.seen.set(k, [base + i, ids ? ids(row) : null, shape.value(row)])
        } else if (Array.isArray(e)) {
          const d: Dup = { count: 2, value: e[2], at: [] }
          addAt(d, { pos: e[0], id: e[1] })
          addAt(d, { pos: base + i, id: ids ? ids(row) : null })
          s.seen.set(k, d)
        } else {
          e.count++
          if (e.at.length < cap) e.at.push({ pos: base + i, id: ids ? ids(row) : null })
        }
      }
    },
    merge(a, b) {
      const seen = new Map(a.seen)
      const shift = a.n
      for (const [k, eb] of b.seen) {
        const ea = seen.get(k)
        const bAt: Seen[] = Array.isArray(eb) ? [{ pos: eb[0] + shift, id: eb[1] }] : eb.at.map((x) => ({ pos: x.pos + shift, id: x.id }))
        if (ea === undefined) {
          seen.set(k, Array.isArray(eb) ? [eb[0] + shift, eb[1], eb[2]] : { count: eb.count, value: eb.value, at: bAt })
          continue
        }
        const aCount = Array.isArray(ea) ? 1 : ea.count
        const aAt: Seen[] = Array.isArray(ea) ? [{ pos: ea[0], id: ea[1] }] : ea.at
        const value = Array.isArray(ea) ? ea[2] : ea.value
        seen.set(k, { count: aCount + (Array.isArray(eb) ? 1 : eb.count), value, at: [...aAt, ...bAt].slice(0, cap) })
      }
      return { n: a.n + b.n, missing: a.missing + b.missing, seen }
    },
    finish(s) {
      let unexpected = 0
      const rows: { pos: number; id: unknown; value: unknown }[] = []
      for (const e of s.seen.values()) {
        if (Array.isArray(e)) continue
        unexpected += e.count
        for (const at of e.at) rows.push({ pos: at.pos, id: at.id, value: e.value })
      }
      rows.sort((x, y) => x.pos - y.pos)
      const kept = rows.length > cap ? rows.slice(0, cap) : rows
      const m: MapState = { n: s.n, missing: s.missing, unexpected, values: kept.map((r) => r.value), ids: ids ? kept.map((r) => r.id) : [] }
      return {
        success: mostlySuccess(s.n - s.missing, unexpected, mostly),
        result: formatMap(ctx.format, m, { withIds: ids !== undefined, unhashable: shape.unhashable }),
      }
    },
  }
}

/** expect_column_values_to_be_unique (nulls are missing, not duplicates). */
export function valuesUnique(ctx: BuildContext): Check<UniqueState> {
  const col = columnOf(ctx)
  const key = keyFn(col.kind)
  const c = col.index
  return build(ctx, {
    key: (row) => {
      const v = row[c] ?? null
      return v === null ? undefined : key(v)
    },
    value: (row) => renderValue(row[c], col.kind),
    ids: indexEntryFn(ctx, [col]),
    unhashable: false,
  })
}

/** column_list resolved (at least `min` columns). */
export function columnListOf(ctx: BuildContext, min: number): ColumnRef[] {
  const names = optStringList(ctx.kwargs, 'column_list')
  if (!names || names.length < min) throw expectationError(`column_list must name at least ${min} columns, got ${JSON.stringify(ctx.kwargs['column_list'])}`)
  return names.map((n) => findColumn(ctx, n, 'column_list'))
}

/** Multicolumn ignore_row_if values. */
export type IgnoreRowIf = 'all_values_are_missing' | 'any_value_is_missing' | 'never'

/** A multicolumn row filter: true when the row is left out (counted as missing). */
export function multiIgnore(cols: readonly ColumnRef[], how: IgnoreRowIf): (row: Row) => boolean {
  const idx = cols.map((c) => c.index)
  if (how === 'never') return () => false
  if (how === 'any_value_is_missing') return (row) => idx.some((i) => (row[i] ?? null) === null)
  return (row) => idx.every((i) => (row[i] ?? null) === null)
}

/** ignore_row_if of a multicolumn expectation (default all_values_are_missing). */
export function ignoreRowIfOf(ctx: BuildContext): IgnoreRowIf {
  return oneOf<IgnoreRowIf>(ctx.kwargs, 'ignore_row_if', ['all_values_are_missing', 'any_value_is_missing', 'never'], 'all_values_are_missing')
}

/** The dict GE shows for a multicolumn row: `{"a": 1, "b": 2}`. */
export function rowDict(cols: readonly ColumnRef[]): (row: Row) => Record<string, unknown> {
  return (row) => {
    const o: Record<string, unknown> = {}
    for (const c of cols) o[c.name] = renderValue(row[c.index] ?? null, c.kind)
    return o
  }
}

/** expect_compound_columns_to_be_unique: unexpected values are {column: value} dicts. */
export function compoundUnique(ctx: BuildContext): Check<UniqueState> {
  const cols = columnListOf(ctx, 1)
  const ignore = multiIgnore(cols, ignoreRowIfOf(ctx))
  const keys = cols.map((c) => keyFn(c.kind))
  return build(ctx, {
    key: (row) => {
      if (ignore(row)) return undefined
      return JSON.stringify(cols.map((c, j) => {
        const v = row[c.index] ?? null
        return v === null ? null : keys[j]!(v)
      }))
    },
    value: rowDict(cols),
    ids: indexEntryFn(ctx, cols),
    unhashable: true,
  })
}
