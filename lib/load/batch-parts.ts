/**
 * Gathers batches into CSV parts, each with its header line, bounded by rows
 * and by bytes: the unit a sink stages (one uploaded file, one local part).
 * Pure: no streams, no I/O. A batch larger than a part is split across parts.
 *
 * The CSV text comes from one function, `partLines`, so the shared formatter
 * (lib/csv/format.ts) is the only place that decides how a value is written.
 * Rows that come with their CSV lines (lib/csv/lines.ts: `etl run` formats
 * each row once) are not formatted again.
 */
import { invalidOption } from '../errors.ts'
import { csvHeader, formatLines, joinLines } from '../csv/format.ts'
import { cachedLines } from '../csv/lines.ts'
import type { Column, Row } from '../types.ts'

/**
 * CSV lines of some rows (RFC 4180; NULL empty, '' as `""`; every value of a json/jsonb/array column as JSON text,
 * so the JSON string `"123"` keeps its quotes and stays apart from the number `123`), as the stage files write them.
 */
export function partLines(rows: readonly Row[], columns: readonly Column[]): string {
  return joinLines(cachedLines(rows) ?? formatLines(rows, columns))
}

export interface PartLimits {
  /** Rows per part at most. Default 50,000. */
  readonly rows?: number
  /** Bytes per part: a part is closed once it reaches this size (a part may exceed it by less than one batch slice). Default 8 MiB. */
  readonly bytes?: number
}

export const PART_DEFAULTS = Object.freeze({ rows: 50_000, bytes: 8 * 1024 * 1024 })

export interface Part {
  /** 1-based. */
  readonly index: number
  readonly rows: number
  /** The CSV file: header line, then the rows. */
  readonly data: Buffer
}

/** Checks part limits (ETL_INVALID_OPTION naming `prefix.rows` / `prefix.bytes`). */
export function partLimits(limits: PartLimits = {}, prefix = 'part'): Required<PartLimits> {
  const rows = limits.rows ?? PART_DEFAULTS.rows
  const bytes = limits.bytes ?? PART_DEFAULTS.bytes
  if (!Number.isInteger(rows) || rows < 1) throw invalidOption(`${prefix}.rows`, 'a positive integer', rows)
  if (!Number.isInteger(bytes) || bytes < 1024) throw invalidOption(`${prefix}.bytes`, 'an integer >= 1024', bytes)
  return { rows, bytes }
}

/**
 * Collects rows and hands out finished parts:
 *
 *     const parts = new PartBuilder(columns, { rows: 50_000 })
 *     for (const part of parts.add(batch.rows)) await upload(part)
 *     const last = parts.finish()       // the tail, or an empty part (header only) if nothing was added
 */
export class PartBuilder {
  readonly columns: readonly Column[]
  readonly #limits: Required<PartLimits>
  readonly #header: string
  #chunks: string[] = []
  #rows = 0
  #length = 0
  #index = 0

  constructor(columns: readonly Column[], limits: PartLimits = {}) {
    this.columns = columns
    this.#limits = partLimits(limits)
    this.#header = csvHeader(columns)
  }

  /** Parts handed out so far. */
  get parts(): number {
    return this.#index
  }

  /** Adds rows; returns the parts completed by them (often none). */
  add(rows: readonly Row[]): Part[] {
    const done: Part[] = []
    const lines = cachedLines(rows)
    let from = 0
    while (from < rows.length) {
      const room = this.#limits.rows - this.#rows
      const to = Math.min(rows.length, from + room)
      const whole = from === 0 && to === rows.length
      const text = lines ? joinLines(whole ? lines : lines.slice(from, to)) : partLines(whole ? rows : rows.slice(from, to), this.columns)
      this.#chunks.push(text)
      this.#rows += to - from
      // String length counts UTF-16 units: close enough to bytes for a limit (the part's exact size is its Buffer).
      this.#length += text.length
      from = to
      if (this.#rows >= this.#limits.rows || this.#length >= this.#limits.bytes) done.push(this.#close())
    }
    return done
  }

  /** The last part: the rows not yet handed out, or a header-only part when no part was handed out at all; else undefined. */
  finish(): Part | undefined {
    if (this.#rows > 0 || this.#index === 0) return this.#close()
    return undefined
  }

  #close(): Part {
    const data = Buffer.from(this.#header + this.#chunks.join(''), 'utf8')
    const part: Part = { index: ++this.#index, rows: this.#rows, data }
    this.#chunks = []
    this.#rows = 0
    this.#length = 0
    return part
  }
}
