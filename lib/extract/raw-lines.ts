/**
 * CSV lines built from the text PostgreSQL sent, not from the parsed values.
 *
 * Turning a double back into text is the most costly step of a run (about
 * 0.2 µs a value, ../shared/perf/ANCHORS.md); PostgreSQL has already sent that
 * text. A line built here is exactly the line formatRow(row, jsonFlags(columns))
 * would write from the parsed row, column kind by column kind:
 *
 * | kind  | types                              | field                                                     |
 * | ----- | ---------------------------------- | --------------------------------------------------------- |
 * | raw   | int2, int4, int8                   | the text as sent (canonical: String(Number(t)) === t, and |
 * |       |                                    | an int8 past 2^53 stays the text)                         |
 * | float | float4, float8                     | the text, unless it has an exponent: then the parsed      |
 * |       |                                    | number is formatted                                       |
 * | text  | types read as their text (text,    | the text, quoted as csvField quotes it                    |
 * |       | varchar, uuid, date, ...)          |                                                           |
 * | bool  | bool                               | `true` / `false`                                          |
 * | value | everything else (numeric, json,    | the parsed value, formatted as formatRow does             |
 * |       | timestamps, arrays)                |                                                           |
 *
 * Why the float text is the number's own text: since PostgreSQL 12 a positive
 * extra_float_digits (the default, 1) writes the shortest text that reads back
 * as the same double, which is also what JavaScript's String() writes; both
 * write plain decimals in the range where PostgreSQL does not use an exponent.
 * Our sessions force extra_float_digits 3 (connect.ts: 0 or less would round
 * to 15 digits); PostgreSQL before 12 then writes 17 digits that are exact
 * but not the shortest: `floatTextIsShortest` says when the float kind may be
 * used (else floats are formatted).
 */
import { csvField, isJsonType, jsonText, needsQuote } from '../csv/format.ts'
import type { Column, Row } from '../types.ts'
import { parserFor } from './types.ts'

const RAW = 0
const FLOAT = 1
const TEXT = 2
const BOOL = 3
const VALUE = 4

const identity = parserFor('text')

function kindOf(type: string, floatsOk: boolean): number {
  switch (type) {
    case 'int2': case 'int4': case 'int8':
      return RAW
    case 'float4': case 'float8':
      return floatsOk ? FLOAT : VALUE
    case 'bool':
      return BOOL
    default:
      return parserFor(type) === identity && !isJsonType(type) ? TEXT : VALUE
  }
}

/** A function that makes the CSV line of one data row from its fields (PostgreSQL's text, null for NULL) and its parsed row. */
export type RawLineMaker = (fields: (string | null)[], row: Row) => string

/**
 * The line maker for `columns`. `floatsOk`: the server's float text is the
 * shortest (floatTextIsShortest). Fields are rewritten in place: the caller
 * gives an array it owns.
 */
export function rawLineMaker(columns: readonly Column[], floatsOk: boolean): RawLineMaker {
  const n = columns.length
  const kinds = columns.map((c) => kindOf(c.type, floatsOk))
  const json = columns.map((c) => isJsonType(c.type))
  return (fields, row) => {
    for (let i = 0; i < n; i++) {
      const f = fields[i]
      if (f === null || f === undefined) continue
      switch (kinds[i]) {
        case RAW:
          break
        case FLOAT:
          // PostgreSQL writes exponents as e+NN / e-NN, String() as e+N / e-N or none.
          if (f.indexOf('e') !== -1) fields[i] = String(row[i])
          break
        case TEXT:
          if (f === '' || needsQuote.test(f)) fields[i] = csvField(f)
          break
        case BOOL:
          fields[i] = row[i] ? 'true' : 'false'
          break
        default: {
          const v = row[i]
          fields[i] = json[i] && typeof v !== 'object' ? csvField(jsonText(v)) : csvField(v)
        }
      }
    }
    return fields.join(',')
  }
}

/**
 * Per column, how a field of PostgreSQL's own CSV line (COPY, copy-rows.ts) relates to ours: 0 the same text
 * (integers; text, which PostgreSQL quotes as we do), 1 a float (the same unless it has an exponent),
 * 2 written differently (booleans, timestamps, JSON, numeric, arrays...).
 */
export function lineKinds(columns: readonly Column[], floatsOk: boolean): Uint8Array {
  return Uint8Array.from(columns, (c) => {
    const k = kindOf(c.type, floatsOk)
    return k === RAW || k === TEXT ? 0 : k === FLOAT ? 1 : 2
  })
}

/** Whether the float text of a server of this version (server_version_num) is the shortest round-trip text, with our extra_float_digits (3). */
export function floatTextIsShortest(version: number): boolean {
  return version >= 120000
}
