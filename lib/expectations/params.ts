/**
 * Evaluation parameters: a kwarg written `{"$PARAMETER": "expr"}` is replaced
 * by the value of `expr` before the expectation is compiled, as in Great
 * Expectations. `expr` is a parameter name given to the run, or arithmetic
 * (`+ - * /`, parentheses) over numbers, names, quoted dates and the functions
 * `now()`, `today()`, `timedelta(weeks=, days=, hours=, minutes=, seconds=,
 * milliseconds=, microseconds=)` and `datetime(y, m, d[, H, M, S])`.
 * A datetime result becomes an ISO text without zone (UTC), e.g.
 * `now() - timedelta(weeks=52)` -> `2024-11-25T10:00:00.000000`.
 */
import { parseDateTime } from './datetime.ts'
import { expectationError } from './kwargs.ts'

/** Parameter values and the clock for now(). */
export interface ParameterContext {
  readonly parameters: Readonly<Record<string, unknown>>
  readonly now: () => Date
}

type Val = { t: 'num'; v: number } | { t: 'dt'; us: number } | { t: 'td'; us: number } | { t: 'str'; v: string }

const isParam = (v: unknown): v is { $PARAMETER: unknown } =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && '$PARAMETER' in v

/** A copy of kwargs with every top-level `{"$PARAMETER": ...}` evaluated. Throws ETL_EXPECTATION. */
export function resolveParameters(kwargs: Readonly<Record<string, unknown>>, ctx: ParameterContext): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(kwargs)) out[k] = isParam(v) ? evaluate(v.$PARAMETER, ctx, k) : v
  return out
}

function evaluate(expr: unknown, ctx: ParameterContext, kwarg: string): unknown {
  if (typeof expr !== 'string') throw expectationError(`${kwarg}: $PARAMETER must be a text, got ${JSON.stringify(expr)}`)
  if (Object.hasOwn(ctx.parameters, expr.trim())) return ctx.parameters[expr.trim()]
  try {
    return toKwarg(new Parser(expr, ctx).parse())
  } catch (err) {
    throw expectationError(`${kwarg}: cannot evaluate $PARAMETER ${JSON.stringify(expr)}: ${(err as Error).message}`)
  }
}

function toKwarg(v: Val): unknown {
  switch (v.t) {
    case 'num': return v.v
    case 'str': return v.v
    case 'td': return v.us / 1e6
    case 'dt': {
      const frac = ((v.us % 1e6) + 1e6) % 1e6
      const iso = new Date((v.us - frac) / 1000).toISOString().slice(0, 19)
      return `${iso}.${String(Math.round(frac)).padStart(6, '0')}`
    }
  }
}

const UNITS: Readonly<Record<string, number>> = {
  weeks: 604_800e6, days: 86_400e6, hours: 3_600e6, minutes: 60e6, seconds: 1e6, milliseconds: 1e3, microseconds: 1,
}

class Parser {
  readonly #tokens: string[]
  readonly #ctx: ParameterContext
  #i = 0

  constructor(text: string, ctx: ParameterContext) {
    this.#tokens = text.match(/\d+(?:\.\d*)?(?:e[+-]?\d+)?|[A-Za-z_][\w.]*|'[^']*'|"[^"]*"|\S/g) ?? []
    this.#ctx = ctx
  }

  parse(): Val {
    const v = this.#expr()
    if (this.#i < this.#tokens.length) throw new Error(`unexpected ${this.#tokens[this.#i]}`)
    return v
  }

  #peek(): string | undefined {
    return this.#tokens[this.#i]
  }

  #take(expected?: string): string {
    const t = this.#tokens[this.#i++]
    if (t === undefined || (expected !== undefined && t !== expected)) throw new Error(`expected ${expected ?? 'more'}`)
    return t
  }

  #expr(): Val {
    let left = this.#term()
    while (this.#peek() === '+' || this.#peek() === '-') {
      const op = this.#take()
      left = combine(left, op, this.#term())
    }
    return left
  }

  #term(): Val {
    let left = this.#factor()
    while (this.#peek() === '*' || this.#peek() === '/') {
      const op = this.#take()
      left = combine(left, op, this.#factor())
    }
    return left
  }

  #factor(): Val {
    const t = this.#take()
    if (t === '-') return combine({ t: 'num', v: 0 }, '-', this.#factor())
    if (t === '(') {
      const v = this.#expr()
      this.#take(')')
      return v
    }
    if (/^\d/.test(t)) return { t: 'num', v: Number(t) }
    if (/^['"]/.test(t)) {
      const s = t.slice(1, -1)
      const us = parseDateTime(s)
      return us === undefined ? { t: 'str', v: s } : { t: 'dt', us }
    }
    if (this.#peek() === '(') return this.#call(t)
    if (Object.hasOwn(this.#ctx.parameters, t)) {
      const p = this.#ctx.parameters[t]
      if (typeof p === 'number') return { t: 'num', v: p }
      if (typeof p === 'string') {
        const us = parseDateTime(p)
        return us === undefined ? { t: 'str', v: p } : { t: 'dt', us }
      }
    }
    throw new Error(`unknown name ${t}`)
  }

  #call(name: string): Val {
    this.#take('(')
    const positional: number[] = []
    const named: Record<string, number> = {}
    while (this.#peek() !== ')') {
      if (/^[A-Za-z_]/.test(this.#peek() ?? '') && this.#tokens[this.#i + 1] === '=') {
        const key = this.#take()
        this.#take('=')
        named[key] = numberOf(this.#expr())
      } else positional.push(numberOf(this.#expr()))
      if (this.#peek() === ',') this.#take()
      else break
    }
    this.#take(')')
    const now = this.#ctx.now().getTime() * 1000
    switch (name) {
      case 'now': return { t: 'dt', us: now }
      case 'today': return { t: 'dt', us: Math.floor(now / 86_400e6) * 86_400e6 }
      case 'timedelta': {
        let us = (positional[0] ?? 0) * UNITS['days']! + (positional[1] ?? 0) * 1e6
        for (const [k, v] of Object.entries(named)) {
          const unit = UNITS[k]
          if (unit === undefined) throw new Error(`timedelta has no argument ${k}`)
          us += v * unit
        }
        return { t: 'td', us }
      }
      case 'datetime': {
        const [y = 1970, mo = 1, d = 1, h = 0, mi = 0, s = 0] = positional
        return { t: 'dt', us: Date.UTC(y, mo - 1, d, h, mi, s) * 1000 }
      }
      default: throw new Error(`unknown function ${name}()`)
    }
  }
}

function numberOf(v: Val): number {
  if (v.t !== 'num') throw new Error('expected a number')
  return v.v
}

function combine(a: Val, op: string, b: Val): Val {
  if (a.t === 'num' && b.t === 'num') {
    const v = op === '+' ? a.v + b.v : op === '-' ? a.v - b.v : op === '*' ? a.v * b.v : a.v / b.v
    return { t: 'num', v }
  }
  if (a.t === 'dt' && b.t === 'td' && (op === '+' || op === '-')) return { t: 'dt', us: op === '+' ? a.us + b.us : a.us - b.us }
  if (a.t === 'td' && b.t === 'dt' && op === '+') return { t: 'dt', us: a.us + b.us }
  if (a.t === 'dt' && b.t === 'dt' && op === '-') return { t: 'td', us: a.us - b.us }
  if (a.t === 'td' && b.t === 'td' && (op === '+' || op === '-')) return { t: 'td', us: op === '+' ? a.us + b.us : a.us - b.us }
  if (a.t === 'td' && b.t === 'num' && (op === '*' || op === '/')) return { t: 'td', us: op === '*' ? a.us * b.v : a.us / b.v }
  throw new Error(`cannot apply ${op} to ${a.t} and ${b.t}`)
}
