/**
 * Exact sums of doubles, so that a sum, a mean or a standard deviation does
 * not depend on the order the rows came in nor on how the table was split into
 * partitions: every partial sum is held exactly (as Python's `math.fsum`
 * does: a short list of non-overlapping doubles), and the statistic is
 * rounded once, at the end, from the exact value (BigInt rationals).
 *
 * - `sumAdd(p, x)`: p += x exactly (p is a plain number[], JSON-safe while finite).
 * - `sumAddSquare(p, x)`: p += x*x exactly (Dekker's split; exact for |x| < 2^995).
 * - `sumMerge(a, b)`: a new exact sum of both.
 * - `sumValue`, `meanOf`, `stdevOf`: correctly rounded results.
 *
 * Non-finite inputs (NaN, +-Infinity) are not added to the partials; the
 * caller counts them and decides (see aggregate.ts).
 */

const SPLITTER = 134217729 // 2^27 + 1

/** p += x, exactly. p stays sorted by magnitude, non-overlapping. */
export function sumAdd(p: number[], x: number): void {
  let i = 0
  for (let j = 0; j < p.length; j++) {
    let y = p[j]!
    if (Math.abs(x) < Math.abs(y)) {
      const t = x
      x = y
      y = t
    }
    const hi = x + y
    const lo = y - (hi - x)
    if (lo !== 0) p[i++] = lo
    x = hi
  }
  p.length = i
  p.push(x)
}

/** p += x*x, exactly (the product is split into two doubles first). */
export function sumAddSquare(p: number[], x: number): void {
  const sq = x * x
  const t = SPLITTER * x
  const hi = t - (t - x)
  const lo = x - hi
  const err = hi * hi - sq + 2 * hi * lo + lo * lo
  sumAdd(p, sq)
  if (err !== 0 && Number.isFinite(err)) sumAdd(p, err)
}

/** p += an integer given as a BigInt (int8 values beyond 2^53), exactly. */
export function sumAddBig(p: number[], b: bigint): void {
  let rest = b
  for (let k = 0; k < 40 && rest !== 0n; k++) {
    const part = Number(rest)
    sumAdd(p, part)
    rest -= BigInt(part)
  }
}

/** A new exact sum holding a + b (inputs untouched). */
export function sumMerge(a: readonly number[], b: readonly number[]): number[] {
  const out = a.slice()
  for (const x of b) sumAdd(out, x)
  return out
}

const view = new DataView(new ArrayBuffer(8))

/** A finite double as an exact integer multiple of 2^-1074. */
function scaled(x: number): bigint {
  view.setFloat64(0, x)
  const hi = view.getUint32(0)
  const lo = view.getUint32(4)
  const sign = hi >>> 31 ? -1n : 1n
  const exp = (hi >>> 20) & 0x7ff
  let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo)
  if (exp === 0) return sign * mant // subnormal: mant * 2^-1074
  mant |= 1n << 52n
  return sign * (mant << BigInt(exp - 1))
}

/** The exact value of an exact sum, as a BigInt numerator over 2^1074. */
export function sumExact(p: readonly number[]): bigint {
  let total = 0n
  for (const x of p) total += scaled(x)
  return total
}

const DEN_1074 = 1n << 1074n

function bitLength(b: bigint): number {
  return b === 0n ? 0 : b.toString(2).length - (b < 0n ? 1 : 0)
}

/** x * 2^e without losing precision in the intermediate steps. */
function scale2(x: number, e: number): number {
  while (e > 1000) {
    x *= 2 ** 1000
    e -= 1000
  }
  while (e < -1000) {
    x *= 2 ** -1000
    e += 1000
  }
  return x * 2 ** e
}

/** num / den, correctly rounded to the nearest double (den > 0). */
export function ratToNumber(num: bigint, den: bigint): number {
  if (num === 0n) return 0
  const neg = num < 0n
  if (neg) num = -num
  const shift = bitLength(den) - bitLength(num) + 66
  let q: bigint
  let r: bigint
  if (shift >= 0) {
    const n = num << BigInt(shift)
    q = n / den
    r = n % den
  } else {
    const d = den << BigInt(-shift)
    q = num / d
    r = num % d
  }
  if (r !== 0n) q |= 1n // sticky bit: the rounding below then never sees a false tie
  const v = scale2(Number(q), -shift)
  return neg ? -v : v
}

function isqrt(n: bigint): bigint {
  if (n < 2n) return n
  let x = 1n << BigInt(Math.ceil(bitLength(n) / 2))
  for (;;) {
    const y = (x + n / x) >> 1n
    if (y >= x) return x
    x = y
  }
}

/** sqrt(num / den), correctly rounded (num >= 0, den > 0). */
export function sqrtRat(num: bigint, den: bigint): number {
  if (num === 0n) return 0
  const k = Math.ceil((140 - (bitLength(num) - bitLength(den))) / 2)
  let scaledNum: bigint
  let exact: boolean
  if (k >= 0) {
    const n = num << BigInt(2 * k)
    scaledNum = n / den
    exact = n % den === 0n
  } else {
    const d = den << BigInt(-2 * k)
    scaledNum = num / d
    exact = num % d === 0n
  }
  let s = isqrt(scaledNum)
  if (!exact || s * s !== scaledNum) s |= 1n
  return scale2(Number(s), -k)
}

/** The value of an exact sum, correctly rounded. */
export function sumValue(p: readonly number[]): number {
  if (p.length <= 1) return p[0] ?? 0
  return ratToNumber(sumExact(p), DEN_1074)
}

/** sum / n, correctly rounded (null when n is 0). */
export function meanOf(sum: readonly number[], n: number): number | null {
  if (n === 0) return null
  return ratToNumber(sumExact(sum), DEN_1074 * BigInt(n))
}

/**
 * The sample standard deviation (ddof 1) from exact sums of x and x^2,
 * correctly rounded: sqrt((n*Sxx - Sx^2) / (n*(n-1))). Null when n < 2.
 */
export function stdevOf(sum: readonly number[], sumSq: readonly number[], n: number): number | null {
  if (n < 2) return null
  const sx = sumExact(sum) // Sx * 2^1074
  const sxx = sumExact(sumSq) // Sxx * 2^1074
  const N = BigInt(n)
  // (n*Sxx - Sx^2) = (N*sxx*2^1074 - sx^2) / 2^2148
  let num = N * sxx * DEN_1074 - sx * sx
  if (num < 0n) num = 0n
  return sqrtRat(num, DEN_1074 * DEN_1074 * N * (N - 1n))
}
