/**
 * A `fill` value made into the value a Row of that column type holds (the
 * README's "Value mapping"), once, before any row moves: a fill value that
 * cannot be one (`"abc"` for an int4) would otherwise reach the feature store
 * as a wrongly typed value. Strings are accepted for every type, since flags
 * give strings (`--fill age=0`).
 */
import { invalidOption } from '../errors.ts'
import { parseInt8, parseNumeric } from '../extract/types.ts'

const integers = new Set(['int2', 'int4', 'int8', 'oid'])
const floats = new Set(['float4', 'float8'])
const texts = new Set(['text', 'varchar', 'bpchar', 'char', 'name', 'uuid', 'xml'])
const isoTime = /^\d{4}-\d\d-\d\d([T ]\d\d:\d\d(:\d\d(\.\d+)?)?([Zz]|[+-]\d\d(:?\d\d)?)?)?$/
const localTime = /^\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d(\.\d+)?)?$/
const numericText = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/

function fail(path: string, type: string, value: unknown): never {
  throw invalidOption(path, `a fill value for a ${type} column`, value)
}

/**
 * Returns `value` as a value of PostgreSQL type `type`.
 * Throws ETL_INVALID_OPTION naming `path` (e.g. `missing.columns.age.fill`) when it cannot be one.
 */
export function fillValue(path: string, type: string, value: unknown): unknown {
  if (value === null || value === undefined) throw invalidOption(path, 'a value (fill with null is the same as keep)', value)
  if (integers.has(type)) {
    if (typeof value === 'number' && Number.isSafeInteger(value)) return value
    if (typeof value === 'string' && /^[+-]?\d+$/.test(value.trim())) {
      const v = parseInt8(value.trim())
      if (typeof v === 'number' || type === 'int8') return v
    }
    return fail(path, type, value)
  }
  if (floats.has(type) || type === 'numeric') {
    if (typeof value === 'number') return value
    if (typeof value === 'string' && numericText.test(value.trim())) return type === 'numeric' ? parseNumeric(value.trim()) : Number(value)
    return fail(path, type, value)
  }
  if (type === 'bool') {
    if (typeof value === 'boolean') return value
    if (value === 'true' || value === 'false') return value === 'true'
    return fail(path, type, value)
  }
  if (texts.has(type)) {
    if (typeof value === 'string') return value
    if (typeof value === 'number' || typeof value === 'boolean') return String(value)
    return fail(path, type, value)
  }
  if (type === 'date') {
    if (typeof value === 'string' && /^\d{4}-\d\d-\d\d$/.test(value) && !Number.isNaN(Date.parse(value))) return value
    return fail(path, type, value)
  }
  if (type === 'timestamp' || type === 'timestamptz') {
    // A date and time without a zone is taken as UTC, as the value mapping does (Date.parse would take local time).
    // Only ISO 8601 forms: Date.parse takes much else ('0' is the year 2000).
    if (typeof value === 'string' && !isoTime.test(value)) return fail(path, type, value)
    const text = typeof value === 'string' && localTime.test(value) ? `${value.replace(' ', 'T')}Z` : value
    const ms = typeof text === 'string' ? Date.parse(text) : text instanceof Date ? text.getTime() : Number.NaN
    if (Number.isNaN(ms)) return fail(path, type, value)
    return new Date(ms).toISOString()
  }
  if (type.startsWith('_')) {
    if (Array.isArray(value)) return value
    if (typeof value === 'string') {
      try {
        const parsed: unknown = JSON.parse(value)
        if (Array.isArray(parsed)) return parsed
      } catch {
        // not JSON: not an array
      }
    }
    return fail(path, type, value)
  }
  // json, jsonb: a JSON value of whatever kind; other types: as given.
  return value
}
