/**
 * PostgreSQL text values -> the values a Row holds (the README's "Value mapping").
 *
 * | PostgreSQL                         | Row value                                                        |
 * | ---------------------------------- | ---------------------------------------------------------------- |
 * | int2, int4, float4, float8         | number (NaN and +-Infinity as numbers)                           |
 * | int8                               | number when within +-2^53, else the exact decimal string         |
 * | numeric                            | number when it has at most 15 significant digits, else the text  |
 * | bool                               | boolean                                                          |
 * | date                               | 'YYYY-MM-DD' string (no time zone shift, ever)                   |
 * | timestamp, timestamptz             | ISO 8601 UTC string ending in Z, fraction kept as PostgreSQL gave |
 * | json, jsonb                        | the parsed JSON value                                            |
 * | arrays of any of these             | JS arrays of the mapped elements                                 |
 * | text, varchar, uuid, everything else | the string PostgreSQL sends                                    |
 * | NULL                               | null                                                             |
 *
 * A timestamp without time zone is taken as UTC. Our own connections set the
 * session TimeZone to UTC, so timestamptz arrives as `... +00` and is
 * rewritten without building a Date; any other offset takes the slow path.
 */
import pg from 'pg'

type Parser = (text: string) => unknown

const identity: Parser = (s) => s

/** oid -> type name, for the built-in types (others are looked up in pg_type). */
export const builtinTypeNames: Readonly<Record<number, string>> = {
  16: 'bool', 17: 'bytea', 18: 'char', 19: 'name', 20: 'int8', 21: 'int2', 23: 'int4', 25: 'text', 26: 'oid',
  114: 'json', 142: 'xml', 700: 'float4', 701: 'float8', 1042: 'bpchar', 1043: 'varchar', 1082: 'date',
  1083: 'time', 1114: 'timestamp', 1184: 'timestamptz', 1186: 'interval', 1266: 'timetz', 1700: 'numeric',
  2950: 'uuid', 3802: 'jsonb',
  199: '_json', 1000: '_bool', 1001: '_bytea', 1005: '_int2', 1007: '_int4', 1009: '_text', 1014: '_bpchar',
  1015: '_varchar', 1016: '_int8', 1021: '_float4', 1022: '_float8', 1115: '_timestamp', 1182: '_date',
  1185: '_timestamptz', 1231: '_numeric', 2951: '_uuid', 3807: '_jsonb',
}

export function parseInt8(s: string): number | string {
  const n = Number(s)
  return Number.isSafeInteger(n) ? n : s
}

export function parseNumeric(s: string): number | string {
  // Significant digits: drop sign, point and leading zeros. 15 digits always round-trip through a double.
  let digits = 0
  let leading = true
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c >= 48 && c <= 57) {
      if (leading && c === 48) continue
      leading = false
      digits++
    } else if (c !== 45 && c !== 46) {
      return s // NaN, Infinity, exponent forms: keep the text
    }
  }
  return digits <= 15 ? Number(s) : s
}

export function parseTimestamp(s: string): string {
  if (s.length < 19 || s.charCodeAt(10) !== 32) return s // infinity, BC dates: as PostgreSQL wrote them
  return s.slice(0, 10) + 'T' + s.slice(11) + 'Z'
}

export function parseTimestamptz(s: string): string {
  if (s.length < 22 || s.charCodeAt(10) !== 32) return s
  if (s.endsWith('+00')) return s.slice(0, 10) + 'T' + s.slice(11, -3) + 'Z'
  // Another session time zone: '2024-01-02 03:04:05.123456+05:30'. Keep the fraction as given.
  const m = /^(\d{4,}-\d\d-\d\d) (\d\d:\d\d:\d\d)(\.\d+)?([+-]\d\d(?::?\d\d){0,2})$/.exec(s)
  if (!m) return s
  const offset = m[4]!.length === 3 ? `${m[4]}:00` : m[4]!
  const date = new Date(`${m[1]}T${m[2]}${offset}`)
  if (Number.isNaN(date.getTime())) return s
  return date.toISOString().slice(0, 19) + (m[3] ?? '') + 'Z'
}

/** pg's own parser of text[] literals ('{a,"b c",NULL}' -> ['a', 'b c', null]). */
const parseTextArrayLiteral = (pg.types.getTypeParser as (oid: number, format: string) => Parser)(1009, 'text')

const parseBool: Parser = (s) => s === 't' || s === 'true'
const parseJson: Parser = (s) => JSON.parse(s)

const scalarParsers: Readonly<Record<string, Parser>> = {
  int2: Number, int4: Number, float4: Number, float8: Number,
  int8: parseInt8, numeric: parseNumeric, bool: parseBool,
  timestamp: parseTimestamp, timestamptz: parseTimestamptz,
  json: parseJson, jsonb: parseJson,
}

/** The parser for a scalar type name (identity for text-like and unknown types). */
export function parserFor(type: string): Parser {
  if (type.startsWith('_')) {
    const element = scalarParsers[type.slice(1)]
    const parseTextArray = parseTextArrayLiteral
    if (!element) return parseTextArray
    const mapDeep = (v: unknown): unknown => (Array.isArray(v) ? v.map(mapDeep) : v === null ? null : element(v as string))
    return (s) => mapDeep(parseTextArray(s))
  }
  return scalarParsers[type] ?? identity
}

/**
 * The `types` object for a pg query: every oid of the result gets our parser.
 * `names` maps the result's oids to type names (built-ins plus pg_type lookups).
 */
export function typeParsers(names: ReadonlyMap<number, string>): { getTypeParser: (oid: number) => Parser } {
  const cache = new Map<number, Parser>()
  return {
    getTypeParser(oid: number): Parser {
      let p = cache.get(oid)
      if (!p) {
        p = parserFor(names.get(oid) ?? builtinTypeNames[oid] ?? 'text')
        cache.set(oid, p)
      }
      return p
    },
  }
}
