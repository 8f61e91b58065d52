/**
 * CSV lines, written by hand: csv-stringify costs ~3 µs a row (../shared/perf/ANCHORS.md),
 * this costs a fraction of that, and a whole batch becomes one string.
 *
 * RFC 4180: fields holding `,` `"` CR or LF are quoted, quotes doubled. NULL is
 * an empty field; an empty string is `""` (so the two read back apart, as in
 * PostgreSQL's own CSV). Numbers as String() writes them, -0 as `-0`. Booleans are
 * `true`/`false`; JSON values and arrays are written as JSON text (jsonText).
 */
import type { Column, Row } from '../types.ts'

/** A field with one of these characters is quoted. */
export const needsQuote = /[",\r\n]/

/** JSON.rawJSON (Node 22+). */
const rawJSON = (JSON as unknown as { rawJSON(text: string): unknown }).rawJSON
const NAN = rawJSON('"NaN"')
const INF = rawJSON('"Infinity"')
const NEG_INF = rawJSON('"-Infinity"')
const NEG_ZERO = rawJSON('-0')

/** Numbers JSON cannot write as they are: NaN and +-Infinity as strings (as PostgreSQL's to_json writes them), -0 as -0. */
function jsonNumbers(_key: string, v: unknown): unknown {
  if (typeof v !== 'number' || (v !== 0 && Number.isFinite(v))) return v
  if (v === 0) return 1 / v < 0 ? NEG_ZERO : v
  return v !== v ? NAN : v > 0 ? INF : NEG_INF
}

/**
 * A JSON value (json, jsonb) or an array as JSON text: numbers kept as text (JSON.rawJSON) are written as that
 * text; NaN and +-Infinity (float arrays) as the strings "NaN", "Infinity", "-Infinity"; -0 as -0.
 */
export function jsonText(v: unknown): string {
  return JSON.stringify(v, jsonNumbers)
}

/** A number as text: String(), except that -0 stays -0 (as PostgreSQL writes it). */
export function numberText(v: number): string {
  return v === 0 && 1 / v < 0 ? '-0' : String(v)
}

export function csvField(v: unknown): string {
  switch (typeof v) {
    case 'number':
      return numberText(v)
    case 'string':
      if (v === '') return '""'
      return needsQuote.test(v) ? `"${v.replace(/"/g, '""')}"` : v
    case 'boolean':
      return v ? 'true' : 'false'
    case 'bigint':
      return v.toString()
    case 'object': {
      if (v === null) return ''
      if (v instanceof Date) return v.toISOString()
      const s = jsonText(v)
      return needsQuote.test(s) ? `"${s.replace(/"/g, '""')}"` : s
    }
    default:
      return v === undefined ? '' : csvField(String(v))
  }
}

/** The header line (with its newline). */
export function csvHeader(columns: readonly Column[]): string {
  return columns.map((c) => csvField(c.name)).join(',') + '\n'
}

/** A json/jsonb/array column: every non-null value is written as JSON text (a JSON string too, quotes and all). */
export const isJsonType = (type: string): boolean => type === 'json' || type === 'jsonb' || type.startsWith('_')
const jsonColumnsCache = new WeakMap<readonly Column[], boolean[] | null>()

function jsonColumns(columns: readonly Column[]): boolean[] | null {
  let flags = jsonColumnsCache.get(columns)
  if (flags === undefined) {
    const f = columns.map((c) => isJsonType(c.type))
    flags = f.some(Boolean) ? f : null
    jsonColumnsCache.set(columns, flags)
  }
  return flags
}

/** The per-column JSON flags of `columns` (null when no column is JSON; cached per columns array). */
export function jsonFlags(columns: readonly Column[] | undefined): readonly boolean[] | null {
  return columns ? jsonColumns(columns) : null
}

/**
 * One row as a CSV line, without its newline. `json` comes from jsonFlags():
 * with it, json/jsonb/array values are always JSON text.
 */
export function formatRow(row: Row, json: readonly boolean[] | null): string {
  const n = row.length
  // Fast path: when every value is written as Array.prototype.join writes it (numbers by String(), NULL as
  // nothing, booleans, strings needing no quotes), join builds the line as one flat string, where `+=`
  // would build a tree of ~2n string pieces that every later copy walks again.
  let plain = true
  for (let i = 0; i < n; i++) {
    const v = row[i]
    if (typeof v === 'number' ? v !== 0 || 1 / v > 0 : v === null || v === undefined) continue
    if ((json !== null && json[i]) || (typeof v === 'string' ? v === '' || needsQuote.test(v) : typeof v !== 'boolean')) {
      plain = false
      break
    }
  }
  if (plain) return row.join(',')
  let out = ''
  for (let i = 0; i < n; i++) {
    if (i > 0) out += ','
    const v = row[i]
    if (typeof v === 'number') out += numberText(v)
    else if (json !== null && json[i] && v !== null && v !== undefined && typeof v !== 'object') out += csvField(jsonText(v))
    else out += csvField(v)
  }
  return out
}

/** Every row as its CSV line (no newlines), formatted as formatCsv does. */
export function formatLines(rows: readonly Row[], columns?: readonly Column[]): string[] {
  const json = jsonFlags(columns)
  const lines = new Array<string>(rows.length)
  for (let r = 0; r < rows.length; r++) lines[r] = formatRow(rows[r]!, json)
  return lines
}

/** Lines (from formatLines) as CSV text: each followed by `\n`; '' for none. */
export function joinLines(lines: readonly string[]): string {
  return lines.length ? lines.join('\n') + '\n' : ''
}

/**
 * Every row of a batch as CSV lines, each ending in `\n`, as one string.
 * Given the columns, json/jsonb/array values are always JSON text, so that a
 * JSON string value (`"2024-02-03"`) reads back as that string.
 */
export function formatCsv(rows: readonly Row[], columns?: readonly Column[]): string {
  return joinLines(formatLines(rows, columns))
}
