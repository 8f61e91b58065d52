/**
 * Cron expressions: parse once, then ask for the next time after a date.
 *
 * Five fields (`minute hour day-of-month month day-of-week`) or six with
 * seconds first (`second minute hour day-of-month month day-of-week`). Each
 * field is a comma list of `*`, `N`, `A-B`, any of them with `/STEP` (`N/STEP`
 * runs from N to the field's end); months `JAN`-`DEC` and days `SUN`-`SAT` by
 * name (any case); day-of-week 0-7 (0 and 7 are Sunday); `?` is `*` in the
 * day fields. Macros: `@yearly` (`@annually`), `@monthly`, `@weekly`,
 * `@daily` (`@midnight`), `@hourly`.
 *
 * As in Vixie cron, when both day fields are restricted (neither starts with
 * `*` or `?`) a day matches if either matches; otherwise both must. Times are
 * local unless `timezone` is `'utc'` or an IANA zone (`'Europe/Oslo'`, read
 * through Intl). Across daylight-saving changes a time that does not exist
 * that day is skipped, and a repeated time fires once.
 */
import { EtlError } from '../errors.ts'

export interface CronOptions {
  /** Evaluate in local time (default), in UTC, or in an IANA time zone such as `'America/New_York'`. */
  readonly timezone?: string
}

export interface Cron {
  readonly source: string
  readonly timezone: string
  /** Whether the expression has a seconds field. */
  readonly seconds: boolean
  /** The first matching time strictly after `after` (whole seconds). */
  next(after: Date): Date
  /** Whether `date` (to the second) matches. */
  matches(date: Date): boolean
  /** Matching times after `after`, in order, forever. */
  iterate(after: Date): Generator<Date, never>
}

interface Field {
  readonly name: string
  readonly min: number
  readonly max: number
  readonly names?: readonly string[]
}

const fields: readonly Field[] = [
  { name: 'second', min: 0, max: 59 },
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day-of-month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'] },
  { name: 'day-of-week', min: 0, max: 7, names: ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'] },
]

const macros: Readonly<Record<string, string>> = {
  '@yearly': '0 0 1 1 *', '@annually': '0 0 1 1 *', '@monthly': '0 0 1 * *', '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *', '@midnight': '0 0 * * *', '@hourly': '0 * * * *',
}

function fail(source: string, message: string): EtlError {
  return new EtlError('ETL_INVALID_OPTION', `Invalid option cron: ${JSON.stringify(source)}: ${message}`, { details: { option: 'cron' } })
}

function parseValue(source: string, field: Field, text: string): number {
  const upper = text.toUpperCase()
  const byName = field.names?.indexOf(upper) ?? -1
  if (byName >= 0) return byName + (field.name === 'month' ? 1 : 0)
  if (!/^\d+$/.test(text)) throw fail(source, `${field.name}: ${JSON.stringify(text)} is not a number${field.names ? ' or a name' : ''}`)
  const n = Number(text)
  if (n < field.min || n > field.max) throw fail(source, `${field.name}: ${n} is out of range ${field.min}-${field.max}`)
  return n
}

function parseField(source: string, field: Field, text: string): Set<number> {
  const out = new Set<number>()
  for (const item of text.split(',')) {
    const m = /^([^/]+)(?:\/(\d+))?$/.exec(item)
    if (!m || m[1] === undefined) throw fail(source, `${field.name}: ${JSON.stringify(item)} is not a value, range or step`)
    const step = m[2] === undefined ? 1 : Number(m[2])
    if (step < 1) throw fail(source, `${field.name}: step must be at least 1`)
    let lo: number
    let hi: number
    if (m[1] === '*' || (m[1] === '?' && field.name.startsWith('day'))) {
      lo = field.min
      hi = field.name === 'day-of-week' ? 6 : field.max
    } else if (m[1].includes('-')) {
      const [a, b, extra] = m[1].split('-')
      if (a === undefined || b === undefined || extra !== undefined) throw fail(source, `${field.name}: ${JSON.stringify(item)} is not a range`)
      lo = parseValue(source, field, a)
      hi = parseValue(source, field, b)
      if (lo > hi) throw fail(source, `${field.name}: range ${m[1]} runs backwards`)
    } else {
      lo = parseValue(source, field, m[1])
      hi = m[2] === undefined ? lo : field.max
    }
    for (let v = lo; v <= hi; v += step) out.add(field.name === 'day-of-week' && v === 7 ? 0 : v)
  }
  return out
}

type Clock = ReturnType<typeof clock>

/** Whether `tz` is a time zone Intl knows (an IANA name such as `Europe/Oslo`, or `UTC`). */
export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz })
    return true
  } catch {
    return false
  }
}

/** Accessors for the wall clock of an IANA zone: parts through Intl, and wall times back to instants by the zone's offset. */
function zonedClock(timeZone: string): Clock {
  const fmt = new Intl.DateTimeFormat('en-US', {
    timeZone, hourCycle: 'h23', weekday: 'short', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric',
  })
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat']
  const wall = (d: Date) => {
    const p: Record<string, string> = {}
    for (const part of fmt.formatToParts(d)) p[part.type] = part.value
    return { y: Number(p.year), mo: Number(p.month), d: Number(p.day), h: Number(p.hour), mi: Number(p.minute), s: Number(p.second), dow: days.indexOf(p.weekday ?? '') }
  }
  const offset = (t: number) => {
    const w = wall(new Date(t))
    return Date.UTC(w.y, w.mo - 1, w.d, w.h, w.mi, w.s) - Math.floor(t / 1000) * 1000
  }
  // A wall time to the instant showing it (twice, so an offset that changes between the guess and the answer settles).
  const at = (y: number, mo: number, d: number, h = 0, mi = 0, s = 0) => {
    const w = Date.UTC(y, mo - 1, d, h, mi, s)
    const first = w - offset(w)
    return new Date(w - offset(first))
  }
  return {
    get: (d: Date) => {
      const w = wall(d)
      return [w.s, w.mi, w.h, w.d, w.mo, w.dow] as const
    },
    nextMonth: (d: Date) => { const w = wall(d); return at(w.y, w.mo + 1, 1) },
    nextDay: (d: Date) => { const w = wall(d); return at(w.y, w.mo, w.d + 1) },
    setHour: (d: Date, h: number) => { const w = wall(d); return at(w.y, w.mo, w.d, h) },
    setMinute: (d: Date, m: number) => { const w = wall(d); return at(w.y, w.mo, w.d, w.h, m) },
    setSecond: (d: Date, sec: number) => { const w = wall(d); return at(w.y, w.mo, w.d, w.h, w.mi, sec) },
    year: (d: Date) => wall(d).y,
  }
}

/** Accessors for local time or UTC. */
function clock(utc: boolean) {
  return utc
    ? {
        get: (d: Date) => [d.getUTCSeconds(), d.getUTCMinutes(), d.getUTCHours(), d.getUTCDate(), d.getUTCMonth() + 1, d.getUTCDay()] as const,
        nextMonth: (d: Date) => new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1)),
        nextDay: (d: Date) => new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1)),
        setHour: (d: Date, h: number) => new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), h)),
        setMinute: (d: Date, m: number) => new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), d.getUTCHours(), m)),
        setSecond: (d: Date, s: number) => new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), s)),
        year: (d: Date) => d.getUTCFullYear(),
      }
    : {
        get: (d: Date) => [d.getSeconds(), d.getMinutes(), d.getHours(), d.getDate(), d.getMonth() + 1, d.getDay()] as const,
        nextMonth: (d: Date) => new Date(d.getFullYear(), d.getMonth() + 1, 1),
        nextDay: (d: Date) => new Date(d.getFullYear(), d.getMonth(), d.getDate() + 1),
        setHour: (d: Date, h: number) => new Date(d.getFullYear(), d.getMonth(), d.getDate(), h),
        setMinute: (d: Date, m: number) => new Date(d.getFullYear(), d.getMonth(), d.getDate(), d.getHours(), m),
        setSecond: (d: Date, s: number) => new Date(d.getFullYear(), d.getMonth(), d.getDate(), d.getHours(), d.getMinutes(), s),
        year: (d: Date) => d.getFullYear(),
      }
}

/** The smallest value in `set` at least `from`, or undefined. */
function atLeast(sorted: readonly number[], from: number): number | undefined {
  return sorted.find((v) => v >= from)
}

/** Parses an expression. Throws ETL_INVALID_OPTION naming the field at fault, or when the expression never fires. */
export function parseCron(expression: string, options: CronOptions = {}): Cron {
  const timezone = options.timezone ?? 'local'
  if (typeof timezone !== 'string' || (timezone !== 'local' && timezone !== 'utc' && !isTimeZone(timezone))) {
    throw fail(String(expression), `timezone must be 'local', 'utc' or an IANA time zone such as Europe/Oslo, got ${JSON.stringify(timezone)}`)
  }
  if (typeof expression !== 'string') throw fail(String(expression), 'expected a string')
  const source = expression.trim()
  const expanded = macros[source.toLowerCase()] ?? source
  const parts = expanded.split(/\s+/).filter(Boolean)
  if (parts.length !== 5 && parts.length !== 6) throw fail(source, `expected 5 or 6 fields, got ${parts.length}`)
  const hasSeconds = parts.length === 6
  const texts = hasSeconds ? parts : ['0', ...parts]
  const sets = fields.map((f, i) => parseField(source, f, texts[i] as string))
  const sorted = sets.map((s) => [...s].sort((a, b) => a - b))
  const [secs, mins, hours, doms, months, dows] = sets as [Set<number>, Set<number>, Set<number>, Set<number>, Set<number>, Set<number>]
  const domStar = /^[*?]/.test(texts[3] as string)
  const dowStar = /^[*?]/.test(texts[5] as string)
  const c = timezone === 'local' || timezone === 'utc' ? clock(timezone === 'utc') : zonedClock(timezone)
  // Vixie cron: a day field starting with * or ? makes both required (a bare * holds every day anyway).
  const dayOk = (dom: number, dow: number) => (domStar || dowStar ? doms.has(dom) && dows.has(dow) : doms.has(dom) || dows.has(dow))

  const matches = (date: Date) => {
    const [s, mi, h, dom, mo, dow] = c.get(date)
    return secs.has(s) && mins.has(mi) && hours.has(h) && months.has(mo) && dayOk(dom, dow)
  }

  const next = (after: Date): Date => {
    let t = new Date(Math.floor(after.getTime() / 1000) * 1000 + 1000)
    const lastYear = c.year(t) + 8
    const advance = (candidate: Date) => {
      // A daylight-saving jump can make a "later" local time not later: never go back.
      t = candidate.getTime() > t.getTime() ? candidate : new Date(t.getTime() + 1000)
    }
    while (c.year(t) <= lastYear) {
      const [s, mi, h, dom, mo, dow] = c.get(t)
      if (!months.has(mo)) advance(c.nextMonth(t))
      else if (!dayOk(dom, dow)) advance(c.nextDay(t))
      else if (!hours.has(h)) {
        const nh = atLeast(sorted[2] as number[], h + 1)
        advance(nh === undefined ? c.nextDay(t) : c.setHour(t, nh))
      } else if (!mins.has(mi)) {
        const nm = atLeast(sorted[1] as number[], mi + 1)
        advance(nm === undefined ? c.setHour(t, h + 1) : c.setMinute(t, nm))
      } else if (!secs.has(s)) {
        const ns = atLeast(sorted[0] as number[], s + 1)
        advance(ns === undefined ? c.setMinute(t, mi + 1) : c.setSecond(t, ns))
      } else return t
    }
    throw fail(source, 'it never fires')
  }

  next(new Date()) // an expression that never fires (e.g. 30 February) is refused now, not at run time
  return Object.freeze({
    source,
    timezone,
    seconds: hasSeconds,
    next,
    matches,
    *iterate(after: Date): Generator<Date, never> {
      let t = after
      for (;;) yield (t = next(t))
    },
  })
}
