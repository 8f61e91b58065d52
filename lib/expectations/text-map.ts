/**
 * Row-level checks of text columns: lengths, regular expressions, SQL LIKE
 * patterns, strftime formats, dateutil-parseable dates, JSON.
 *
 * These need a text column (as PostgreSQL, where `length(integer)` or
 * `integer ~ text` do not exist); on another column type they report an error.
 * Regular expressions run as JavaScript RegExp, searched anywhere in the value
 * (PostgreSQL's `~`); for the common subset the two dialects agree.
 * LIKE patterns follow PostgreSQL: `%` any run, `_` one character, `\` escapes,
 * whole value, case-sensitive (`[a]` is literal, as in PostgreSQL).
 */
import { createRequire } from 'node:module'
import type { Ajv } from 'ajv'
import { columnOf, type BuildContext, type Check, type ColumnRef } from './check.ts'
import { columnMap, type Predicate } from './column-map.ts'
import { parseDateTime, strptimeMatcher } from './datetime.ts'
import { checkRange, expectationError, oneOf, optInteger, reqString, reqStringList } from './kwargs.ts'
import type { MapState } from './map.ts'

function textColumn(ctx: BuildContext, why: string): ColumnRef {
  const col = columnOf(ctx)
  if (col.kind !== 'string') throw expectationError(`${why} (column ${col.name} is ${col.type}, not text)`)
  return col
}

const mustBeText = (type: string): string => `Values passed to ${type} must be of type string.`

/** Characters as PostgreSQL's length() and Python's len() count them (code points). */
export function codePointLength(s: string): number {
  let n = s.length
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c >= 0xdc00 && c <= 0xdfff && i > 0) {
      const p = s.charCodeAt(i - 1)
      if (p >= 0xd800 && p <= 0xdbff) n--
    }
  }
  return n
}

const noLength = 'No function matches the given name and argument types.'

/** expect_column_value_lengths_to_be_between (min > max allowed: every value fails, as GE). */
export function lengthsBetween(ctx: BuildContext): Check<MapState> {
  const min = optInteger(ctx.kwargs, 'min_value')
  const max = optInteger(ctx.kwargs, 'max_value')
  checkRange(min, max, { requireOne: true, allowReversed: true })
  const col = textColumn(ctx, noLength)
  const lo = min ?? -Infinity
  const hi = max ?? Infinity
  return columnMap(ctx, col, (v) => {
    const n = codePointLength(v as string)
    return n >= lo && n <= hi
  })
}

/** expect_column_value_lengths_to_equal. */
export function lengthsEqual(ctx: BuildContext): Check<MapState> {
  const value = optInteger(ctx.kwargs, 'value')
  if (value === undefined) throw expectationError('value must be an integer, got None (not a valid integer)')
  const col = textColumn(ctx, noLength)
  return columnMap(ctx, col, (v) => codePointLength(v as string) === value)
}

function compileRegex(source: string): RegExp {
  try {
    return new RegExp(source)
  } catch (err) {
    throw expectationError(`invalid regular expression ${JSON.stringify(source)}: ${(err as Error).message}`)
  }
}

/** A PostgreSQL LIKE pattern as an anchored RegExp. */
export function likeToRegExp(pattern: string): RegExp {
  let re = ''
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!
    if (c === '\\') {
      const next = pattern[++i]
      if (next === undefined) throw expectationError(`LIKE pattern must not end with the escape character: ${JSON.stringify(pattern)}`)
      re += next.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&')
    } else if (c === '%') re += '[^]*'
    else if (c === '_') re += '[^]'
    else re += c.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&')
  }
  return new RegExp(`^${re}$`)
}

function listCheck(ctx: BuildContext, regexes: RegExp[], negate: boolean, matchAll: boolean): Check<MapState> {
  const col = textColumn(ctx, 'pattern matching needs text')
  let test: Predicate
  if (regexes.length === 1) {
    const r = regexes[0]!
    test = negate ? (v) => !r.test(v as string) : (v) => r.test(v as string)
  } else if (negate) test = (v) => !regexes.some((r) => r.test(v as string))
  else if (matchAll) test = (v) => regexes.every((r) => r.test(v as string))
  else test = (v) => regexes.some((r) => r.test(v as string))
  return columnMap(ctx, col, test)
}

/** The regex and LIKE families; *_list take match_on any (default) or all; the not_ forms fail a value matching any. */
export const matchRegex = (ctx: BuildContext): Check<MapState> => listCheck(ctx, [compileRegex(reqString(ctx.kwargs, 'regex'))], false, false)
export const notMatchRegex = (ctx: BuildContext): Check<MapState> => listCheck(ctx, [compileRegex(reqString(ctx.kwargs, 'regex'))], true, false)
export const matchRegexList = (ctx: BuildContext): Check<MapState> =>
  listCheck(ctx, reqStringList(ctx.kwargs, 'regex_list').map(compileRegex), false, oneOf(ctx.kwargs, 'match_on', ['any', 'all'], 'any') === 'all')
export const notMatchRegexList = (ctx: BuildContext): Check<MapState> => listCheck(ctx, reqStringList(ctx.kwargs, 'regex_list').map(compileRegex), true, false)
export const matchLike = (ctx: BuildContext): Check<MapState> => listCheck(ctx, [likeToRegExp(reqString(ctx.kwargs, 'like_pattern'))], false, false)
export const notMatchLike = (ctx: BuildContext): Check<MapState> => listCheck(ctx, [likeToRegExp(reqString(ctx.kwargs, 'like_pattern'))], true, false)
export const matchLikeList = (ctx: BuildContext): Check<MapState> =>
  listCheck(ctx, reqStringList(ctx.kwargs, 'like_pattern_list').map(likeToRegExp), false, oneOf(ctx.kwargs, 'match_on', ['any', 'all'], 'any') === 'all')
export const notMatchLikeList = (ctx: BuildContext): Check<MapState> => listCheck(ctx, reqStringList(ctx.kwargs, 'like_pattern_list').map(likeToRegExp), true, false)

/** expect_column_values_to_match_strftime_format (Python strptime rules). */
export function matchStrftime(ctx: BuildContext): Check<MapState> {
  const format = reqString(ctx.kwargs, 'strftime_format')
  const matches = strptimeMatcher(format)
  const col = textColumn(ctx, `${mustBeText(ctx.type)} If you want to validate a column of dates or timestamps, call the expectation on the text form.`)
  return columnMap(ctx, col, (v) => matches(v as string))
}

/** expect_column_values_to_be_dateutil_parseable. */
export function dateutilParseable(ctx: BuildContext): Check<MapState> {
  const col = textColumn(ctx, mustBeText(ctx.type))
  return columnMap(ctx, col, (v) => parseDateTime(v as string) !== undefined)
}

function parses(v: string): boolean {
  try {
    JSON.parse(v)
    return true
  } catch {
    return false
  }
}

/** Text must parse as JSON; json/jsonb values always do; values of other types never do (as GE's json.loads). */
export function jsonParseable(ctx: BuildContext): Check<MapState> {
  const col = columnOf(ctx)
  if (col.kind === 'json' && !col.type.startsWith('_')) return columnMap(ctx, col, () => true)
  if (col.kind === 'string') return columnMap(ctx, col, (v) => parses(v as string))
  return columnMap(ctx, col, () => false)
}

let ajvInstance: Ajv | undefined

/** ajv, loaded on the first suite that asks for a JSON Schema (it is ~15 MB of memory that other runs need not hold). */
function ajv(): Ajv {
  if (!ajvInstance) {
    const { Ajv: AjvClass } = createRequire(import.meta.url)('ajv') as typeof import('ajv')
    ajvInstance = new AjvClass({ strict: false, allErrors: false })
  }
  return ajvInstance
}

/** expect_column_values_to_match_json_schema (ajv; text parsed first, json/jsonb as they are). */
export function matchJsonSchema(ctx: BuildContext): Check<MapState> {
  const schema = ctx.kwargs['json_schema']
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) throw expectationError(`json_schema must be a JSON Schema object, got ${JSON.stringify(schema)}`)
  let validate: (v: unknown) => boolean
  try {
    validate = ajv().compile(schema)
  } catch (err) {
    throw expectationError(`json_schema is not a valid JSON Schema: ${(err as Error).message}`)
  }
  const col = columnOf(ctx)
  if (col.kind === 'json') return columnMap(ctx, col, (v) => validate(v))
  if (col.kind !== 'string') throw expectationError(`column ${col.name} (${col.type}) holds neither text nor JSON`)
  return columnMap(ctx, col, (v) => {
    let parsed: unknown
    try {
      parsed = JSON.parse(v as string)
    } catch {
      return false
    }
    return validate(parsed)
  })
}
