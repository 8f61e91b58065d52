/**
 * A streaming profile of a table: one pass over its batches, memory bounded
 * per column whatever the row count (sketches.ts says what stays exact).
 *
 *     pgSource(db, spec) -> profileStream() ; await stream.profile
 *
 * Exact always: rows, nulls, min, max, mean and standard deviation (sample,
 * n - 1, as PostgreSQL's stddev_samp; in doubles), string lengths. Exact while
 * a column has at most 10,000 distinct values (`limit`), approximate past that:
 * distinct count (HyperLogLog, 0.81% standard error), most common values
 * (Misra-Gries: each count at most rows/1,001 too low), quantiles and the
 * histogram (KLL, rank error within 1.65%). Every figure says which it is.
 */
import { Writable } from 'node:stream'
import { codePointLength } from '../expectations/text-map.ts'
import type { Batch, Column, Row } from '../types.ts'
import { Counter, HLL_ERROR, Kll, KLL_RANK_ERROR } from './sketches.ts'

export type Family = 'numeric' | 'boolean' | 'temporal' | 'text' | 'other'
export type Looks = 'key' | 'category' | 'timestamp' | 'free text' | 'code' | 'measure' | 'flag' | 'empty' | 'other'

export interface Figure<T> {
  readonly value: T
  readonly exact: boolean
}

export interface HistogramBin {
  /** A bin's bounds (numbers: [from, to), the last one closed), or the one value of a bar. */
  readonly from: number | string
  readonly to: number | string
  readonly count: number
}

export interface ColumnProfile {
  readonly name: string
  readonly type: string
  readonly family: Family
  readonly rows: number
  readonly nulls: number
  readonly distinct: Figure<number> & { readonly error?: number }
  readonly min: number | string | boolean | null
  readonly max: number | string | boolean | null
  readonly mean: number | null
  readonly stdev: number | null
  /** Quantiles at 0.05, 0.25, 0.5, 0.75, 0.95 (numeric columns), as PostgreSQL's percentile_disc. */
  readonly quantiles: Figure<readonly { readonly q: number; readonly value: number }[]> & { readonly rankError?: number }
  /** Numeric: up to 20 equal-width bins; a column of at most 20 values, or a non-numeric one: a bar per value (most common first for text). */
  readonly histogram: Figure<readonly HistogramBin[]> & { readonly kind: 'bins' | 'bars' | 'none' }
  /** Past the exact limit each count is at most `error` too low. */
  readonly mostCommon: Figure<readonly { readonly value: string; readonly count: number }[]> & { readonly error?: number }
  readonly lengths: { readonly min: number; readonly max: number; readonly mean: number } | null
  /** Integer-valued numeric column. */
  readonly integers: boolean
  /** A regular expression every non-null value matches, when the text values share one shape (codes). */
  readonly pattern: string | null
  readonly looksLike: Looks
}

export interface Profile {
  readonly source: string
  readonly rows: number
  readonly columns: readonly ColumnProfile[]
  readonly profiledAt: string
  readonly durationMs: number
}

const NUMERIC = new Set(['int2', 'int4', 'int8', 'float4', 'float8', 'numeric', 'money', 'oid'])
const TEMPORAL = new Set(['date', 'timestamp', 'timestamptz', 'time', 'timetz'])
const TEXT = new Set(['text', 'varchar', 'bpchar', 'char', 'name', 'citext', 'uuid'])

export function familyOf(type: string): Family {
  if (NUMERIC.has(type)) return type === 'money' ? 'text' : 'numeric'
  if (type === 'bool') return 'boolean'
  if (TEMPORAL.has(type)) return 'temporal'
  if (TEXT.has(type)) return 'text'
  return 'other'
}

const QS = [0.05, 0.25, 0.5, 0.75, 0.95]
const BINS = 20
const SHAPES = 3
const SHAPE_MAX_LENGTH = 64

/** A value's shape: runs of upper-case letters, lower-case letters, digits, and every other character as itself. */
function shapeOf(s: string): { key: string; lengths: number[] } | undefined {
  if (s.length === 0 || s.length > SHAPE_MAX_LENGTH) return undefined
  const classes: string[] = []
  const lengths: number[] = []
  for (const ch of s) {
    const c = ch >= 'A' && ch <= 'Z' ? 'A' : ch >= 'a' && ch <= 'z' ? 'a' : ch >= '0' && ch <= '9' ? '9' : `=${ch}`
    if (classes.length && classes[classes.length - 1] === c && c.length === 1) lengths[lengths.length - 1]!++
    else {
      classes.push(c)
      lengths.push(1)
    }
  }
  return { key: classes.join('\u0000'), lengths }
}

const CLASS_RE: Readonly<Record<string, string>> = { A: '[A-Z]', a: '[a-z]', '9': '[0-9]' }

function escapeRe(ch: string): string {
  return ch.replace(/[\\^$.*+?()[\]{}|/-]/g, (c) => `\\${c}`)
}

function shapeRegex(key: string, min: readonly number[], max: readonly number[]): string {
  return key
    .split('\u0000')
    .map((c, i) => {
      if (c.startsWith('=')) return escapeRe(c.slice(1))
      const n = min[i] === max[i] ? `{${min[i]}}` : `{${min[i]},${max[i]}}`
      return `${CLASS_RE[c]}${n === '{1}' ? '' : n}`
    })
    .join('')
}

class ColumnState {
  readonly column: Column
  readonly family: Family
  rows = 0
  nulls = 0
  readonly counter = new Counter()
  readonly kll = new Kll()
  min: number | string | boolean | null = null
  max: number | string | boolean | null = null
  // Welford's running mean and sum of squared deviations.
  n = 0
  mean = 0
  m2 = 0
  integers = true
  lenMin = Infinity
  lenMax = 0
  lenSum = 0
  lenN = 0
  shapes: Map<string, { min: number[]; max: number[] }> | undefined = new Map()

  constructor(column: Column) {
    this.column = column
    this.family = familyOf(column.type)
  }

  add(v: unknown): void {
    this.rows++
    if (v === null || v === undefined) {
      this.nulls++
      return
    }
    const f = this.family
    if (f === 'numeric') {
      // Counted as sent: a number, or the exact text of an int8/numeric past double precision.
      const x = typeof v === 'number' ? v : Number(v)
      this.counter.add(typeof v === 'number' ? v : String(v))
      if (Number.isNaN(x)) return
      if (this.min === null || x < (this.min as number)) this.min = x
      if (this.max === null || x > (this.max as number)) this.max = x
      if (!Number.isInteger(x)) this.integers = false
      if (Number.isFinite(x)) {
        this.n++
        const d = x - this.mean
        this.mean += d / this.n
        this.m2 += d * (x - this.mean)
      }
      this.kll.add(x)
      return
    }
    const text = typeof v === 'string' ? v : typeof v === 'boolean' ? String(v) : JSON.stringify(v)
    this.counter.add(text)
    if (f === 'boolean') {
      const b = v === true || v === 'true'
      if (this.min === null || (this.min === true && !b)) this.min = b
      if (this.max === null || (this.max === false && b)) this.max = b
      return
    }
    // Text and temporal values compare as text: ISO 8601 dates and times in one format sort in time order.
    if (this.min === null || text < (this.min as string)) this.min = text
    if (this.max === null || text > (this.max as string)) this.max = text
    if (f === 'text') {
      const len = codePointLength(text)
      this.lenN++
      this.lenSum += len
      if (len < this.lenMin) this.lenMin = len
      if (len > this.lenMax) this.lenMax = len
      if (this.shapes) {
        const s = shapeOf(text)
        if (!s) {
          this.shapes = undefined
          return
        }
        const hit = this.shapes.get(s.key)
        if (hit) {
          for (let i = 0; i < s.lengths.length; i++) {
            if (s.lengths[i]! < hit.min[i]!) hit.min[i] = s.lengths[i]!
            if (s.lengths[i]! > hit.max[i]!) hit.max[i] = s.lengths[i]!
          }
        } else if (this.shapes.size < SHAPES) this.shapes.set(s.key, { min: [...s.lengths], max: [...s.lengths] })
        else this.shapes = undefined
      }
    }
  }

  result(totalRows: number): ColumnProfile {
    const exact = this.counter.exact
    const nonNull = this.rows - this.nulls
    const distinct = this.counter.distinct()
    const entries = this.counter.entries()
    const numeric = this.family === 'numeric'
    let quantiles: { q: number; value: number }[] = []
    let histogram: HistogramBin[] = []
    let kind: 'bins' | 'bars' | 'none' = 'none'
    if (numeric && this.kll.n) {
      const sorted = entries?.map(([k, c]) => [typeof k === 'number' ? k : Number(k), c] as [number, number]).filter(([x]) => !Number.isNaN(x)).sort((a, b) => a[0] - b[0])
      const total = sorted?.reduce((s, [, c]) => s + c, 0) ?? 0
      quantiles = QS.map((q) => {
        if (!sorted) return { q, value: this.kll.quantile(q)! }
        // percentile_disc: the first value whose cumulative share reaches q.
        let seen = 0
        for (const [x, c] of sorted) {
          seen += c
          if (seen >= q * total) return { q, value: x }
        }
        return { q, value: sorted[sorted.length - 1]![0] }
      })
      const lo = this.min as number
      const hi = this.max as number
      if (sorted && sorted.length <= BINS) {
        kind = 'bars'
        histogram = sorted.map(([x, c]) => ({ from: x, to: x, count: c }))
      } else if (Number.isFinite(lo) && Number.isFinite(hi)) {
        kind = 'bins'
        const width = (hi - lo) / BINS || 1
        const counts = new Array<number>(BINS).fill(0)
        if (sorted) {
          for (const [x, c] of sorted) if (Number.isFinite(x)) counts[Math.min(BINS - 1, Math.floor((x - lo) / width))]! += c
        } else {
          let before = 0
          for (let i = 0; i < BINS; i++) {
            const edge = i === BINS - 1 ? hi : lo + width * (i + 1)
            const cdf = i === BINS - 1 ? 1 : this.kll.cdf(edge - Number.EPSILON * Math.abs(edge))
            counts[i] = Math.round((cdf - before) * this.kll.n)
            before = cdf
          }
        }
        histogram = counts.map((count, i) => ({ from: lo + width * i, to: i === BINS - 1 ? hi : lo + width * (i + 1), count }))
      }
    } else if (nonNull) {
      kind = 'bars'
      histogram = this.counter.top(10).map(({ key, count }) => ({ from: String(key), to: String(key), count }))
    }
    const mostCommon = this.counter.top(10).map(({ key, count }) => ({ value: String(key), count }))
    let pattern: string | null = null
    if (this.family === 'text' && this.shapes && this.shapes.size) {
      const alts = [...this.shapes].map(([key, s]) => shapeRegex(key, s.min, s.max))
      const hasClass = [...this.shapes.keys()].some((k) => k.split('\u0000').some((c) => !c.startsWith('=')))
      if (hasClass) pattern = alts.length === 1 ? `^${alts[0]}$` : `^(?:${alts.join('|')})$`
    }
    const stdev = this.n > 1 ? Math.sqrt(this.m2 / (this.n - 1)) : null
    return {
      name: this.column.name,
      type: this.column.type,
      family: this.family,
      rows: this.rows,
      nulls: this.nulls,
      distinct: exact ? { value: distinct, exact } : { value: distinct, exact, error: HLL_ERROR },
      min: this.min,
      max: this.max,
      mean: numeric && this.n ? this.mean : null,
      stdev,
      quantiles: exact || !numeric ? { value: quantiles, exact: true } : { value: quantiles, exact: false, rankError: KLL_RANK_ERROR },
      histogram: { value: histogram, exact: exact, kind },
      mostCommon: exact ? { value: mostCommon, exact } : { value: mostCommon, exact, error: this.counter.error() },
      lengths: this.lenN ? { min: this.lenMin, max: this.lenMax, mean: this.lenSum / this.lenN } : null,
      integers: numeric && this.n > 0 && this.integers,
      pattern,
      looksLike: looks(this, distinct, exact, nonNull, totalRows, pattern),
    }
  }
}

function looks(s: ColumnState, distinct: number, exact: boolean, nonNull: number, rows: number, pattern: string | null): Looks {
  if (nonNull === 0) return 'empty'
  if (s.family === 'temporal') return 'timestamp'
  if (s.family === 'boolean') return 'flag'
  const allDistinct = exact ? distinct === nonNull : distinct >= nonNull * (1 - 3 * HLL_ERROR)
  if (s.nulls === 0 && allDistinct && rows > 1 && (s.family === 'text' || (s.family === 'numeric' && s.integers))) return 'key'
  if (distinct <= 2 && s.family === 'numeric') return 'flag'
  if (distinct <= Math.max(20, Math.min(100, rows * 0.05))) return 'category'
  if (s.family === 'numeric') return 'measure'
  if (s.family === 'text') {
    const meanLen = s.lenN ? s.lenSum / s.lenN : 0
    if (pattern && meanLen < 40) return 'code'
    if (meanLen >= 20) return 'free text'
    return 'code'
  }
  return 'other'
}

/** Profile state over batches: `update` each batch, `result` at the end. */
export class Profiler {
  private states: ColumnState[] | undefined
  private rows = 0
  private readonly started = Date.now()
  readonly source: string

  constructor(source: string) {
    this.source = source
  }

  update(batch: Batch): void {
    this.states ??= batch.columns.map((c) => new ColumnState(c))
    const states = this.states
    const rows: Row[] = batch.rows
    this.rows += rows.length
    for (let c = 0; c < states.length; c++) {
      const s = states[c]!
      for (let r = 0; r < rows.length; r++) s.add(rows[r]![c])
    }
  }

  result(): Profile {
    return {
      source: this.source,
      rows: this.rows,
      columns: (this.states ?? []).map((s) => s.result(this.rows)),
      profiledAt: new Date(this.started).toISOString(),
      durationMs: Date.now() - this.started,
    }
  }
}

export interface ProfileStream extends Writable {
  /** Settles when the input ends (or the stream fails). */
  readonly profile: Promise<Profile>
}

/** An object-mode Writable of batches whose `.profile` resolves when its input ends. */
export function profileStream(options: { readonly source?: string } = {}): ProfileStream {
  const profiler = new Profiler(options.source ?? 'stream')
  let settle!: { resolve: (p: Profile) => void; reject: (err: unknown) => void }
  const profile = new Promise<Profile>((resolve, reject) => {
    settle = { resolve, reject }
  })
  profile.catch(() => {})
  const stream = new Writable({
    objectMode: true,
    highWaterMark: 1,
    write(batch: Batch, _enc, cb) {
      profiler.update(batch)
      cb()
    },
    final(cb) {
      settle.resolve(profiler.result())
      cb()
    },
    destroy(err, cb) {
      if (err) settle.reject(err)
      cb(err)
    },
  })
  return Object.assign(stream, { profile })
}
