/**
 * PostgreSQL text values -> the values a Row holds (the README's "Value mapping").
 *
 * | PostgreSQL                         | Row value                                                        |
 * | ---------------------------------- | ---------------------------------------------------------------- |
 * | int2, int4, float4, float8         | number (NaN, +-Infinity and -0 as numbers)                       |
 * | int8                               | number when within +-2^53, else the exact decimal string         |
 * | numeric                            | number when it has at most 15 significant digits, else the text  |
 * | bool                               | boolean                                                          |
 * | date                               | 'YYYY-MM-DD' (ISO 8601 signed years for BC and past 9999)        |
 * | timestamp, timestamptz             | ISO 8601 UTC string ending in Z, fraction kept as PostgreSQL gave |
 * | json, jsonb                        | the parsed JSON value, numbers a double would change kept as     |
 * |                                    | their text (JSON.rawJSON), a JSON null as JSON_NULL; a json text |
 * |                                    | with a key twice in an object: the text                          |
 * | arrays                             | JS arrays of the mapped elements (bounds other than 1, or a json |
 * |                                    | element that is a JSON null: PostgreSQL's text)                  |
 * | domains                            | as their base type                                               |
 * | text, varchar, uuid, everything else | the string PostgreSQL sends                                    |
 * | NULL                               | null                                                             |
 *
 * Types are known by oid (resolveTypeNames), never by name. A timestamp
 * without time zone is taken as UTC. Our sessions use TimeZone UTC
 * (connect.ts), so timestamptz arrives as `... +00` and is rewritten without
 * building a Date.
 */
import { EtlError } from '../errors.ts'

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

/** JSON.rawJSON (Node 22+): a value JSON.stringify writes as the given text. */
const rawJSON = (JSON as unknown as { rawJSON(text: string): object }).rawJSON

/** A JSON `null` (as opposed to SQL NULL, which is `null`): JSON.stringify writes it `null`. */
export const JSON_NULL: object = rawJSON('null')

type SourceReviver = (this: unknown, key: string, value: unknown, context?: { source?: string }) => unknown
/** Keeps a JSON number as written when a double would change it (digits past 2^53, 17+ digits, 1e400, 1.0, -0). */
const keepNumbers: SourceReviver = (_key, v, context) => (typeof v === 'number' && context?.source !== undefined && String(v) !== context.source ? rawJSON(context.source) : v)

/** JSON text -> its value, exactly: numbers a double cannot carry are kept as their text (JSON.rawJSON), a JSON null is JSON_NULL. */
export function parseJsonValue(s: string): unknown {
  const v: unknown = JSON.parse(s, keepNumbers as (this: unknown, key: string, value: unknown) => unknown)
  return v === null ? JSON_NULL : v
}

/** Keys written in a JSON text (each `:` outside a string is one). */
function keysInText(s: string): number {
  let n = 0
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c === 58) n++
    else if (c === 34) {
      for (i++; i < s.length; i++) {
        const q = s.charCodeAt(i)
        if (q === 92) i++
        else if (q === 34) break
      }
    }
  }
  return n
}

/** Keys of the objects in a parsed JSON value. */
function keysInValue(v: unknown): number {
  if (Array.isArray(v)) return v.reduce((n: number, x) => n + keysInValue(x), 0)
  if (v === null || typeof v !== 'object' || isRawJson(v)) return 0
  let n = 0
  for (const x of Object.values(v)) n += 1 + keysInValue(x)
  return n
}

/**
 * A json (not jsonb) value: as parseJsonValue, but a text with a key twice in one object (`{"a": 1, "a": 2}`,
 * which json keeps and a parsed object cannot) is kept as PostgreSQL's text, a string.
 */
export function parseJsonText(s: string): unknown {
  const v = parseJsonValue(s)
  if (typeof v !== 'object' || v === JSON_NULL || s.indexOf(':') === -1) return v
  return keysInText(s) === keysInValue(v) ? v : s
}

/** Whether `v` is a JSON number kept as its text (or JSON_NULL): an object that JSON.stringify writes as text. */
export function isRawJson(v: unknown): v is { readonly rawJSON: string } {
  return (JSON as unknown as { isRawJSON(v: unknown): boolean }).isRawJSON(v)
}

/** An ISO 8601 year: 4 digits from 0000 to 9999, else signed (`-0043` is 44 BC, `+10000`); `bc` as PostgreSQL writes it. */
function isoYear(digits: string, bc: boolean): string {
  const y = bc ? 1 - Number(digits) : Number(digits)
  if (y < 0) return '-' + String(-y).padStart(4, '0')
  if (y > 9999) return '+' + String(y)
  return String(y).padStart(4, '0')
}

const dateRe = /^(\d{4,})(-\d\d-\d\d)( BC)?$/
const timestampRe = /^(\d{4,})(-\d\d-\d\d) (\d\d:\d\d:\d\d(?:\.\d+)?)(\+00)?( BC)?$/

/** A date ('YYYY-MM-DD'; BC and years past 9999 as ISO 8601 signed years; `infinity` as PostgreSQL writes it). */
export function parseDate(s: string): string {
  if (s.length === 10 && s.charCodeAt(4) === 45) return s
  const m = dateRe.exec(s)
  return m ? isoYear(m[1]!, m[3] !== undefined) + m[2] : s
}

export function parseTimestamp(s: string): string {
  if (s.length >= 19 && s.charCodeAt(10) === 32 && s.charCodeAt(4) === 45 && s.charCodeAt(s.length - 1) !== 67 /* BC */)
    return s.slice(0, 10) + 'T' + s.slice(11) + 'Z'
  const m = timestampRe.exec(s)
  return m && m[4] === undefined ? `${isoYear(m[1]!, m[5] !== undefined)}${m[2]}T${m[3]}Z` : s // infinity: as PostgreSQL wrote it
}

export function parseTimestamptz(s: string): string {
  if (s.length >= 22 && s.charCodeAt(10) === 32 && s.charCodeAt(4) === 45 && s.endsWith('+00')) return s.slice(0, 10) + 'T' + s.slice(11, -3) + 'Z'
  const m = timestampRe.exec(s)
  if (m && m[4] !== undefined) return `${isoYear(m[1]!, m[5] !== undefined)}${m[2]}T${m[3]}Z`
  // Another session time zone (a caller's connection that forceSession could not set): '2024-01-02 03:04:05.123456+05:30'.
  const o = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)(\.\d+)?([+-]\d\d(?::?\d\d){0,2})$/.exec(s)
  if (!o) return s
  const offset = o[4]!.length === 3 ? `${o[4]}:00` : o[4]!
  const date = new Date(`${o[1]}T${o[2]}${offset}`)
  if (Number.isNaN(date.getTime())) return s
  return date.toISOString().slice(0, 19) + (o[3] ?? '') + 'Z'
}

/**
 * An array literal as PostgreSQL writes it ('{a,"b c",NULL}', '{{1,2},{3,4}}', box[]'s '{(1,1),(0,0);(2,2),(1,1)}')
 * -> nested JS arrays of `element(text)`, NULL as null. An array with bounds other than 1 ('[0:2]={1,2,3}')
 * is kept as PostgreSQL's text: a JS array cannot say where it starts.
 */
export function parseArrayLiteral(s: string, delimiter: string, element: Parser): unknown {
  if (s.charCodeAt(0) !== 123 /* { */) return s
  const d = delimiter.charCodeAt(0)
  let i = 0
  const level = (): unknown[] => {
    i++ // the {
    const out: unknown[] = []
    if (s.charCodeAt(i) === 125) {
      i++
      return out
    }
    for (;;) {
      const c = s.charCodeAt(i)
      if (c === 123) out.push(level())
      else if (c === 34) {
        let text = ''
        let from = ++i
        for (;;) {
          const q = s.charCodeAt(i)
          if (q === 92) {
            text += s.slice(from, i)
            from = ++i
            i++
          } else if (q === 34) break
          else if (Number.isNaN(q)) return malformed(s)
          else i++
        }
        text += s.slice(from, i++)
        out.push(element(text))
      } else {
        const from = i
        while (i < s.length && s.charCodeAt(i) !== d && s.charCodeAt(i) !== 125) i++
        const text = s.slice(from, i)
        out.push(text === 'NULL' ? null : element(text))
      }
      const next = s.charCodeAt(i++)
      if (next === 125) return out
      if (next !== d) return malformed(s)
    }
  }
  const value = level()
  return i === s.length ? value : malformed(s)
}

function malformed(s: string): never {
  throw new EtlError('ETL_DB_QUERY', `PostgreSQL sent an array literal this reader does not know: ${JSON.stringify(s.slice(0, 80))}`)
}

function hasJsonNull(a: readonly unknown[]): boolean {
  return a.some((v) => v === JSON_NULL || (Array.isArray(v) && hasJsonNull(v)))
}

const parseBool: Parser = (s) => s === 't' || s === 'true'

const scalarParsers: Readonly<Record<string, Parser>> = {
  int2: Number, int4: Number, float4: Number, float8: Number,
  int8: parseInt8, numeric: parseNumeric, bool: parseBool, date: parseDate,
  timestamp: parseTimestamp, timestamptz: parseTimestamptz,
  json: parseJsonText, jsonb: parseJsonValue,
}

/** The element delimiter of the built-in array types (pg_type.typdelim of the element): `;` for box, else `,`. */
const delimiters: Readonly<Record<string, string>> = { _box: ';' }

/**
 * The parser for a column type name (types.ts's names: built-ins by their pg_catalog name, `_name` an array of
 * `name`, other types `schema.name`): identity for text-like and unknown types.
 */
export function parserFor(type: string): Parser {
  if (type.startsWith('_')) {
    const element = scalarParsers[type.slice(1)] ?? identity
    const delimiter = delimiters[type] ?? ','
    // A json element that is a JSON null would be written `null`, as a NULL element is: such an array stays its text.
    if (element === parseJsonValue || element === parseJsonText) return (s) => {
      const v = parseArrayLiteral(s, delimiter, element)
      return Array.isArray(v) && hasJsonNull(v) ? s : v
    }
    return (s) => parseArrayLiteral(s, delimiter, element)
  }
  return scalarParsers[type] ?? identity
}

interface PgTypeRow {
  oid: number
  name: string
  nsp: string
  typtype: string
  base: number
  elem: number
  delim: string
  is_array: boolean
}

const TYPE_SQL = `SELECT t.oid::int AS oid, quote_ident(t.typname) AS name, quote_ident(n.nspname) AS nsp, t.typtype::text AS typtype,
    t.typbasetype::int AS base, t.typelem::int AS elem, t.typdelim::text AS delim,
    EXISTS (SELECT 1 FROM pg_type e WHERE e.typarray = t.oid) AS is_array
  FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE t.oid = ANY($1::oid[])`

/**
 * The column type names of some oids, resolved by oid in pg_type (never by name: a user type named \`bool\`,
 * \`int4\`, \`json\` or \`_status\` is not the built-in): a domain is its base type; an array (a type that is
 * some type's typarray) is \`_\` + its element's name; a type of pg_catalog is its name; any other is
 * \`schema.name\`. An array of a user type with its own delimiter is named \`schema._name\` and read as text.
 */
export async function resolveTypeNames(client: { query<R extends object>(text: string, values: unknown[]): Promise<{ rows: R[] }> }, oids: readonly number[]): Promise<Map<number, string>> {
  const rows = new Map<number, PgTypeRow>()
  let wanted = [...new Set(oids)].filter((oid) => builtinTypeNames[oid] === undefined)
  while (wanted.length) {
    const { rows: found } = await client.query<PgTypeRow>(TYPE_SQL, [wanted])
    for (const r of found) rows.set(r.oid, r)
    wanted = [...new Set(found.flatMap((r) => [r.typtype === 'd' ? r.base : 0, r.is_array ? r.elem : 0]))].filter((oid) => oid && builtinTypeNames[oid] === undefined && !rows.has(oid))
  }
  const names = new Map<number, string>()
  const nameOf = (oid: number, depth = 0): string => {
    const builtin = builtinTypeNames[oid]
    if (builtin !== undefined) return builtin
    const r = rows.get(oid)
    if (!r || depth > 32) return 'text'
    if (r.typtype === 'd') return nameOf(r.base, depth + 1)
    const own = r.nsp === 'pg_catalog' ? r.name : `${r.nsp}.${r.name}`
    if (!r.is_array) return own
    const element = nameOf(r.elem, depth + 1)
    if (element.startsWith('_')) return own // an array of a domain over an array: not a shape we read
    const elementRow = baseRow(r.elem)
    const delim = elementRow?.delim ?? ','
    if (delim !== ',' && delimiters['_' + element] !== delim) return r.nsp === 'pg_catalog' ? `pg_catalog.${r.name}` : own
    return '_' + element
  }
  const baseRow = (oid: number): PgTypeRow | undefined => {
    let r = rows.get(oid)
    for (let i = 0; r && r.typtype === 'd' && i < 32; i++) r = rows.get(r.base)
    return r
  }
  for (const oid of oids) names.set(oid, nameOf(oid))
  return names
}

/**
 * The `types` object for a pg query: every oid of the result gets our parser.
 * `names` maps the result's oids to type names (resolveTypeNames); a parser's
 * error goes to `onError` (the value stays its text).
 */
export function typeParsers(names: ReadonlyMap<number, string>, onError: (err: unknown) => void): { getTypeParser: (oid: number) => Parser } {
  const cache = new Map<number, Parser>()
  return {
    getTypeParser(oid: number): Parser {
      let p = cache.get(oid)
      if (!p) {
        const parse = parserFor(names.get(oid) ?? builtinTypeNames[oid] ?? 'text')
        // pg calls a parser inside its socket handler, where a throw would be an uncaught exception.
        p = parse === identity ? parse : (s) => {
          try {
            return parse(s)
          } catch (err) {
            onError(err)
            return s
          }
        }
        cache.set(oid, p)
      }
      return p
    },
  }
}
