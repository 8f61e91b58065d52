/**
 * Rows from the bytes of `COPY (...) TO STDOUT WITH (FORMAT csv)`.
 *
 * A cursor hands every field to JavaScript as its own string (pg's protocol
 * parser, ~0.45 µs a row of nine fields) and the CSV line must then be joined
 * again; COPY sends PostgreSQL's own CSV, which this reads a chunk at a time:
 * 1M prostate rows take 0.8 s instead of 1.6 s (bench: scratch measurements in
 * the closing note of issue #8).
 *
 * The values are exactly the cursor's: each field's text goes through the same
 * parser (types.ts), since COPY writes a value with the same output function as
 * a query result. An unquoted empty field is NULL, a quoted one the empty string.
 *
 * The line kept for each row is exactly formatRow's (lib/csv/format.ts):
 * PostgreSQL's CSV line itself when the record has no quote and every column is
 * of a kind whose text we write unchanged (integers, text, floats without an
 * exponent: raw-lines.ts explains why); otherwise the line is made from the
 * fields by rawLineMaker, as the cursor path does.
 */
import { parseRecord, quoteCount } from '../csv/read.ts'
import { EtlError } from '../errors.ts'
import type { Column, Row } from '../types.ts'
import { lineKinds, rawLineMaker } from './raw-lines.ts'
import { parserFor } from './types.ts'

const NUMBER = 0
const TEXT = 1
const OTHER = 2
const IDENTITY = parserFor('text')

export class CopyRows {
  readonly #width: number
  readonly #parsers: ((text: string) => unknown)[]
  /** Per column: NUMBER (parsed by Number), TEXT (the text itself) or OTHER (its parser). */
  readonly #casts: Uint8Array
  readonly #make: (fields: (string | null)[], row: Row) => string
  /** Per column: 0 the text is the line's field as it is, 1 a float (as is unless it has an exponent), 2 rewritten. */
  readonly #kinds: Uint8Array
  /** Every column is of kind 0 or 1: a quote-free line may be kept as PostgreSQL wrote it. */
  readonly #plainable: boolean
  #tail: Buffer | undefined
  /** A record whose quoted field holds a line break: its lines so far, and their quote count. */
  #open: string | undefined
  #openQuotes = 0
  rows: Row[] = []
  lines: string[] = []

  /** Make the lines too (false: only the rows; `lines` stays empty). */
  readonly #withLines: boolean

  constructor(columns: readonly Column[], floatsOk: boolean, withLines = true) {
    this.#withLines = withLines
    this.#width = columns.length
    this.#parsers = columns.map((c) => parserFor(c.type))
    this.#casts = Uint8Array.from(this.#parsers, (p) => (p === Number ? NUMBER : p === IDENTITY ? TEXT : OTHER))
    this.#make = rawLineMaker(columns, floatsOk)
    this.#kinds = lineKinds(columns, floatsOk)
    this.#plainable = this.#kinds.every((k) => k < 2)
  }

  /** Reads the complete lines of `chunk` (a piece of the COPY output) into `rows` and `lines`. */
  push(chunk: Buffer): void {
    const buf = this.#tail ? Buffer.concat([this.#tail, chunk]) : chunk
    const end = buf.lastIndexOf(10)
    if (end === -1) {
      this.#tail = buf
      return
    }
    // Cut after the last line break: a UTF-8 character never holds byte 10, so no character is split.
    this.#tail = end + 1 < buf.length ? Buffer.from(buf.subarray(end + 1)) : undefined
    const text = buf.toString('utf8', 0, end + 1)
    let start = 0
    for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', start)) {
      this.#line(text.slice(start, i))
      start = i + 1
    }
  }

  /** The end of the COPY output: nothing may be left over. */
  end(): void {
    if (this.#tail?.length || this.#open !== undefined) throw new EtlError('ETL_DB_QUERY', 'the COPY output ended inside a record')
  }

  #line(line: string): void {
    if (this.#open !== undefined) {
      this.#open += '\n' + line
      this.#openQuotes += quoteCount(line)
      if (this.#openQuotes % 2 === 0) {
        const record = this.#open
        this.#open = undefined
        this.#quoted(record)
      }
      return
    }
    if (line.indexOf('"') === -1) return this.#plain(line)
    const q = quoteCount(line)
    if (q % 2 === 0) return this.#quoted(line)
    this.#open = line
    this.#openQuotes = q
  }

  /** A record without quotes: split on commas. */
  #plain(line: string): void {
    const width = this.#width
    const fields: (string | null)[] = line.split(',')
    if (fields.length !== width) throw this.#ragged(fields.length)
    const row = new Array<unknown>(width)
    const casts = this.#casts
    // A float written with an exponent makes the line differ from ours: most lines have no `e` at all.
    let keep = this.#plainable
    const checkFloats = keep && line.indexOf('e') !== -1
    for (let i = 0; i < width; i++) {
      const f = fields[i]!
      if (f === '') {
        fields[i] = null
        row[i] = null
        continue
      }
      const cast = casts[i]
      // Direct calls for the common types (one call site for every parser would be megamorphic).
      row[i] = cast === NUMBER ? Number(f) : cast === TEXT ? f : this.#parsers[i]!(f)
      if (checkFloats && this.#kinds[i] === 1 && f.indexOf('e') !== -1) keep = false
    }
    this.rows.push(row)
    if (this.#withLines) this.lines.push(keep ? line : this.#make(fields, row))
  }

  /** A record with quotes: csv-parse reads its fields (and says which were quoted). */
  #quoted(record: string): void {
    let parsed: ReturnType<typeof parseRecord>
    try {
      parsed = parseRecord(record)
    } catch (err) {
      throw new EtlError('ETL_DB_QUERY', `cannot read the COPY output: ${(err as Error).message}`, { cause: err })
    }
    const { fields: texts, quoted: quotedAt } = parsed
    if (texts.length !== this.#width) throw this.#ragged(texts.length)
    const fields: (string | null)[] = new Array<string | null>(this.#width)
    const row = new Array<unknown>(this.#width)
    for (let i = 0; i < this.#width; i++) {
      const f = texts[i]!
      if (f === '' && !quotedAt[i]) {
        fields[i] = null
        row[i] = null
      } else {
        fields[i] = f
        row[i] = this.#parsers[i]!(f)
      }
    }
    this.rows.push(row)
    if (this.#withLines) this.lines.push(this.#make(fields, row))
  }

  #ragged(got: number): EtlError {
    return new EtlError('ETL_DB_QUERY', `the COPY output has a record of ${got} fields where ${this.#width} columns were described`)
  }
}
