/**
 * Reading a stage CSV back as batches, typed by its schema sidecar: the values
 * come back as pgSource gave them (see lib/extract/types.ts). An unquoted empty
 * field is NULL, a quoted one (`""`) the empty string.
 */
import { createReadStream } from 'node:fs'
import { access } from 'node:fs/promises'
import { Readable, Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { parse, type CastingContext } from 'csv-parse'
import { EtlError } from '../errors.ts'
import { parseInt8, parseNumeric } from '../extract/types.ts'
import type { Batch, Column, Row } from '../types.ts'
import { readSidecar } from './schema.ts'

type Cast = (value: string) => unknown

const json: Cast = (v) => JSON.parse(v)
const bool: Cast = (v) => v === 'true' || v === 't'
const casts: Readonly<Record<string, Cast>> = {
  int2: Number, int4: Number, float4: Number, float8: Number, int8: parseInt8, numeric: parseNumeric,
  bool, json, jsonb: json,
}

/** How a CSV field of a given PostgreSQL type becomes a value. */
export function castFor(type: string): Cast {
  if (type.startsWith('_')) return json
  return casts[type] ?? ((v) => v)
}

export interface CsvSourceOptions {
  readonly batchSize?: number
}

/**
 * Streams a stage CSV as batches of typed rows. Throws ETL_INPUT when the file
 * or its sidecar is missing, the header does not match the sidecar, or a value
 * cannot be read as its type.
 */
export function csvSource(path: string, { batchSize = 1000 }: CsvSourceOptions = {}): Readable & { readonly columns: Promise<readonly Column[]> } {
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
    let header = true
    let rows: Row[] = []
    let sent = false
    const push = (batch: Batch): Promise<void> | undefined => {
      sent = true
      if (out.push(batch)) return undefined
      return new Promise<void>((resolve) => { resumeParser = resolve })
    }
    const parser = parse({
      relax_column_count: false,
      cast: (value: string, ctx: CastingContext) => {
        if (header) return value
        if (value === '' && !ctx.quoting) return null
        const cast = castCols[ctx.index]
        if (!cast) return value
        try {
          return cast(value)
        } catch (err) {
          throw new EtlError('ETL_INPUT', `${path} line ${ctx.lines}: column ${columns[ctx.index]?.name} is not valid ${columns[ctx.index]?.type}: ${JSON.stringify(value.slice(0, 80))}`, { cause: err })
        }
      },
    })
    const collect = new Transform({
      objectMode: true,
      transform(record: Row, _enc, cb) {
        if (header) {
          header = false
          const names = record.map(String)
          if (names.length !== columns.length || names.some((n, i) => n !== columns[i]!.name))
            return cb(new EtlError('ETL_INPUT', `${path}: header ${JSON.stringify(names)} does not match its schema sidecar ${JSON.stringify(columns.map((c) => c.name))}`))
          return cb()
        }
        rows.push(record)
        if (rows.length < batchSize) return cb()
        const batch = { columns, rows }
        rows = []
        const wait = push(batch)
        if (wait) wait.then(() => cb(), cb)
        else cb()
      },
      flush(cb) {
        if (rows.length || !sent) push({ columns, rows })
        cb()
      },
    })
    try {
      await pipeline(createReadStream(path), parser, collect, { signal: abort.signal })
    } catch (err) {
      if (err instanceof EtlError) throw err
      const cause = (err as { cause?: unknown }).cause
      if (cause instanceof EtlError) throw cause
      throw new EtlError('ETL_INPUT', `${path} is not valid CSV: ${(err as Error).message}`, { cause: err })
    }
    if (abort.signal.aborted) return
    if (header) throw new EtlError('ETL_INPUT', `${path} is empty (no header line)`)
    out.push(null)
  }

  return Object.assign(out, { columns: ready.promise })
}
