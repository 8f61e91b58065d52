/**
 * Bounded-memory summaries for `etl profile`, each exact while it is small:
 *
 * - `Counter`: value -> occurrences, exact up to `limit` distinct values; past
 *   that Misra-Gries counters (1,000: each count at most rows/1,001 too low)
 *   and a HyperLogLog for the distinct count (2^14 registers: standard error
 *   1.04/sqrt(16384) = 0.81%).
 * - `Kll`: a KLL quantile sketch (Karnin, Lang, Liberty 2016) with k = 200:
 *   the rank of any answer is within about 1.7% of the asked rank (99%
 *   confidence, as Apache DataSketches states for k = 200). While the column
 *   has at most `Counter`'s limit of distinct values, quantiles come from the
 *   exact counts instead.
 *
 * Everything here is deterministic for a given input (the KLL's coin is a
 * seeded generator), so a profile of the same table gives the same figures.
 */

/** A 53-bit hash of a string (two 32-bit FNV-1a style lanes mixed with Math.imul). */
export function hash53(text: string): number {
  let h1 = 0xdeadbeef ^ text.length
  let h2 = 0x41c6ce57 ^ text.length
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    h1 = Math.imul(h1 ^ c, 2654435761)
    h2 = Math.imul(h2 ^ c, 1597334677)
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909)
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909)
  return 4294967296 * (2097151 & h2) + (h1 >>> 0)
}

const HLL_P = 14
const HLL_M = 1 << HLL_P

/** HyperLogLog over 53-bit hashes (p = 14). */
export class HyperLogLog {
  readonly registers = new Uint8Array(HLL_M)

  add(h: number): void {
    const idx = h % HLL_M
    let w = Math.floor(h / HLL_M) // 39 bits left
    let rank = 1
    while (rank <= 39 && (w & 1) === 0) {
      rank++
      w = Math.floor(w / 2)
    }
    if (rank > this.registers[idx]!) this.registers[idx] = rank
  }

  estimate(): number {
    let sum = 0
    let zeros = 0
    for (let i = 0; i < HLL_M; i++) {
      const r = this.registers[i]!
      sum += 2 ** -r
      if (r === 0) zeros++
    }
    const alpha = 0.7213 / (1 + 1.079 / HLL_M)
    const raw = (alpha * HLL_M * HLL_M) / sum
    // Small range: linear counting is the better estimate while registers are still empty.
    if (raw <= 2.5 * HLL_M && zeros > 0) return Math.round(HLL_M * Math.log(HLL_M / zeros))
    return Math.round(raw)
  }
}

/** HyperLogLog's relative standard error at p = 14. */
export const HLL_ERROR = 1.04 / Math.sqrt(HLL_M)

export interface CounterOptions {
  /** Distinct values counted exactly. Default 10,000. */
  readonly limit?: number
  /** Counters kept once the limit is passed (Misra-Gries). Default 1,000. */
  readonly counters?: number
}

const f64 = new Float64Array(1)
const u32 = new Uint32Array(f64.buffer)

/** A 53-bit hash of a number's bits (0 and -0 alike, as the exact counts keep them). */
export function hashNumber(x: number): number {
  f64[0] = x === 0 ? 0 : x
  let a = u32[0]!
  let b = u32[1]!
  a = Math.imul(a ^ (a >>> 16), 0x85ebca6b) ^ Math.imul(b, 0x27d4eb2f)
  b = Math.imul(b ^ (b >>> 13), 0xc2b2ae35) ^ Math.imul(a ^ (a >>> 15), 0x165667b1)
  a = Math.imul(a ^ (a >>> 13), 0x85ebca6b)
  b = Math.imul(b ^ (b >>> 16), 0xc2b2ae35)
  return 4294967296 * (2097151 & (b ^ (a >>> 11))) + ((a ^ (b >>> 7)) >>> 0)
}

const hashOf = (key: string | number): number => (typeof key === 'number' ? hashNumber(key) : hash53(key))

/**
 * Occurrences of values: exact while there are at most `limit` distinct ones, then Misra-Gries counters (each count
 * at most `error()` too low, and `error()` <= rows / (counters + 1)) plus a HyperLogLog for the distinct count.
 * Numbers and strings are counted as themselves (a Map's SameValueZero: 0 and -0 are one value, so is NaN, as in
 * PostgreSQL's count(DISTINCT)).
 */
export class Counter {
  readonly limit: number
  readonly counters: number
  private counts = new Map<string | number, number>()
  private hll: HyperLogLog | undefined
  /** Misra-Gries decrement rounds so far: every kept count is at most this much too low. */
  private decrements = 0
  total = 0

  constructor(options: CounterOptions = {}) {
    this.limit = options.limit ?? 10_000
    this.counters = options.counters ?? 1_000
  }

  /** True while every distinct value is counted exactly. */
  get exact(): boolean {
    return this.hll === undefined
  }

  add(key: string | number): void {
    this.total++
    const counts = this.counts
    const hit = counts.get(key)
    if (this.hll === undefined) {
      if (hit !== undefined) counts.set(key, hit + 1)
      else if (counts.size < this.limit) counts.set(key, 1)
      else {
        this.spill()
        this.add(key)
        this.total--
      }
      return
    }
    this.hll.add(hashOf(key))
    if (hit !== undefined) counts.set(key, hit + 1)
    else if (counts.size < this.counters) counts.set(key, 1)
    else {
      // Misra-Gries: a new value with every counter taken lowers them all by one (the new one's own occurrence is
      // spent with them); a round costs O(counters) and comes at most once per `counters` values: O(1) amortised.
      this.decrements++
      for (const [k, c] of counts) {
        if (c === 1) counts.delete(k)
        else counts.set(k, c - 1)
      }
    }
  }

  /** Leaves exact counting: the HyperLogLog takes every value seen, the counters the heaviest ones. */
  private spill(): void {
    this.hll = new HyperLogLog()
    for (const k of this.counts.keys()) this.hll.add(hashOf(k))
    const heavy = [...this.counts].sort((a, b) => b[1] - a[1])
    // What is dropped had at most the (counters+1)-th largest count, itself at most rows / (counters + 1).
    this.decrements = heavy[this.counters]?.[1] ?? 0
    this.counts = new Map(heavy.slice(0, this.counters))
  }

  /** How much too low a kept count may be (0 while exact). */
  error(): number {
    return this.decrements
  }

  /** Distinct values: exact, or HyperLogLog's estimate. */
  distinct(): number {
    return this.hll ? this.hll.estimate() : this.counts.size
  }

  /** The `n` most common values with their counts (lower bounds past the limit: see error()). */
  top(n: number): { key: string | number; count: number }[] {
    return [...this.counts]
      .sort((a, b) => b[1] - a[1] || (String(a[0]) < String(b[0]) ? -1 : String(a[0]) > String(b[0]) ? 1 : 0))
      .slice(0, n)
      .map(([key, count]) => ({ key, count }))
  }

  /** Every value and its count, while exact. */
  entries(): [string | number, number][] | undefined {
    return this.hll ? undefined : [...this.counts]
  }
}

/** A small seeded generator (mulberry32): the KLL's coin flips, repeatable. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** KLL's rank error for k = 200 at 99% confidence (Apache DataSketches' table). */
export const KLL_RANK_ERROR = 0.0165

/**
 * A KLL quantile sketch over numbers, compacted lazily (as Apache DataSketches does): items pile up in level 0 until
 * the sketch holds as many as all levels' capacities together, then the lowest level over its capacity is sorted and
 * every other item (from a random offset) moves one level up, with twice the weight.
 */
export class Kll {
  readonly k: number
  private levels: number[][] = [[]]
  private capacities: number[] = []
  private size = 0
  private maxSize = 0
  private readonly coin: () => number
  n = 0

  constructor(k = 200, seed = 1) {
    this.k = k
    this.coin = mulberry32(seed)
    this.sizeUp()
  }

  /** Capacities for the current number of levels: k at the top, 2/3 of the level above below it, at least 2. */
  private sizeUp(): void {
    const depth = this.levels.length
    this.capacities = Array.from({ length: depth }, (_, h) => Math.max(2, Math.ceil(this.k * (2 / 3) ** (depth - h - 1))))
    this.maxSize = this.capacities.reduce((a, b) => a + b, 0)
  }

  add(x: number): void {
    if (Number.isNaN(x)) return
    this.n++
    this.levels[0]!.push(x)
    if (++this.size >= this.maxSize) this.compress()
  }

  private compress(): void {
    for (let h = 0; h < this.levels.length; h++) {
      const level = this.levels[h]!
      if (level.length < this.capacities[h]!) continue
      if (h + 1 === this.levels.length) {
        this.levels.push([])
        this.sizeUp()
      }
      const sorted = Float64Array.from(level).sort() // a typed array sorts numerically, without a comparator
      const odd = sorted.length % 2
      const keep = odd ? [sorted[0]!] : []
      const offset = odd + (this.coin() < 0.5 ? 0 : 1)
      const up = this.levels[h + 1]!
      for (let i = offset; i < sorted.length; i += 2) up.push(sorted[i]!)
      this.size -= (sorted.length - odd) / 2
      this.levels[h] = keep
      return
    }
  }

  /** The value at rank `q` (0..1), or undefined for an empty sketch. */
  quantile(q: number): number | undefined {
    const items: [number, number][] = []
    this.levels.forEach((level, h) => {
      for (const x of level) items.push([x, 2 ** h])
    })
    if (!items.length) return undefined
    items.sort((a, b) => a[0] - b[0])
    const total = items.reduce((s, [, w]) => s + w, 0)
    const target = q * total
    let seen = 0
    for (const [x, w] of items) {
      seen += w
      if (seen >= target) return x
    }
    return items[items.length - 1]![0]
  }

  /** The fraction of values <= x. */
  cdf(x: number): number {
    let below = 0
    let total = 0
    this.levels.forEach((level, h) => {
      const w = 2 ** h
      for (const v of level) {
        total += w
        if (v <= x) below += w
      }
    })
    return total ? below / total : 0
  }
}
