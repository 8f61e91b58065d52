/**
 * Exact statistics: sums, means and standard deviations that do not depend
 * on row order or partitioning, correctly rounded; state through JSON.
 */
import t from 'tap'
import { meanOf, ratToNumber, sqrtRat, stdevOf, sumAdd, sumAddBig, sumAddSquare, sumMerge, sumValue } from '../../lib/expectations/exact.ts'
import { decodeState, encodeState } from '../../lib/expectations/state-json.ts'

const sumOf = (xs: number[]): number[] => {
  const p: number[] = []
  for (const x of xs) sumAdd(p, x)
  return p
}

t.test('sums are exact whatever the order', async (t) => {
  const xs = [1e16, 1, -1e16, 0.1, 0.2, 0.3, 1e-300, -0.6]
  const naive = xs.reduce((a, b) => a + b, 0)
  const forward = sumValue(sumOf(xs))
  t.equal(forward, 1, 'the 1 survives next to 1e16')
  t.not(naive, forward, 'a naive float sum loses it')
  const backward = sumValue(sumOf([...xs].reverse()))
  t.equal(forward, backward)
  t.equal(forward, sumValue(sumMerge(sumOf(xs.slice(0, 3)), sumOf(xs.slice(3)))))
  t.equal(sumValue(sumOf([0.1, 0.2])), 0.30000000000000004, 'the exact sum of the two doubles, rounded once')
})

t.test('mean and stdev are the correctly rounded exact values', async (t) => {
  const xs = [1, 1, 3]
  const sq: number[] = []
  for (const x of xs) sumAddSquare(sq, x)
  t.equal(meanOf(sumOf(xs), 3), 5 / 3)
  t.equal(stdevOf(sumOf(xs), sq, 3), 1.1547005383792515, 'sqrt(4/3) as PostgreSQL numeric gives it')
  t.equal(stdevOf(sumOf([5]), [25], 1), null, 'one value has no sample stdev')
  t.equal(meanOf([], 0), null)
  // large offsets do not swallow the variance
  const big = [1e9 + 1, 1e9 + 2, 1e9 + 3]
  const bsq: number[] = []
  for (const x of big) sumAddSquare(bsq, x)
  t.equal(stdevOf(sumOf(big), bsq, 3), 1)
})

t.test('int8 values beyond 2^53 are summed exactly', async (t) => {
  const p: number[] = []
  sumAddBig(p, 9007199254740993n)
  sumAddBig(p, -9007199254740992n)
  t.equal(sumValue(p), 1)
})

t.test('ratToNumber and sqrtRat round correctly', async (t) => {
  t.equal(ratToNumber(1n, 3n), 1 / 3)
  t.equal(ratToNumber(-2n, 3n), -2 / 3)
  t.equal(ratToNumber(10n ** 400n, 10n ** 399n), 10)
  t.equal(sqrtRat(2n, 1n), Math.SQRT2)
  t.equal(sqrtRat(1n, 4n), 0.5)
})

t.test('state JSON keeps Maps, NaN, infinities, -0 and $-keys', async (t) => {
  const state = { m: new Map<unknown, unknown>([[1, 2], ['a', [NaN]]]), x: -0, y: Infinity, z: -Infinity, w: { $PARAMETER: 'p' }, n: null }
  const back = decodeState(JSON.parse(JSON.stringify(encodeState(state)))) as typeof state
  t.same([...back.m], [[1, 2], ['a', [NaN]]])
  t.ok(Object.is(back.x, -0))
  t.equal(back.y, Infinity)
  t.equal(back.z, -Infinity)
  t.same(back.w, { $PARAMETER: 'p' })
  t.equal(back.n, null)
})
