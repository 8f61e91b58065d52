import t from 'tap'
import { parseCron } from '../../lib/flow/cron.ts'
import { decideTicks, GRACE_MS, tickJobId } from '../../lib/scale/schedules.ts'

const hourly = parseCron('0 0 * * * *', { timezone: 'utc' })
const at = (iso: string) => new Date(iso)

t.test('decideTicks: on time, missed with skip and once, nothing due', async (t) => {
  t.equal(decideTicks(hourly, at('2026-01-01T10:00:00Z'), at('2026-01-01T10:59:59Z'), 'skip'), undefined, 'no tick yet')
  t.same(decideTicks(hourly, at('2026-01-01T10:00:00Z'), at('2026-01-01T11:00:02Z'), 'skip'), { upTo: at('2026-01-01T11:00:00Z'), run: at('2026-01-01T11:00:00Z'), missed: 0 }, 'on time')
  const late = new Date(Date.parse('2026-01-01T11:00:00Z') + GRACE_MS + 1)
  t.same(decideTicks(hourly, at('2026-01-01T10:00:00Z'), late, 'skip'), { upTo: at('2026-01-01T11:00:00Z'), missed: 1 }, 'late: skip runs nothing')
  t.same(decideTicks(hourly, at('2026-01-01T10:00:00Z'), late, 'once'), { upTo: at('2026-01-01T11:00:00Z'), run: at('2026-01-01T11:00:00Z'), missed: 0 }, 'late: once runs it')
  t.same(decideTicks(hourly, at('2026-01-01T06:30:00Z'), at('2026-01-01T10:20:00Z'), 'once'), { upTo: at('2026-01-01T10:00:00Z'), run: at('2026-01-01T10:00:00Z'), missed: 3 }, 'four missed: one run, for the latest')
  t.same(decideTicks(hourly, at('2026-01-01T06:30:00Z'), at('2026-01-01T10:00:01Z'), 'skip'), { upTo: at('2026-01-01T10:00:00Z'), run: at('2026-01-01T10:00:00Z'), missed: 3 }, 'skip: the older ones dropped, the on-time one runs')
  const everySecond = parseCron('* * * * * *', { timezone: 'utc' })
  t.same(decideTicks(everySecond, at('2026-01-01T00:00:00Z'), at('2026-01-01T00:00:03.200Z'), 'skip'), { upTo: at('2026-01-01T00:00:03Z'), run: at('2026-01-01T00:00:03Z'), missed: 2 })
})

t.test('tickJobId: one UUID per schedule and tick', async (t) => {
  const a = tickJobId('nightly', at('2026-01-01T02:00:00Z'))
  t.match(a, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-8[0-9a-f]{3}-[0-9a-f]{12}$/)
  t.equal(tickJobId('nightly', at('2026-01-01T02:00:00Z')), a)
  t.not(tickJobId('nightly', at('2026-01-02T02:00:00Z')), a)
  t.not(tickJobId('hourly', at('2026-01-01T02:00:00Z')), a)
})
