/**
 * Dates written by people: a parser in the manner of Python's
 * `dateutil.parser.parse` (used by expect_column_values_to_be_dateutil_parseable
 * and for datetime bounds), and Python's `strptime` rules for
 * expect_column_values_to_match_strftime_format.
 *
 * parseDateTime accepts ISO 8601 (`2001-01-01T12:00:01`, `...Z`, `+02:00`),
 * numeric dates (`1/31/2016`, `31.01.2016`, `2016/01/31`, `20160131`; month
 * first unless the first number cannot be a month, as dateutil), month names
 * (`Jan 01 1970 12:00:01`, `1 January 2020`), weekday names, times with
 * AM/PM, and zone `Z`/`UTC`/`GMT`/`+hh:mm`. Missing date parts default to
 * today (as dateutil), a two-digit year to the century within 50 years of now.
 * It returns microseconds since 1970 (a time without zone taken as UTC).
 */
import { expectationError } from './kwargs.ts'

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec']
const MONTH_NAMES = ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december']
const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']
const DAY_NAMES = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday']
const SKIP = new Set(['t', 'at', 'on', 'of', 'the', 'and', 'st', 'nd', 'rd', 'th', 'sept', 'tues', 'thur', 'thurs'])

function monthOf(word: string): number | undefined {
  const w = word.toLowerCase()
  if (w === 'sept') return 9
  const i = MONTH_NAMES.indexOf(w)
  if (i >= 0) return i + 1
  const j = MONTHS.indexOf(w)
  return j >= 0 ? j + 1 : undefined
}

const isWeekday = (w: string): boolean => DAYS.includes(w.toLowerCase()) || DAY_NAMES.includes(w.toLowerCase()) || w.toLowerCase() === 'tues' || w.toLowerCase() === 'thur' || w.toLowerCase() === 'thurs'

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]

function daysIn(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28
  return MONTH_DAYS[month - 1] ?? 0
}

function fullYear(y: number, digits: number): number {
  if (digits > 2) return y
  const now = new Date().getUTCFullYear()
  return y + 2000 <= now + 50 ? y + 2000 : y + 1900
}

interface Fields {
  year?: number
  month?: number
  day?: number
  hour?: number
  minute?: number
  second?: number
  micro?: number
  ampm?: 'am' | 'pm'
  offset?: number // minutes east of UTC
}

function micros(f: Fields): number | undefined {
  const today = new Date()
  const year = f.year ?? today.getUTCFullYear()
  const month = f.month ?? today.getUTCMonth() + 1
  const day = f.day ?? today.getUTCDate()
  let hour = f.hour ?? 0
  if (f.ampm) {
    if (hour < 1 || hour > 12) return undefined
    hour = (hour % 12) + (f.ampm === 'pm' ? 12 : 0)
  }
  if (month < 1 || month > 12 || day < 1 || day > daysIn(year, month)) return undefined
  if (hour > 23 || (f.minute ?? 0) > 59 || (f.second ?? 0) > 59) return undefined
  const d = new Date(0)
  d.setUTCFullYear(year, month - 1, day)
  d.setUTCHours(hour, f.minute ?? 0, f.second ?? 0, 0)
  return d.getTime() * 1000 + (f.micro ?? 0) - (f.offset ?? 0) * 60_000_000
}

const isoRe = /^\s*(\d{4})-(\d\d)-(\d\d)(?:[T ](\d\d):(\d\d)(?::(\d\d)(?:[.,](\d{1,9}))?)?)?\s*(Z|[+-]\d\d(?::?\d\d)?)?\s*$/i

/** Microseconds since 1970 of a date/time text, or undefined when it is not one. */
export function parseDateTime(text: string): number | undefined {
  const iso = isoRe.exec(text)
  if (iso) {
    const f: Fields = { year: +iso[1]!, month: +iso[2]!, day: +iso[3]! }
    if (iso[4]) Object.assign(f, { hour: +iso[4], minute: +iso[5]!, second: +(iso[6] ?? 0), micro: iso[7] ? +(iso[7] + '00000').slice(0, 6) : 0 })
    if (iso[8]) f.offset = offsetOf(iso[8])
    return micros(f)
  }
  return parseLoose(text)
}

function offsetOf(tz: string): number {
  if (/^z$/i.test(tz)) return 0
  const sign = tz[0] === '-' ? -1 : 1
  const d = tz.slice(1).replace(':', '')
  return sign * (Number(d.slice(0, 2)) * 60 + Number(d.slice(2, 4) || 0))
}

function parseLoose(text: string): number | undefined {
  const tokens = text.match(/\d+|[A-Za-z]+|[^\sA-Za-z\d]/g)
  if (!tokens) return undefined
  const f: Fields = {}
  const loose: { value: number; digits: number }[] = []
  let any = false
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!
    if (/^\d+$/.test(t)) {
      any = true
      if (tokens[i + 1] === ':' && f.hour === undefined) {
        // time: H:M[:S[.f]]
        f.hour = +t
        f.minute = +(tokens[i + 2] ?? NaN)
        i += 2
        if (tokens[i + 1] === ':') {
          f.second = +(tokens[i + 2] ?? NaN)
          i += 2
          if ((tokens[i + 1] === '.' || tokens[i + 1] === ',') && /^\d+$/.test(tokens[i + 2] ?? '')) {
            f.micro = +((tokens[i + 2]! + '00000').slice(0, 6))
            i += 2
          }
        }
        if (Number.isNaN(f.minute) || Number.isNaN(f.second ?? 0)) return undefined
        continue
      }
      const sep = tokens[i + 1]
      if ((sep === '/' || sep === '-' || sep === '.') && /^\d+$/.test(tokens[i + 2] ?? '') && f.month === undefined) {
        const parts = [t, tokens[i + 2]!]
        i += 2
        if (tokens[i + 1] === sep && /^\d+$/.test(tokens[i + 2] ?? '')) {
          parts.push(tokens[i + 2]!)
          i += 2
        }
        if (!datePartsInto(parts, f)) return undefined
        continue
      }
      if (t.length === 8 && f.year === undefined) {
        Object.assign(f, { year: +t.slice(0, 4), month: +t.slice(4, 6), day: +t.slice(6, 8) })
        continue
      }
      loose.push({ value: +t, digits: t.length })
      continue
    }
    if (/^[A-Za-z]+$/.test(t)) {
      const w = t.toLowerCase()
      const month = monthOf(w)
      if (month !== undefined && f.month === undefined) { f.month = month; any = true; continue }
      if (isWeekday(w) || SKIP.has(w)) continue
      if (w === 'am' || w === 'pm' || w === 'a' || w === 'p') { f.ampm = w.startsWith('a') ? 'am' : 'pm'; if (tokens[i + 1] === '.' && /^m$/i.test(tokens[i + 2] ?? '')) i += 2; continue }
      if (w === 'z' || w === 'utc' || w === 'gmt') { f.offset = 0; continue }
      return undefined
    }
    if ((t === '+' || t === '-') && f.hour !== undefined && /^\d+$/.test(tokens[i + 1] ?? '')) {
      let tz = t + tokens[i + 1]
      i++
      if (tokens[i + 1] === ':' && /^\d+$/.test(tokens[i + 2] ?? '')) { tz += tokens[i + 2]; i += 2 }
      f.offset = offsetOf(tz)
      continue
    }
    if (t === ',' || t === '.' || t === '/' || t === '-' || t === "'") continue
    return undefined
  }
  if (!any) return undefined
  for (const { value, digits } of loose) {
    if (digits === 4 && f.year === undefined) f.year = value
    else if (digits <= 2 && f.day === undefined && (f.month !== undefined || loose.length === 1) && value >= 1 && value <= 31) f.day = value
    else if (digits <= 2 && f.year === undefined && f.day !== undefined) f.year = fullYear(value, digits)
    else if (digits === 6 && f.year === undefined) Object.assign(f, { year: fullYear(+String(value).padStart(6, '0').slice(0, 2), 2), month: Math.floor(value / 100) % 100, day: value % 100 })
    else return undefined
  }
  return micros(f)
}

function datePartsInto(parts: string[], f: Fields): boolean {
  const n = parts.map(Number)
  if (parts[0]!.length >= 3) {
    Object.assign(f, { year: n[0], month: n[1], day: n[2] ?? 1 })
  } else if (parts.length === 3) {
    const year = fullYear(n[2]!, parts[2]!.length)
    if (n[0]! > 12 && n[1]! <= 12) Object.assign(f, { day: n[0], month: n[1], year })
    else Object.assign(f, { month: n[0], day: n[1], year })
  } else {
    if (n[0]! > 12 && n[1]! <= 12) Object.assign(f, { day: n[0], month: n[1] })
    else Object.assign(f, { month: n[0], day: n[1] })
  }
  return true
}

// ---- strptime ----

const DIRECTIVES: Readonly<Record<string, string>> = {
  d: '(3[01]|[12]\\d|0[1-9]|[1-9]| [1-9])',
  f: '(\\d{1,6})',
  H: '(2[0-3]|[01]\\d|\\d)',
  I: '(1[0-2]|0[1-9]|[1-9])',
  G: '(\\d\\d\\d\\d)',
  j: '(36[0-6]|3[0-5]\\d|[12]\\d\\d|0[1-9]\\d|00[1-9]|[1-9]\\d|0[1-9]|[1-9])',
  m: '(1[0-2]|0[1-9]|[1-9])',
  M: '([0-5]\\d|\\d)',
  S: '(6[01]|[0-5]\\d|\\d)',
  U: '(5[0-3]|[0-4]\\d|\\d)',
  W: '(5[0-3]|[0-4]\\d|\\d)',
  V: '(5[0-3]|0[1-9]|[1-4]\\d|\\d)',
  w: '([0-6])',
  u: '([1-7])',
  y: '(\\d\\d)',
  Y: '(\\d\\d\\d\\d)',
  z: '([+-]\\d\\d:?[0-5]\\d(?::?[0-5]\\d(?:\\.\\d{1,6})?)?|Z)',
  Z: '(utc|gmt)',
  a: `(${DAYS.join('|')})`,
  A: `(${DAY_NAMES.join('|')})`,
  b: `(${MONTHS.join('|')})`,
  h: `(${MONTHS.join('|')})`,
  B: `(${MONTH_NAMES.join('|')})`,
  p: '(am|pm)',
}
const EXPANSIONS: Readonly<Record<string, string>> = { c: '%a %b %d %H:%M:%S %Y', x: '%m/%d/%y', X: '%H:%M:%S' }

/**
 * A matcher for Python's `datetime.strptime(value, format)`: true when the
 * value parses (whole string, real calendar date). Throws ETL_EXPECTATION for
 * a format strptime refuses ("Unable to use provided strftime_format").
 */
export function strptimeMatcher(format: string): (value: string) => boolean {
  const groups: string[] = []
  let re = ''
  const expand = (fmt: string, depth: number): void => {
    for (let i = 0; i < fmt.length; i++) {
      const c = fmt[i]!
      if (c !== '%') {
        if (/\s/.test(c)) {
          while (i + 1 < fmt.length && /\s/.test(fmt[i + 1]!)) i++
          re += '\\s+'
        } else re += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
        continue
      }
      const d = fmt[++i]
      if (d === undefined) throw expectationError(`Unable to use provided strftime_format. stray % in format '${format}'`)
      if (d === '%') { re += '%'; continue }
      const pattern = DIRECTIVES[d]
      const expansion = EXPANSIONS[d]
      if (pattern) { re += pattern; groups.push(d) }
      else if (expansion && depth === 0) expand(expansion, 1)
      else throw expectationError(`Unable to use provided strftime_format. '${d}' is a bad directive in format '${format}'`)
    }
  }
  expand(format, 0)
  const regex = new RegExp(`^${re}$`, 'i')
  return (value) => {
    const m = regex.exec(value)
    if (!m) return false
    let year = 1900
    let month = 1
    let day = 1
    groups.forEach((g, k) => {
      const v = m[k + 1]!
      if (g === 'Y') year = +v
      else if (g === 'y') year = +v < 69 ? 2000 + +v : 1900 + +v
      else if (g === 'm') month = +v
      else if (g === 'd') day = +v
      else if (g === 'b' || g === 'h' || g === 'B') month = monthOf(v) ?? 1
    })
    return day <= daysIn(year, month)
  }
}
