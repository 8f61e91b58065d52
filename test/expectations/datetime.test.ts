/**
 * Dates as people write them (dateutil-like), Python's strptime rules, and
 * evaluation parameters.
 */
import t from 'tap'
import { parseDateTime, strptimeMatcher } from '../../lib/expectations/datetime.ts'
import { resolveParameters } from '../../lib/expectations/params.ts'

const us = (iso: string): number => Date.parse(iso) * 1000

t.test('parseDateTime: ISO, numeric dates, month names, times, zones', async (t) => {
  t.equal(parseDateTime('2001-01-01T12:00:01'), us('2001-01-01T12:00:01Z'))
  t.equal(parseDateTime('2001-01-01 12:00:01.5'), us('2001-01-01T12:00:01.500Z'))
  t.equal(parseDateTime('2016-01-01T12:34:56+02:00'), us('2016-01-01T10:34:56Z'))
  t.equal(parseDateTime('Jan 01 1970 12:00:01'), us('1970-01-01T12:00:01Z'))
  t.equal(parseDateTime('1/31/2016'), us('2016-01-31T00:00:00Z'), 'month first')
  t.equal(parseDateTime('31/1/2016'), us('2016-01-31T00:00:00Z'), 'day first when it cannot be a month')
  t.equal(parseDateTime('2016/01/31'), us('2016-01-31T00:00:00Z'))
  t.equal(parseDateTime('20160131'), us('2016-01-31T00:00:00Z'))
  t.equal(parseDateTime('Sunday, 1 January 2017 3:04 PM'), us('2017-01-01T15:04:00Z'))
  for (const bad of ['abc', 'cat', 'horse', '', '2019-02-30', '13/13/2013', '12:61'])
    t.equal(parseDateTime(bad), undefined, `${JSON.stringify(bad)} is not a date`)
})

t.test('strptimeMatcher follows Python strptime', async (t) => {
  const ymd = strptimeMatcher('%Y-%m-%d')
  t.ok(ymd('2019-04-01'))
  t.ok(ymd('2019-4-1'), 'one-digit month and day are accepted, as Python does')
  t.notOk(ymd('2019-04-31'), 'no 31 April')
  t.notOk(ymd('2019-04-01 '), 'unconverted data remains')
  t.notOk(strptimeMatcher('%Y-%d-%m')('2019-04-13'))
  t.ok(strptimeMatcher('%d %B %Y, %H:%M')('05 march 2020, 17:30'))
  t.ok(strptimeMatcher('%c')('Tue Mar 03 17:30:00 2020'))
  t.throws(() => strptimeMatcher('%D'), { code: 'ETL_EXPECTATION', message: /Unable to use provided strftime_format\. 'D' is a bad directive/ })
  t.throws(() => strptimeMatcher('%Y%'), { code: 'ETL_EXPECTATION', message: /stray %/ })
})

t.test('evaluation parameters: names, arithmetic, now() and timedelta', async (t) => {
  const ctx = { parameters: { lo: 5, day: '2020-01-02' }, now: () => new Date('2024-06-01T00:00:00Z') }
  t.same(resolveParameters({ a: { $PARAMETER: 'lo' }, b: { $PARAMETER: 'lo * 2 + 1' }, c: 3 }, ctx), { a: 5, b: 11, c: 3 })
  const tz = process.env['TZ']
  try {
    process.env['TZ'] = 'UTC'
    t.same(resolveParameters({ d: { $PARAMETER: 'now() - timedelta(weeks=1, days=1)' } }, ctx), { d: '2024-05-24T00:00:00' })
    // Python's datetime.now() is the local time, without zone
    process.env['TZ'] = 'Europe/Oslo'
    t.same(resolveParameters({ d: { $PARAMETER: 'now()' } }, ctx), { d: '2024-06-01T02:00:00' })
  } finally {
    if (tz === undefined) delete process.env['TZ']
    else process.env['TZ'] = tz
  }
  t.same(resolveParameters({ d: { $PARAMETER: "day + timedelta(hours=12, microseconds=5)" } }, ctx), { d: '2020-01-02T12:00:00.000005' })
  t.throws(() => resolveParameters({ x: { $PARAMETER: 'nope + 1' } }, ctx), { code: 'ETL_EXPECTATION', message: /x: cannot evaluate \$PARAMETER "nope \+ 1": unknown name nope/ })
})

t.test("suite parameters: GE's operators, constants and functions; a value stored beside the expression", async (t) => {
  const ctx = { parameters: { lo: 5, cols: ['a', 'b'] }, now: () => new Date('2024-06-01T00:00:00Z') }
  const v = (expr: string): unknown => resolveParameters({ x: { $PARAMETER: expr } }, ctx)['x']
  t.equal(v('2^3^2'), 512, '^ is right to left')
  t.equal(v('-lo + +2'), -3)
  t.equal(v('trunc(lo / 2)'), 2)
  t.equal(v('round(2.5)'), 2, 'an exact tie goes to even')
  t.equal(v('round(3.5)'), 4)
  t.equal(v('round(0.125, 2)'), 0.12)
  t.equal(v('abs(-lo) * sgn(-3)'), -5)
  t.equal(v('PI'), Math.PI)
  t.equal(v('e'), Math.E)
  t.equal(v('exp(0) + cos(0) + sin(0) + tan(0)'), 2)
  t.equal(v('.5 * 4'), 2)
  t.same(v('cols'), ['a', 'b'], 'a parameter by itself keeps its type')
  t.same(resolveParameters({ x: { $PARAMETER: 'upstream', '$PARAMETER.upstream': 7 } }, ctx), { x: 7 })
  t.throws(() => v('lo ^ cols'), { code: 'ETL_EXPECTATION' })
})
