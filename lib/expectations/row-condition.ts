/**
 * `row_condition`: an expectation that judges only the rows matching a
 * condition (GE's "conditional expectations"). The condition is parsed once,
 * when the suite is compiled, into a test of one row; the rows that fail it
 * are not seen by the expectation at all, so its counts (element_count,
 * missing_count ...) are over the matching rows, as Great Expectations'
 * SQL backend counts them over `SELECT * ... WHERE condition`.
 * Nothing is built into SQL text: the condition is evaluated in the stream.
 *
 * `condition_parser`:
 * - `great_expectations` (1.x) / `great_expectations__experimental__` (0.x):
 *   GE's own grammar (expectations/row_conditions.py), one comparison:
 *   `col("x") > 5`, `col("s") == "abc"`, `col("d") <= date("2023-03-13")`,
 *   `col("x").notnull()`; operators == != < <= > >=. As in SQL, a NULL
 *   value matches no comparison.
 * - `pandas`: the part of DataFrame.query() that has one meaning here:
 *   comparisons of a column (a name, or `a name` in backticks) with a number,
 *   a quoted text or True/False, joined by `&` / `and`, `|` / `or`, `~` /
 *   `not` and parentheses. As in pandas, a missing value matches only `!=`,
 *   and a number column never equals a text. A text column compared with a
 *   number is refused: in pandas it may have held numbers, here it holds text.
 *   `@variable`, functions, arithmetic and chained comparisons are refused.
 * Anything else is an ETL_EXPECTATION error naming the condition.
 */
import type { Column, Row } from '../types.ts'
import { parseDateTime } from './datetime.ts'
import { expectationError } from './kwargs.ts'
import { coerceToKind, isNumericKind, isTemporalKind, keyFn, kindOf, toNumber, type Key, type ValueKind } from './values.ts'

const keyOf = (kind: ValueKind): ((v: unknown) => Key) => (isNumericKind(kind) ? toNumber : keyFn(kind))

/** A compiled row condition: true when the row is judged. */
export type RowTest = (row: Row) => boolean

/** The parsers Great Expectations defines that can run here. */
export const CONDITION_PARSERS = ['great_expectations', 'great_expectations__experimental__', 'pandas'] as const

type Op = '==' | '!=' | '<' | '<=' | '>' | '>='
type Lit = { t: 'num'; v: number } | { t: 'str'; v: string } | { t: 'bool'; v: boolean } | { t: 'date'; v: string }

const fail = (condition: string, why: string): Error => expectationError(`row_condition ${JSON.stringify(condition)}: ${why}`)

/** Compiles `row_condition` for the columns (undefined when there is none; condition_parser is checked either way). Throws ETL_EXPECTATION. */
export function compileRowCondition(condition: unknown, parser: unknown, columns: readonly Column[]): RowTest | undefined {
  if (parser !== undefined && parser !== null && (typeof parser !== 'string' || !(CONDITION_PARSERS as readonly string[]).includes(parser)))
    throw expectationError(`condition_parser ${JSON.stringify(parser)} is not a valid enumeration member: one of ${CONDITION_PARSERS.join(', ')}`)
  if (condition === undefined || condition === null) return undefined
  if (typeof condition !== 'string') throw expectationError(`row_condition must be a text, got ${JSON.stringify(condition)}`)
  if (parser === undefined || parser === null)
    throw expectationError(`condition_parser is required with a row_condition: one of ${CONDITION_PARSERS.join(', ')}`)
  return parser === 'pandas' ? pandasCondition(condition, columns) : gxCondition(condition, columns)
}

function columnAt(condition: string, columns: readonly Column[], name: string): { index: number; kind: ValueKind } {
  const index = columns.findIndex((c) => c.name === name)
  if (index < 0) throw fail(condition, `column ${JSON.stringify(name)} is not in the table`)
  return { index, kind: kindOf(columns[index]!.type) }
}

function compare(op: Op, a: Key, b: Key): boolean {
  switch (op) {
    case '==': return a === b
    case '!=': return a !== b
    case '<': return a < b
    case '<=': return a <= b
    case '>': return a > b
    case '>=': return a >= b
  }
}

// ---- great_expectations ----

const GX = /^\s*col\("([A-Za-z][\w\-.]*)"\)\s*(?:(\.notnull\(\))|(==|!=|>=|<=|>|<)\s*(?:([+-]?\d+(?:\.\d*)?(?:[eE][+-]?\d+)?)|"([^"']*)"|'([^"']*)'|date\((?:"([^"']*)"|'([^"']*)')\)))\s*$/i

function gxCondition(condition: string, columns: readonly Column[]): RowTest {
  const m = GX.exec(condition)
  if (!m || (m[3] === undefined && m[2] === undefined)) throw fail(condition, 'unable to parse condition (the great_expectations parser takes one comparison: col("x") > 5, col("s") == "abc", col("d") <= date("2023-03-13"), col("x").notnull())')
  const { index, kind } = columnAt(condition, columns, m[1]!)
  if (m[2]) return (row) => (row[index] ?? null) !== null
  const op = m[3] as Op
  const lit: Lit = m[4] !== undefined ? { t: 'num', v: Number(m[4]) } : m[7] !== undefined || m[8] !== undefined ? { t: 'date', v: (m[7] ?? m[8])! } : { t: 'str', v: (m[5] ?? m[6])! }
  // SQL: the literal is read as the column's type (a quoted '5' for an integer column), or the comparison is refused.
  let k: Key
  if (lit.t === 'num' && !isNumericKind(kind)) throw fail(condition, `column ${m[1]} cannot be compared with a number (operator does not exist: ${kind} ${op} numeric)`)
  if (lit.t === 'date') {
    const us = parseDateTime(lit.v)
    if (us === undefined || !isTemporalKind(kind)) throw fail(condition, `date(${JSON.stringify(lit.v)}) needs a date or time column and a date`)
    k = us
  } else {
    try {
      k = coerceToKind(lit.v, kind, 'the value')
      if (isNumericKind(kind)) k = Number(k)
    } catch (err) {
      throw fail(condition, (err as Error).message)
    }
  }
  const key = keyOf(kind)
  return (row) => {
    const v = row[index] ?? null
    return v !== null && compare(op, key(v), k)
  }
}

// ---- pandas ----

type Token = { t: 'name'; v: string } | { t: 'lit'; v: Lit } | { t: 'op'; v: string }

function tokens(condition: string): Token[] {
  const out: Token[] = []
  const re = /\s*(?:`([^`]*)`|(\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)|"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|([A-Za-z_]\w*)|(==|!=|<=|>=|<|>|&|\||~|\(|\))|(\S))/y
  let m: RegExpExecArray | null
  while (re.lastIndex < condition.length && (m = re.exec(condition))) {
    if (m[0].trim() === '') break
    if (m[1] !== undefined) out.push({ t: 'name', v: m[1] })
    else if (m[2] !== undefined) out.push({ t: 'lit', v: { t: 'num', v: Number(m[2]) } })
    else if (m[3] !== undefined || m[4] !== undefined) out.push({ t: 'lit', v: { t: 'str', v: (m[3] ?? m[4])!.replace(/\\(.)/g, '$1') } })
    else if (m[5] !== undefined) {
      const w = m[5]
      if (w === 'True' || w === 'False') out.push({ t: 'lit', v: { t: 'bool', v: w === 'True' } })
      else if (w === 'and' || w === 'or' || w === 'not') out.push({ t: 'op', v: w === 'and' ? '&' : w === 'or' ? '|' : '~' })
      else out.push({ t: 'name', v: w })
    } else if (m[6] !== undefined) out.push({ t: 'op', v: m[6] })
    else throw new Error(m[7] === '@' ? 'variables (@name) are not supported: put the value in the condition' : `unexpected ${JSON.stringify(m[7])}`)
  }
  return out
}

const COMPARISONS = new Set(['==', '!=', '<', '<=', '>', '>='])
const FLIP: Readonly<Record<Op, Op>> = { '==': '==', '!=': '!=', '<': '>', '<=': '>=', '>': '<', '>=': '<=' }

function pandasCondition(condition: string, columns: readonly Column[]): RowTest {
  let list: Token[]
  try {
    list = tokens(condition)
  } catch (err) {
    throw fail(condition, (err as Error).message)
  }
  let i = 0
  const peek = (): Token | undefined => list[i]
  const isOp = (v: string): boolean => peek()?.t === 'op' && peek()!.v === v
  const take = (v: string): void => {
    if (!isOp(v)) throw fail(condition, `expected ${v}${peek() ? '' : ' at the end'}`)
    i++
  }
  const or = (): RowTest => {
    let left = and()
    while (isOp('|')) {
      i++
      const a = left
      const b = and()
      left = (row) => a(row) || b(row)
    }
    return left
  }
  const and = (): RowTest => {
    let left = not()
    while (isOp('&')) {
      i++
      const a = left
      const b = not()
      left = (row) => a(row) && b(row)
    }
    return left
  }
  const not = (): RowTest => {
    if (isOp('~')) {
      i++
      const a = not()
      return (row) => !a(row)
    }
    if (isOp('(')) {
      i++
      const a = or()
      take(')')
      return a
    }
    return comparison()
  }
  const comparison = (): RowTest => {
    const left = list[i++]
    const op = list[i++]
    const right = list[i++]
    if (!left || !op || !right || op.t !== 'op' || !COMPARISONS.has(op.v)) throw fail(condition, 'expected a comparison such as x == 1 or `my col` != "a"')
    const next = peek()
    if (next?.t === 'op' && COMPARISONS.has(next.v)) throw fail(condition, 'chained comparisons (a < x < b) are not supported: write (a < x) & (x < b)')
    if (left.t === 'name' && right.t === 'lit') return judge(left.v, op.v as Op, right.v)
    if (left.t === 'lit' && right.t === 'name') return judge(right.v, FLIP[op.v as Op], left.v)
    throw fail(condition, 'each comparison must be between a column and a value')
  }
  const judge = (name: string, op: Op, lit: Lit): RowTest => {
    const { index, kind } = columnAt(condition, columns, name)
    const key = keyOf(kind)
    let k: Key | undefined
    if (lit.t === 'num' && isNumericKind(kind)) k = lit.v
    else if (lit.t === 'str' && (kind === 'string' || kind === 'json')) k = kind === 'json' ? JSON.stringify(lit.v) : lit.v
    else if (lit.t === 'str' && isTemporalKind(kind)) k = parseDateTime(lit.v) // pandas compares a datetime column with a date text
    else if (lit.t === 'bool' && kind === 'boolean') k = lit.v
    if (k === undefined && kind === 'string')
      // a text column may be the copy of a pandas column of mixed values, where 9 == 9 would hold: not translatable
      throw fail(condition, `column ${name} is text, compared with ${JSON.stringify(lit.v)}: write the value as a quoted text`)
    if (k === undefined) {
      // pandas: values of other types are never equal; ordering them raises TypeError
      if (op === '==' || op === '!=') return () => op === '!='
      throw fail(condition, `'${op}' not supported between the values of column ${name} and ${JSON.stringify(lit.v)}`)
    }
    const want = k
    return (row) => {
      const v = row[index] ?? null
      if (v === null) return op === '!=' // NaN / None: only != holds
      const x = key(v)
      if (typeof x === 'number' && Number.isNaN(x)) return op === '!='
      return compare(op, x, want)
    }
  }
  const test = or()
  if (i < list.length) throw fail(condition, `unexpected ${JSON.stringify(list[i]!.v)}`)
  return test
}
