/**
 * Reading an expectation's kwargs. The names were checked when the suite was
 * read (suite.ts); the values are checked here, when the expectation is
 * compiled against the columns. A bad value throws ETL_EXPECTATION, which the
 * engine turns into an error result (`exception_info.raised_exception`) when
 * `catch_exceptions` is on (the default), as Great Expectations does.
 */
import { EtlError } from '../errors.ts'
import type { ResultFormat, ResultFormatName } from './types.ts'

/** An expectation's kwargs (evaluation parameters already resolved). */
export type Kwargs = Readonly<Record<string, unknown>>

/** The error for an invalid argument or an impossible check. */
export function expectationError(message: string): EtlError {
  return new EtlError('ETL_EXPECTATION', message)
}

const shown = (v: unknown): string => JSON.stringify(v) ?? String(v)

/** An optional number (null and absent both mean "not given"). */
export function optNumber(kw: Kwargs, name: string): number | undefined {
  const v = kw[name]
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'number' || Number.isNaN(v)) throw expectationError(`${name} must be a number, got ${shown(v)} (not a valid float)`)
  return v
}

/** An optional integer; throws "not a valid integer". */
export function optInteger(kw: Kwargs, name: string): number | undefined {
  const v = kw[name]
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'number' || !Number.isInteger(v)) throw expectationError(`${name} must be an integer, got ${shown(v)} (not a valid integer)`)
  return v
}

/** An optional boolean with its default. */
export function optBoolean(kw: Kwargs, name: string, fallback: boolean): boolean {
  const v = kw[name]
  if (v === undefined || v === null) return fallback
  if (typeof v !== 'boolean') throw expectationError(`${name} must be true or false, got ${shown(v)}`)
  return v
}

/** A required string. */
export function reqString(kw: Kwargs, name: string): string {
  const v = kw[name]
  if (typeof v !== 'string') throw expectationError(`${name} must be a string, got ${v === undefined ? 'nothing' : shown(v)}`)
  return v
}

/** An optional list of strings. */
export function optStringList(kw: Kwargs, name: string): string[] | undefined {
  const v = kw[name]
  if (v === undefined || v === null) return undefined
  if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) throw expectationError(`${name} must be a list of strings, got ${shown(v)}`)
  return v as string[]
}

/** A required list of strings. */
export function reqStringList(kw: Kwargs, name: string): string[] {
  const v = optStringList(kw, name)
  if (!v) throw expectationError(`${name} must be a list of strings, got nothing`)
  return v
}

/** `value_set` and friends: a list, or undefined when null/absent. */
export function optList(kw: Kwargs, name: string): unknown[] | undefined {
  const v = kw[name]
  if (v === undefined || v === null) return undefined
  if (!Array.isArray(v)) throw expectationError(`${name} must be a list, got ${shown(v)}`)
  return v
}

/** One of a few names, with a default. */
export function oneOf<T extends string>(kw: Kwargs, name: string, allowed: readonly T[], fallback: T): T {
  const v = kw[name]
  if (v === undefined || v === null) return fallback
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v))
    throw expectationError(`${name} must be one of ${allowed.join(', ')}, got ${shown(v)}`)
  return v as T
}

/** `mostly`: a fraction in [0, 1], default 1. */
export function mostlyOf(kw: Kwargs): number {
  const v = kw['mostly']
  if (v === undefined || v === null) return 1
  if (typeof v !== 'number' || Number.isNaN(v)) throw expectationError(`mostly must be a number between 0 and 1, got ${shown(v)}: ${shown(v)} is not a valid float`)
  if (v < 0) throw expectationError(`mostly (${v}) must be greater than or equal to 0`)
  if (v > 1) throw expectationError(`mostly (${v}) must be less than or equal to 1`)
  return v
}

/** GE's rule: success when the share of considered values that passed reaches `mostly` (vacuously true on none). */
export function mostlySuccess(considered: number, unexpected: number, mostly: number): boolean {
  if (considered === 0) return true
  if (mostly >= 1) return unexpected === 0
  return (considered - unexpected) / considered >= mostly
}

const formatNames: readonly ResultFormatName[] = ['BOOLEAN_ONLY', 'BASIC', 'SUMMARY', 'COMPLETE']

/** Resolves `result_format` (a name or an object) over a default. */
export function resultFormatOf(input: unknown, fallback: ResultFormat): ResultFormat {
  if (input === undefined || input === null) return fallback
  if (typeof input === 'string') {
    if (!(formatNames as readonly string[]).includes(input)) throw expectationError(`result_format must be one of ${formatNames.join(', ')}, got ${shown(input)}`)
    return { ...fallback, result_format: input as ResultFormatName }
  }
  if (typeof input !== 'object' || Array.isArray(input)) throw expectationError(`result_format must be a name or an object, got ${shown(input)}`)
  const o = input as Record<string, unknown>
  const name = o['result_format'] ?? fallback.result_format
  if (typeof name !== 'string' || !(formatNames as readonly string[]).includes(name))
    throw expectationError(`result_format.result_format must be one of ${formatNames.join(', ')}, got ${shown(name)}`)
  const count = o['partial_unexpected_count'] ?? fallback.partial_unexpected_count
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 0)
    throw expectationError(`result_format.partial_unexpected_count must be a non-negative integer, got ${shown(count)}`)
  const cols = o['unexpected_index_column_names'] ?? fallback.unexpected_index_column_names
  if (cols !== undefined && (!Array.isArray(cols) || !cols.every((c) => typeof c === 'string')))
    throw expectationError(`result_format.unexpected_index_column_names must be a list of column names, got ${shown(cols)}`)
  const unknown = Object.keys(o).filter((k) => !RESULT_FORMAT_KEYS.includes(k))
  if (unknown.length) throw expectationError(`result_format has no ${unknown.map(shown).join(', ')} (it takes ${RESULT_FORMAT_KEYS.join(', ')})`)
  const exclude = o['exclude_unexpected_values'] ?? fallback.exclude_unexpected_values
  if (typeof exclude !== 'boolean') throw expectationError(`result_format.exclude_unexpected_values must be true or false, got ${shown(exclude)}`)
  const rows = o['include_unexpected_rows'] ?? false
  if (rows !== false)
    throw expectationError(`result_format.include_unexpected_rows ${shown(rows)} is not supported: the rows are checked as they stream and not kept; unexpected_index_column_names names the columns that identify them`)
  const query = o['return_unexpected_index_query'] ?? false
  if (query !== false)
    throw expectationError(`result_format.return_unexpected_index_query ${shown(query)} is not supported: no query finds the rows here (they are checked as they stream); unexpected_index_list holds them`)
  return { result_format: name as ResultFormatName, partial_unexpected_count: count, unexpected_index_column_names: cols as string[] | undefined, exclude_unexpected_values: exclude }
}

/** The keys of a result_format object (Great Expectations' names). */
export const RESULT_FORMAT_KEYS: readonly string[] = [
  'result_format', 'partial_unexpected_count', 'unexpected_index_column_names', 'exclude_unexpected_values', 'include_unexpected_rows', 'return_unexpected_index_query',
]

/** BASIC with partial lists of 20, as GE's default. */
export const DEFAULT_RESULT_FORMAT: ResultFormat = Object.freeze({
  result_format: 'BASIC',
  partial_unexpected_count: 20,
  unexpected_index_column_names: undefined,
  exclude_unexpected_values: false,
})

/**
 * min_value / max_value checks shared by the "between" expectations.
 * `requireOne`: GE refuses both missing for some types; `allowReversed`:
 * lengths accept min > max (then every value fails).
 */
export function checkRange(min: unknown, max: unknown, opts: { requireOne: boolean; allowReversed?: boolean }): void {
  const none = (v: unknown): boolean => v === undefined || v === null
  if (opts.requireOne && none(min) && none(max)) throw expectationError('min_value and max_value cannot both be None')
  // Numbers only: text bounds are compared once they are read for the column (as dates, or as text), by the caller.
  if (!opts.allowReversed && typeof min === 'number' && typeof max === 'number' && min > max)
    throw expectationError(`min_value (${shown(min)}) cannot be greater than max_value (${shown(max)})`)
}
