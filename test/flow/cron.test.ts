import t from 'tap'
import { parseCron } from '../../lib/flow/index.ts'

const utc = (expr: string) => parseCron(expr, { timezone: 'utc' })
const after = (expr: string, from: string, n = 1) => {
  const out: string[] = []
  const it = utc(expr).iterate(new Date(from))
  for (let i = 0; i < n; i++) out.push(it.next().value.toISOString())
  return out
}

t.test('next times for five-field expressions', async (t) => {
  t.same(after('*/15 * * * *', '2024-01-01T00:07:30Z', 3), ['2024-01-01T00:15:00.000Z', '2024-01-01T00:30:00.000Z', '2024-01-01T00:45:00.000Z'])
  t.same(after('0 9 * * MON-FRI', '2024-01-06T12:00:00Z', 2), ['2024-01-08T09:00:00.000Z', '2024-01-09T09:00:00.000Z'], 'Saturday -> Monday')
  t.same(after('5/20 * * * *', '2024-01-01T00:00:00Z', 4), ['2024-01-01T00:05:00.000Z', '2024-01-01T00:25:00.000Z', '2024-01-01T00:45:00.000Z', '2024-01-01T01:05:00.000Z'])
  t.same(after('0 0 * * 7', '2024-01-01T00:00:00Z'), ['2024-01-07T00:00:00.000Z'], '7 is Sunday')
  t.same(after('0 12 1,15 jan,Jul *', '2024-01-15T12:00:00Z', 3), ['2024-07-01T12:00:00.000Z', '2024-07-15T12:00:00.000Z', '2025-01-01T12:00:00.000Z'])
  t.same(after('0 0 29 2 *', '2024-03-01T00:00:00Z'), ['2028-02-29T00:00:00.000Z'], 'leap day')
  t.same(after('59 23 31 * *', '2024-02-01T00:00:00Z'), ['2024-03-31T23:59:00.000Z'], 'months without a 31st are skipped')
  t.same(after('0 0-6/3 * * *', '2024-01-01T01:00:00Z', 3), ['2024-01-01T03:00:00.000Z', '2024-01-01T06:00:00.000Z', '2024-01-02T00:00:00.000Z'])
})

t.test('day of month and day of week: either when both are restricted, both otherwise', async (t) => {
  t.same(after('0 0 13 * FRI', '2024-01-01T00:00:00Z', 4), [
    '2024-01-05T00:00:00.000Z', '2024-01-12T00:00:00.000Z', '2024-01-13T00:00:00.000Z', '2024-01-19T00:00:00.000Z',
  ])
  t.same(after('0 0 */2 * SUN', '2024-01-01T00:00:00Z', 2), ['2024-01-07T00:00:00.000Z', '2024-01-21T00:00:00.000Z'], 'odd days that are Sundays')
  t.same(after('0 0 ? * sun', '2024-01-01T00:00:00Z'), ['2024-01-07T00:00:00.000Z'])
})

t.test('six fields: seconds first', async (t) => {
  t.same(after('30 */2 * * * *', '2024-01-01T00:01:00Z', 2), ['2024-01-01T00:02:30.000Z', '2024-01-01T00:04:30.000Z'])
  t.same(after('*/20 * * * * *', '2024-01-01T00:00:59.500Z', 3), ['2024-01-01T00:01:00.000Z', '2024-01-01T00:01:20.000Z', '2024-01-01T00:01:40.000Z'])
  t.same(after('* * * * * *', '2024-01-01T00:00:00Z', 2), ['2024-01-01T00:00:01.000Z', '2024-01-01T00:00:02.000Z'], 'strictly after')
  const c = utc('15 * * * * *')
  t.equal(c.seconds, true)
  t.ok(c.matches(new Date('2024-01-01T10:11:15.900Z')))
  t.notOk(c.matches(new Date('2024-01-01T10:11:16Z')))
})

t.test('macros', async (t) => {
  t.same(after('@yearly', '2024-03-01T00:00:00Z'), ['2025-01-01T00:00:00.000Z'])
  t.same(after('@hourly', '2024-03-01T00:00:00Z'), ['2024-03-01T01:00:00.000Z'])
  t.same(after('@weekly', '2024-01-01T00:00:00Z'), ['2024-01-07T00:00:00.000Z'])
  t.same(after('@MONTHLY', '2024-01-31T00:00:00Z'), ['2024-02-01T00:00:00.000Z'])
  t.equal(utc('@daily').seconds, false)
})

t.test('errors name the field', async (t) => {
  const cases: [string, string][] = [
    ['61 * * * *', 'minute: 61 is out of range 0-59'],
    ['* * * *', 'expected 5 or 6 fields, got 4'],
    ['0 0 30 2 *', 'it never fires'],
    ['*/0 * * * *', 'minute: step must be at least 1'],
    ['5-1 * * * *', 'minute: range 5-1 runs backwards'],
    ['x * * * *', 'minute: "x" is not a number'],
    ['0 0 * FOO *', 'month: "FOO" is not a number or a name'],
    ['0 0 * * 1-2-3', 'day-of-week: "1-2-3" is not a range'],
    ['0 ? * * *', 'hour: "?" is not a number'],
    ['1,,2 * * * *', 'minute: "" is not a value, range or step'],
  ]
  for (const [expr, why] of cases) {
    t.throws(() => parseCron(expr), { code: 'ETL_INVALID_OPTION', message: `Invalid option cron: ${JSON.stringify(expr)}: ${why}` }, expr)
  }
})

t.test('local time across daylight-saving changes (America/New_York)', async (t) => {
  const saved = process.env.TZ
  process.env.TZ = 'America/New_York'
  t.teardown(() => {
    if (saved === undefined) delete process.env.TZ
    else process.env.TZ = saved
  })
  const at = (s: string) => new Date(s)
  // 2024-03-10 02:00 -> 03:00: 02:30 does not exist that day
  t.same(parseCron('30 2 * * *').next(at('2024-03-09T12:00:00-05:00')).toISOString(), at('2024-03-11T02:30:00-04:00').toISOString())
  t.same(parseCron('0 9 * * *').next(at('2024-03-09T12:00:00-05:00')).toISOString(), at('2024-03-10T09:00:00-04:00').toISOString())
  // 2024-11-03 02:00 -> 01:00: 01:30 happens twice, fires once
  const it = parseCron('30 1 * * *').iterate(at('2024-11-02T12:00:00-04:00'))
  t.same([it.next().value, it.next().value, it.next().value].map((d) => d.toISOString()), [
    at('2024-11-03T01:30:00-04:00').toISOString(), at('2024-11-04T01:30:00-05:00').toISOString(), at('2024-11-05T01:30:00-05:00').toISOString(),
  ])
})
