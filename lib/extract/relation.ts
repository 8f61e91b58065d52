/**
 * Table names and source queries, built without string-concatenating user input
 * into SQL: a table name is parsed into identifiers (PostgreSQL's folding rules:
 * unquoted parts are lowercased, "quoted" parts kept exactly) and each part is
 * quoted again; a query takes its values as parameters.
 */
import { EtlError } from '../errors.ts'

export type SourceSpec = { readonly table: string } | { readonly query: string; readonly values?: readonly unknown[] }

/** Quotes one identifier: `a"b` -> `"a""b"`. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`
}

/** Splits `schema.table`, `"My Schema"."T.1"`, `prostate` into identifier parts. */
export function parseTableName(input: string): string[] {
  const parts: string[] = []
  let i = 0
  const s = input.trim()
  if (!s) throw new EtlError('ETL_UNKNOWN_TABLE', 'table name is empty')
  while (i < s.length) {
    let part = ''
    if (s[i] === '"') {
      i++
      for (;;) {
        if (i >= s.length) throw new EtlError('ETL_UNKNOWN_TABLE', `table name has an unclosed quote: ${JSON.stringify(input)}`)
        if (s[i] === '"') {
          if (s[i + 1] === '"') { part += '"'; i += 2; continue }
          i++
          break
        }
        part += s[i++]
      }
    } else {
      while (i < s.length && s[i] !== '.') part += s[i++]
      part = part.toLowerCase()
    }
    if (!part) throw new EtlError('ETL_UNKNOWN_TABLE', `table name has an empty part: ${JSON.stringify(input)}`)
    parts.push(part)
    if (i < s.length) {
      if (s[i] !== '.') throw new EtlError('ETL_UNKNOWN_TABLE', `table name is not of the form schema.table: ${JSON.stringify(input)}`)
      i++
      if (i >= s.length) throw new EtlError('ETL_UNKNOWN_TABLE', `table name ends with a dot: ${JSON.stringify(input)}`)
    }
  }
  if (parts.length > 2) throw new EtlError('ETL_UNKNOWN_TABLE', `table name has more than two parts: ${JSON.stringify(input)}`)
  return parts
}

/** The quoted, qualified form of a table name: `"public"."prostate"`. */
export function qualifiedName(input: string): string {
  return parseTableName(input).map(quoteIdent).join('.')
}

/** The SQL text and values that select a source. */
export function sourceSql(spec: SourceSpec): { text: string; values: unknown[] } {
  if ('table' in spec) return { text: `SELECT * FROM ${qualifiedName(spec.table)}`, values: [] }
  const text = spec.query.trim().replace(/;\s*$/, '')
  if (!text) throw new EtlError('ETL_USAGE', 'the source query is empty')
  // The text is wrapped (`FROM (<query>) AS etl_source`): a line break ends a `--` comment on its last line first.
  return { text: text + '\n', values: [...(spec.values ?? [])] }
}

/** A short description of a source, for messages and run records. */
export function describeSource(spec: SourceSpec): string {
  return 'table' in spec ? `table ${spec.table}` : 'query'
}
