/**
 * Suite parameters (GE 0.x: evaluation parameters): a kwarg written
 * `{"$PARAMETER": "expr"}` is replaced by the value of `expr` before the
 * expectation is compiled, as Great Expectations' core/suite_parameters.py
 * does. `expr` is a parameter name given to the run (its value used as it is,
 * a list or a text too), or arithmetic (`+ - * /`, `^` right to left,
 * parentheses, unary minus) over numbers, parameter names, `PI`, `E`, quoted
 * dates (ours) and the functions `now()`, `timedelta(weeks=, days=, hours=,
 * minutes=, seconds=, milliseconds=, microseconds=)` (or `timedelta(days,
 * seconds)`), `datetime(y, m, d[, H, M, S])`, `abs`, `trunc`, `round` (an
 * exact tie to even, as Python), `sgn`, `sin`, `cos`, `tan`, `exp`, and
 * `today()` (ours). `now()` is the local time without zone, as Python's
 * datetime.now(); a datetime result becomes its isoformat() text, e.g.
 * `now() - timedelta(weeks=52)` -> `2024-11-25T10:00:00` (microseconds only
 * when not zero).
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

/**
 * A copy of kwargs with every top-level `{"$PARAMETER": ...}` evaluated. A
 * value stored beside it, `{"$PARAMETER": "x", "$PARAMETER.x": 5}` (how GE
 * keeps a value given while the suite was made), is used as it is. Throws ETL_EXPECTATION.
 */
export function resolveParameters(kwargs: Readonly<Record<string, unknown>>, ctx: ParameterContext): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(kwargs)) {
    if (!isParam(v)) out[k] = v
    else {
      const inline = `$PARAMETER.${String(v.$PARAMETER)}`
      out[k] = Object.hasOwn(v, inline) ? (v as Record<string, unknown>)[inline] : evaluate(v.$PARAMETER, ctx, k)
    }
  }
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
      // Python's datetime.isoformat(): microseconds only when not zero
      const frac = ((v.us % 1e6) + 1e6) % 1e6
      const iso = new Date((v.us - frac) / 1000).toISOString().slice(0, 19)
      return frac === 0 ? iso : `${iso}.${String(Math.round(frac)).padStart(6, '0')}`
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
    this.#tokens = text.match(/\d+(?:\.\d*)?(?:e[+-]?\d+)?|\.\d+(?:e[+-]?\d+)?|[A-Za-z_][\w.$]*|'[^']*'|"[^"]*"|\S/gi) ?? []
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
    let left = this.#power()
    while (this.#peek() === '*' || this.#peek() === '/') {
      const op = this.#take()
      left = combine(left, op, this.#power())
    }
    return left
  }

  /** `^`, right to left (2^3^2 = 2^9), as GE's parser. */
  #power(): Val {
    const base = this.#factor()
    if (this.#peek() !== '^') return base
    this.#take()
    return { t: 'num', v: numberOf(base) ** numberOf(this.#power()) }
  }

  #factor(): Val {
    const t = this.#take()
    if (t === '+') return this.#factor()
    if (t === '-') return combine({ t: 'num', v: 0 }, '-', this.#factor())
    if (/^pi$/i.test(t) && this.#peek() !== '(') return { t: 'num', v: Math.PI }
    if (/^e$/i.test(t) && this.#peek() !== '(') return { t: 'num', v: Math.E }
    if (t === '(') {
      const v = this.#expr()
      this.#take(')')
      return v
    }
    if (/^\.?\d/.test(t)) return { t: 'num', v: Number(t) }
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
    // datetime.datetime.now(): the machine's local time, without zone
    const clock = this.#ctx.now()
    const now = (clock.getTime() - clock.getTimezoneOffset() * 60_000) * 1000
    const one = (): number => {
      if (positional.length !== 1) throw new Error(`${name}() takes one number`)
      return positional[0]!
    }
    switch (name) {
      case 'now': return { t: 'dt', us: now }
      case 'abs': return { t: 'num', v: Math.abs(one()) }
      case 'trunc': return { t: 'num', v: Math.trunc(one()) }
      case 'sgn': return { t: 'num', v: one() < -1e-12 ? -1 : one() > 1e-12 ? 1 : 0 }
      case 'sin': return { t: 'num', v: Math.sin(one()) }
      case 'cos': return { t: 'num', v: Math.cos(one()) }
      case 'tan': return { t: 'num', v: Math.tan(one()) }
      case 'exp': return { t: 'num', v: Math.exp(one()) }
      case 'round': return { t: 'num', v: roundHalfEven(positional[0] ?? NaN, positional[1] ?? 0) }
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

/** Python's round(x, n): to n digits, an exact tie to the even digit. */
function roundHalfEven(x: number, digits: number): number {
  const f = 10 ** digits
  const y = x * f
  const r = Math.round(y)
  const tie = Math.abs(y % 1) === 0.5
  return (tie && r % 2 !== 0 ? r - 1 : r) / f
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
