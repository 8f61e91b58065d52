/**
 * CSV lines, written by hand: csv-stringify costs ~3 µs a row (../shared/perf/ANCHORS.md),
 * this costs a fraction of that, and a whole batch becomes one string.
 *
 * RFC 4180: fields holding `,` `"` CR or LF are quoted, quotes doubled. NULL is
 * an empty field; an empty string is `""` (so the two read back apart, as in
 * PostgreSQL's own CSV). Booleans are `true`/`false`; JSON values and arrays are
 * written as JSON text.
 */
import type { Column, Row } from '../types.ts'

const needsQuote = /[",\r\n]/

export function csvField(v: unknown): string {
  switch (typeof v) {
    case 'number':
      return String(v)
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
      const s = JSON.stringify(v)
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
const isJsonType = (type: string): boolean => type === 'json' || type === 'jsonb' || type.startsWith('_')
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

/**
 * Every row of a batch as CSV lines, each ending in `\n`, as one string.
 * Given the columns, json/jsonb/array values are always JSON text, so that a
 * JSON string value (`"2024-02-03"`) reads back as that string.
 */
export function formatCsv(rows: readonly Row[], columns?: readonly Column[]): string {
  const json = columns ? jsonColumns(columns) : null
  let out = ''
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r]!
    const n = row.length
    for (let i = 0; i < n; i++) {
      if (i > 0) out += ','
      const v = row[i]
      if (typeof v === 'number') out += String(v)
      else if (json !== null && json[i] && v !== null && v !== undefined && typeof v !== 'object') out += csvField(JSON.stringify(v))
      else out += csvField(v)
    }
    out += '\n'
  }
  return out
}
