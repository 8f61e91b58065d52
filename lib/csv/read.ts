/**
 * Reading a stage CSV back as batches, typed by its schema sidecar: the values
 * come back as pgSource gave them (see lib/extract/types.ts). An unquoted empty
 * field is NULL, a quoted one (`""`) the empty string.
 */
import { createReadStream } from 'node:fs'
import { access } from 'node:fs/promises'
import { Readable } from 'node:stream'
import type { CastingContext } from 'csv-parse'
import { parse as parseSync } from 'csv-parse/sync'
import { EtlError } from '../errors.ts'
import { JSON_NULL, parseInt8, parseJsonValue, parseNumeric } from '../extract/types.ts'
import type { Batch, Column, Row } from '../types.ts'
import { keepLines } from './lines.ts'
import { readSidecar } from './schema.ts'

type Cast = (value: string) => unknown

const json: Cast = parseJsonValue
/** An array's JSON text (numbers as String() wrote them, so JSON.parse gives them back; -0 too). */
const array: Cast = (v) => JSON.parse(v)
/** A json/jsonb array: its elements exactly (parseJsonValue; an array holding a JSON null is PostgreSQL's text). */
const jsonArray: Cast = (v) => {
  const a = parseJsonValue(v)
  return a === JSON_NULL ? null : a
}
/** A float array: the strings "NaN", "Infinity", "-Infinity" are those numbers again (format.ts's jsonText). */
const floatArray: Cast = (v) => mapDeep(array(v), (x) => (x === 'NaN' || x === 'Infinity' || x === '-Infinity' ? Number(x) : x))
function mapDeep(v: unknown, f: (x: unknown) => unknown): unknown {
  return Array.isArray(v) ? v.map((x) => mapDeep(x, f)) : f(v)
}
const bool: Cast = (v) => v === 'true' || v === 't'
/** A float as pgSource gives it (NaN and +-Infinity included); anything else that is not a number is an error, not NaN. */
const float: Cast = (v) => {
  const n = Number(v)
  if (Number.isNaN(n) && v !== 'NaN') throw new Error('not a number')
  return n
}
const int: Cast = (v) => {
  const n = Number(v)
  if (!Number.isSafeInteger(n)) throw new Error('not an integer')
  return n
}
const int8: Cast = (v) => {
  if (!/^[+-]?\d+$/.test(v)) throw new Error('not an integer')
  return parseInt8(v)
}
const numeric: Cast = (v) => {
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$|^NaN$|^[+-]?Infinity$/.test(v)) throw new Error('not a number')
  return parseNumeric(v)
}
const casts: Readonly<Record<string, Cast>> = {
  int2: int, int4: int, float4: float, float8: float, int8, numeric,
  bool, json, jsonb: json,
}

/** How a CSV field of a given PostgreSQL type becomes a value. */
export function castFor(type: string): Cast {
  if (type === '_float4' || type === '_float8') return floatArray
  if (type === '_json' || type === '_jsonb') return jsonArray
  if (type.startsWith('_')) return array
  return casts[type] ?? ((v) => v)
}

export interface CsvSourceOptions {
  readonly batchSize?: number
  /**
   * The file was written by this library's own stage writer, so each line is
   * exactly the CSV of its row: keep the lines with the batches (lib/csv/lines.ts)
   * for the sinks and tees after this one to reuse. Not for other CSV files
   * (a `1.50` would stay `1.50` where a row of ours is written `1.5`). Default false.
   */
  readonly trustedLines?: boolean
}

/** Quote characters in `s` (an odd count: the record goes on on the next line). */
export function quoteCount(s: string): number {
  let n = 0
  for (let i = s.indexOf('"'); i >= 0; i = s.indexOf('"', i + 1)) n++
  return n
}

/**
 * One CSV record with quotes (csv-parse): its fields, unquoted, and which of
 * them were quoted (an unquoted empty field is NULL, a quoted one ''). Throws
 * csv-parse's error for text that is not CSV.
 */
export function parseRecord(text: string): { fields: string[]; quoted: boolean[] } {
  const quoted: boolean[] = []
  const records = parseSync(text, { relax_column_count: true, cast: (v: string, ctx: CastingContext) => { quoted[ctx.index] = ctx.quoting; return v } }) as string[][]
  return { fields: records[0] ?? [''], quoted }
}

/**
 * Streams a stage CSV as batches of typed rows. Throws ETL_INPUT when the file
 * or its sidecar is missing, the header does not match the sidecar, or a value
 * cannot be read as its type.
 */
export function csvSource(path: string, options: CsvSourceOptions = {}): Readable & { readonly columns: Promise<readonly Column[]> } {
  const batchSize = options.batchSize ?? 1000
  const ready = Promise.withResolvers<readonly Column[]>()
  ready.promise.catch(() => {})
  const abort = new AbortController()
  let started = false
  let resumeParser: (() => void) | undefined
  let columns: readonly Column[] = []
  const out = new Readable({
    objectMode: true,
    highWaterMark: 2,
    construct(cb) {
      open().then(() => cb(), (err: unknown) => {
        ready.reject(err)
        cb(err as Error)
      })
    },
    read() {
      if (started) {
        const resume = resumeParser
        resumeParser = undefined
        resume?.()
        return
      }
      started = true
      run().catch((err: unknown) => {
        ready.reject(err)
        if (!abort.signal.aborted)
          out.destroy(err instanceof EtlError ? err : new EtlError('ETL_INPUT', `cannot read ${path}: ${(err as Error).message}`, { cause: err }))
      })
    },
    destroy(err, cb) {
      abort.abort()
      resumeParser?.()
      cb(err)
    },
  })

  async function open(): Promise<void> {
    try {
      await access(path)
    } catch (err) {
      throw new EtlError('ETL_INPUT', `input file not found: ${path}`, { cause: err })
    }
    columns = (await readSidecar(path)).columns
    ready.resolve(columns)
  }

  async function run(): Promise<void> {
    const castCols = columns.map((c) => castFor(c.type))
    const width = columns.length
    let header = true
    let rows: Row[] = []
    let lines: string[] = []
    let sent = false
    let lineNo = 0
    let crlf = false
    /** A record that started on an earlier line (a quoted field holding a line break), and its quote count. */
    let open: string | undefined
    let quotes = 0

    const value = (text: string, quoted: boolean, index: number, at: number): unknown => {
      if (text === '' && !quoted) return null
      const cast = castCols[index]
      if (!cast) return text
      try {
        return cast(text)
      } catch (err) {
        throw new EtlError('ETL_INPUT', `${path} line ${at}: column ${columns[index]?.name} is not valid ${columns[index]?.type}: ${JSON.stringify(text.slice(0, 80))}`, { cause: err })
      }
    }
    const ragged = (got: number, at: number) => new EtlError('ETL_INPUT', `${path} is not valid CSV: Invalid Record Length: expect ${width}, got ${got} on line ${at}`)

    /** A record whose text holds a quote: csv-parse reads it (quoted fields, escaped quotes, line breaks inside). */
    const slow = (text: string, at: number): Row => {
      let parsed: ReturnType<typeof parseRecord>
      try {
        parsed = parseRecord(text)
      } catch (err) {
        throw new EtlError('ETL_INPUT', `${path} is not valid CSV: ${(err as Error).message.replace(/on line \d+/, `on line ${at}`)}`, { cause: err })
      }
      const { fields, quoted: quotedAt } = parsed
      if (header) return fields
      if (fields.length !== width) throw ragged(fields.length, at)
      return fields.map((f, i) => value(f, quotedAt[i] === true, i, at))
    }

    /** A record without quotes: split on commas (no parser needed; most stage files have no quote at all). */
    const fast = (text: string, at: number): Row => {
      const fields = text.split(',')
      if (header) return fields
      if (fields.length !== width) throw ragged(fields.length, at)
      const row = new Array<unknown>(width)
      for (let i = 0; i < width; i++) row[i] = value(fields[i]!, false, i, at)
      return row
    }

    const push = (batch: Batch, batchLines: string[]): Promise<void> | undefined => {
      sent = true
      if (options.trustedLines) keepLines(batch.rows, batchLines, columns)
      if (out.push(batch)) return undefined
      return new Promise<void>((resolve) => { resumeParser = resolve })
    }

    /** One record: the header (checked against the sidecar) or a row. Resolves when the batch it completed was taken. */
    const record = (row: Row, text: string): Promise<void> | undefined => {
      if (header) {
        header = false
        const names = row.map(String)
        if (names.length !== columns.length || names.some((n, i) => n !== columns[i]!.name))
          throw new EtlError('ETL_INPUT', `${path}: header ${JSON.stringify(names)} does not match its schema sidecar ${JSON.stringify(columns.map((c) => c.name))}`)
        return undefined
      }
      rows.push(row)
      lines.push(text)
      if (rows.length < batchSize) return undefined
      const batch = { columns, rows }
      const batchLines = lines
      rows = []
      lines = []
      return push(batch, batchLines)
    }

    const line = (text: string): Promise<void> | undefined => {
      lineNo++
      if (lineNo === 1 && text.endsWith('\r')) crlf = true
      if (crlf && text.endsWith('\r')) text = text.slice(0, -1)
      if (open !== undefined) {
        open += '\n' + text
        quotes += quoteCount(text)
        if (quotes % 2) return undefined
        const whole = open
        open = undefined
        return record(slow(whole, lineNo), whole)
      }
      if (text.indexOf('"') < 0) return record(fast(text, lineNo), text)
      quotes = quoteCount(text)
      if (quotes % 2) {
        open = text
        return undefined
      }
      return record(slow(text, lineNo), text)
    }

    let rest = ''
    let ended = false
    try {
      for await (const chunk of createReadStream(path, { encoding: 'utf8', highWaterMark: 256 * 1024, signal: abort.signal })) {
        const text = rest + (chunk as string)
        let from = 0
        for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', from)) {
          const wait = line(text.slice(from, nl))
          from = nl + 1
          if (wait) await wait
          if (abort.signal.aborted) return
        }
        rest = text.slice(from)
      }
      ended = true
    } catch (err) {
      if (abort.signal.aborted) return
      throw err
    }
    if (ended && rest !== '') {
      const wait = line(rest)
      if (wait) await wait
    }
    if (open !== undefined) throw new EtlError('ETL_INPUT', `${path} is not valid CSV: Quote Not Closed: the parsing is finished with an opening quote at line ${lineNo}`)
    if (abort.signal.aborted) return
    if (header) throw new EtlError('ETL_INPUT', `${path} is empty (no header line)`)
    if (rows.length || !sent) push({ columns, rows }, lines)
    out.push(null)
  }

  return Object.assign(out, { columns: ready.promise })
}
