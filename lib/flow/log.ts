/**
 * The one logger of flows, schedules and the command line: one line per event
 * on stderr (or a given stream). Every line goes through `redact()`, so a
 * registered secret or a URL password never reaches a terminal or a log
 * collector.
 *
 * Formats:
 * - `json`: pino's line shape, which pino-pretty and log shippers (Vector,
 *   Fluent Bit, Loki, Datadog) read: `{"level":30,"time":<epoch ms>,"pid":..,
 *   "hostname":..,<fields>,"msg":".."}` with pino's level numbers (debug 20,
 *   info 30, warn 40, error 50); an Error field becomes `{ type, message }`.
 * - `text`: `2024-01-02T03:04:05.123Z warn  message  key=value ...`.
 * - `human`: what the command prints on a terminal: `message` for info,
 *   `warn: message` / `error: message` otherwise, no fields.
 *
 * Anything with `info`, `warn` and `error` methods taking `(message, fields)`
 * can stand in for it: flows only call those, plus `debug` when it exists.
 */
import { hostname } from 'node:os'
import { invalidOption, redact } from '../errors.ts'

export type LogLevel = 'debug' | 'info' | 'warn' | 'error'

/** What flows, tasks and schedules log through. `debug` is optional. */
export interface FlowLogger {
  debug?(message: string, fields?: Readonly<Record<string, unknown>>): void
  info(message: string, fields?: Readonly<Record<string, unknown>>): void
  warn(message: string, fields?: Readonly<Record<string, unknown>>): void
  error(message: string, fields?: Readonly<Record<string, unknown>>): void
}

export interface Logger extends FlowLogger {
  debug(message: string, fields?: Readonly<Record<string, unknown>>): void
  /** A logger that adds `fields` to every line. */
  child(fields: Readonly<Record<string, unknown>>): Logger
  /** Whether lines of `level` are written. */
  enabled(level: LogLevel): boolean
}

export interface LoggerOptions {
  /** `'json'` (pino's shape), `'text'` or `'human'`. Default `'text'`. */
  readonly format?: 'json' | 'text' | 'human'
  /** Lowest level written; `'silent'` writes nothing. Default `'info'`. */
  readonly level?: LogLevel | 'silent'
  /** Where lines go. Default `process.stderr`. */
  readonly stream?: { write(chunk: string): unknown }
  /** Clock for the `time` field. Default `() => new Date()`. */
  readonly now?: () => Date
  /** Called before each line is written (the command line uses it to end a progress line). */
  readonly beforeWrite?: () => void
}

/** pino's level numbers. */
export const LEVEL_NUMBERS: Readonly<Record<LogLevel, number>> = { debug: 20, info: 30, warn: 40, error: 50 }
const rank: Record<LogLevel | 'silent', number> = { ...LEVEL_NUMBERS, silent: 100 }
const LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const

/** The level named `text` (flag or LOG_LEVEL), checked. Throws ETL_INVALID_OPTION. */
export function parseLogLevel(text: string, name = 'log.level'): LogLevel | 'silent' {
  const t = text.toLowerCase()
  if (!(LEVELS as readonly string[]).includes(t)) throw invalidOption(name, 'debug, info, warn, error or silent', text)
  return t as LogLevel | 'silent'
}

const RESERVED = new Set(['level', 'time', 'pid', 'hostname', 'msg'])

/**
 * Creates a logger. Field values that are not strings are written as JSON.
 * Throws ETL_INVALID_OPTION for an unknown format or level.
 */
export function createLogger(options: LoggerOptions = {}, bound: Readonly<Record<string, unknown>> = {}): Logger {
  const { format = 'text', level = 'info', stream = process.stderr, now = () => new Date(), beforeWrite } = options
  if (format !== 'json' && format !== 'text' && format !== 'human') throw invalidOption('log.format', "'json', 'text' or 'human'", format)
  if (!(level in rank)) throw invalidOption('log.level', 'debug, info, warn, error or silent', level)
  const min = rank[level]
  const write = (lvl: LogLevel, message: string, fields?: Readonly<Record<string, unknown>>) => {
    if (rank[lvl] < min) return
    const all = { ...bound, ...fields }
    let line: string
    if (format === 'json') {
      const head: Record<string, unknown> = { level: LEVEL_NUMBERS[lvl], time: now().getTime(), pid: process.pid, hostname: host() }
      for (const [k, v] of Object.entries(all)) if (v !== undefined && !RESERVED.has(k)) head[k] = v
      head['msg'] = message
      line = safeJson(head)
    } else if (format === 'human') line = `${lvl === 'info' ? '' : `${lvl}: `}${message}`
    else line = textLine(now().toISOString(), lvl, message, all)
    beforeWrite?.()
    stream.write(redact(line) + '\n')
  }
  return {
    debug: (m, f) => write('debug', m, f),
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
    child: (fields) => createLogger(options, { ...bound, ...fields }),
    enabled: (lvl) => rank[lvl] >= min,
  }
}

let hostName: string | undefined
function host(): string {
  hostName ??= hostname()
  return hostName
}

/** A logger that drops everything. */
export const silentLogger: Logger = createLogger({ level: 'silent' })

function textLine(time: string, level: LogLevel, message: string, fields: Record<string, unknown>): string {
  const pairs = Object.entries(fields)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? quoteIfNeeded(v) : safeJson(v)}`)
  return `${time} ${level.padEnd(5)} ${message}${pairs.length ? '  ' + pairs.join(' ') : ''}`
}

function quoteIfNeeded(v: string): string {
  return /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v)
}

function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v, (_k, x: unknown) => (x instanceof Error ? { type: x.name, message: x.message } : typeof x === 'bigint' ? String(x) : x)) ?? String(v)
  } catch {
    return String(v)
  }
}
