/**
 * How the values of a column compare, hash and print, by the column's
 * PostgreSQL type (README "Value mapping" says what a Row holds):
 *
 * | kind        | types                              | row value            | key (sets, order)          |
 * | ----------- | ---------------------------------- | -------------------- | -------------------------- |
 * | number      | int2 int4 float4 float8 oid        | number               | the number                 |
 * | int8        | int8                               | number, or string > 2^53 | number, or the string  |
 * | numeric     | numeric                            | number, or exact string  | number, or canonical string |
 * | boolean     | bool                               | boolean              | the boolean                |
 * | date        | date                               | 'YYYY-MM-DD'         | microseconds since 1970    |
 * | timestamp   | timestamp, timestamptz             | ISO string ending Z  | microseconds since 1970    |
 * | json        | json, jsonb, arrays                | parsed JSON          | its JSON text (jsonText)   |
 * | string      | text, varchar, bpchar, uuid, ...   | string               | the string                 |
 *
 * Order of strings is by UTF-16 code unit (not the database collation).
 * Ordering of int8/numeric strings goes through Number (exact for equality,
 * approximate only between values closer than a double can tell).
 */
import { jsonText } from '../csv/format.ts'
import { parseDateTime } from './datetime.ts'
import { expectationError } from './kwargs.ts'

/** How a column's values behave (see the table above). */
export type ValueKind = 'number' | 'int8' | 'numeric' | 'boolean' | 'date' | 'timestamp' | 'timestamptz' | 'json' | 'string'

/** A hashable, ordered form of a value. */
export type Key = number | string | boolean

/** The value kind of a PostgreSQL type name. */
export function kindOf(type: string): ValueKind {
  if (type.startsWith('_')) return 'json'
  switch (type) {
    case 'int2': case 'int4': case 'float4': case 'float8': case 'oid':
      return 'number'
    case 'int8': return 'int8'
    case 'numeric': return 'numeric'
    case 'bool': return 'boolean'
    case 'date': return 'date'
    case 'timestamp': return 'timestamp'
    case 'timestamptz': return 'timestamptz'
    case 'json': case 'jsonb': return 'json'
    default: return 'string'
  }
}

/** number, int8 or numeric. */
export const isNumericKind = (k: ValueKind): boolean => k === 'number' || k === 'int8' || k === 'numeric'
/** date, timestamp or timestamptz. */
export const isTemporalKind = (k: ValueKind): boolean => k === 'date' || k === 'timestamp' || k === 'timestamptz'

/** A numeric value (number, or exact decimal string) as a double. */
export function toNumber(v: unknown): number {
  return typeof v === 'number' ? v : Number(v)
}

const isoRe = /^([+-]?\d{4,})-(\d\d)-(\d\d)(?:[T ](\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?)?(Z|[+-]\d\d(?::?\d\d)?)?$/

/** Microseconds since 1970-01-01 of a date or ISO timestamp as a Row holds it ('infinity' -> +-Infinity). */
export function temporalMicros(v: unknown): number {
  if (typeof v !== 'string') return NaN
  const m = isoRe.exec(v)
  if (!m) {
    if (v === 'infinity') return Infinity
    if (v === '-infinity') return -Infinity
    return NaN
  }
  const d = new Date(0)
  d.setUTCFullYear(Number(m[1]), Number(m[2]) - 1, Number(m[3]))
  d.setUTCHours(Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0), 0)
  let micros = d.getTime() * 1000
  if (m[7]) micros += Number((m[7] + '00000').slice(0, 6))
  const tz = m[8]
  if (tz && tz !== 'Z') {
    const sign = tz[0] === '-' ? -1 : 1
    const digits = tz.slice(1).replace(':', '')
    micros -= sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4) || 0)) * 60_000_000
  }
  return micros
}

/** Canonical key of a numeric string: trailing fraction zeros dropped; a number again when 15 digits hold it. */
function numericKey(s: string): Key {
  let t = s
  if (t.includes('.') && !/[eE]/.test(t)) t = t.replace(/\.?0+$/, '')
  const digits = t.replace(/^-/, '').replace('.', '').replace(/^0+/, '')
  return digits.length <= 15 && /^-?\d+(\.\d+)?$/.test(t) ? Number(t) : t
}

/** The key function of a column kind: equal keys <=> equal values in PostgreSQL's sense. */
export function keyFn(kind: ValueKind): (v: unknown) => Key {
  switch (kind) {
    case 'number': case 'boolean': case 'string':
      return (v) => v as Key
    case 'int8':
      return (v) => v as Key
    case 'numeric':
      return (v) => (typeof v === 'number' ? v : numericKey(String(v)))
    case 'date': case 'timestamp': case 'timestamptz':
      return temporalMicros
    case 'json':
      return jsonText
  }
}

/** Orders keys of one kind: numbers (NaN last, as PostgreSQL), strings, booleans (false first). */
export function compareKeys(a: Key, b: Key): number {
  if (typeof a === 'number' && typeof b === 'number') {
    if (a < b) return -1
    if (a > b) return 1
    if (a === b) return 0
    return Number.isNaN(a) ? (Number.isNaN(b) ? 0 : 1) : -1
  }
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0
  if (typeof a === 'boolean' && typeof b === 'boolean') return a === b ? 0 : a ? 1 : -1
  const na = typeof a === 'number' ? a : Number(a)
  const nb = typeof b === 'number' ? b : Number(b)
  return na < nb ? -1 : na > nb ? 1 : String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0
}

/** The order key of a value for min/max/increasing: numbers for numeric and temporal kinds. */
export function orderFn(kind: ValueKind): ((v: unknown) => Key) | undefined {
  if (isNumericKind(kind)) return toNumber
  if (isTemporalKind(kind)) return temporalMicros
  if (kind === 'string') return (v) => v as string
  return undefined
}

/**
 * A value as GE's JSON shows it: a timestamp without zone loses the `Z`
 * (`2001-01-01T12:00:01`, microseconds as six digits when not zero); a
 * timestamptz ends in `+00:00`. Other values print as they are.
 */
export function renderValue(v: unknown, kind: ValueKind): unknown {
  if (typeof v !== 'string' || (kind !== 'timestamp' && kind !== 'timestamptz')) return v
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?Z$/.exec(v)
  if (!m) return v
  const frac = m[2] && Number(m[2]) !== 0 ? '.' + (m[2] + '000000').slice(0, 6) : ''
  return m[1] + frac + (kind === 'timestamptz' ? '+00:00' : '')
}

/** Turns a kwarg value (number, string, boolean) into a key comparable with a column of `kind`, or throws. */
export function coerceToKind(x: unknown, kind: ValueKind, what: string): Key {
  if (isNumericKind(kind)) {
    if (typeof x === 'number') return x
    if (typeof x === 'string' && x.trim() !== '' && Number.isFinite(Number(x))) return kind === 'numeric' ? numericKey(x) : Number(x)
    throw expectationError(`${what} ${JSON.stringify(x)} cannot be compared with a ${kind} column (invalid input syntax for a number)`)
  }
  if (isTemporalKind(kind)) {
    if (typeof x === 'string') {
      const micros = parseDateTime(x)
      if (micros !== undefined) return micros
    }
    throw expectationError(`${what} ${JSON.stringify(x)} is not a date or time (invalid datetime format)`)
  }
  if (kind === 'boolean') {
    if (typeof x === 'boolean') return x
    throw expectationError(`${what} ${JSON.stringify(x)} cannot be compared with a boolean column`)
  }
  if (kind === 'json') return JSON.stringify(x)
  if (typeof x === 'string') return x
  throw expectationError(`${what} ${JSON.stringify(x)} cannot be compared with a text column (operator does not exist: text = ${typeof x})`)
}

/** A bound (min_value / max_value) for comparisons with values of `kind` (order keys), or throws. */
export function coerceBound(x: unknown, kind: ValueKind, what: string): Key {
  if (isNumericKind(kind)) {
    if (typeof x === 'number') return x
    throw expectationError(`${what} must be a number to compare with a numeric column, got ${JSON.stringify(x)} (invalid datetime format)`)
  }
  if (isTemporalKind(kind)) return coerceToKind(x, kind, what)
  if (kind === 'string') {
    if (typeof x === 'string') return x
    throw expectationError(
      `${what} ${JSON.stringify(x)} cannot be compared with a text column (operator does not exist: text >= ${typeof x}; Column values, min_value, and max_value must either be None or of the same type.)`,
    )
  }
  throw expectationError(`values of a ${kind} column have no order to compare ${what} with`)
}
