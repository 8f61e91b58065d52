/**
 * A small logger for flows and schedules: one line per event on stderr (or a
 * given stream), JSON lines when asked, human text otherwise. Every line goes
 * through `redact()`, so a registered secret or a URL password never reaches
 * a terminal or a log collector.
 *
 * Anything with `info`, `warn` and `error` methods taking `(message, fields)`
 * can stand in for it (the CLI's logger does): flows only call those, plus
 * `debug` when it exists.
 */
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
}

export interface LoggerOptions {
  /** `'json'`: one JSON object per line (`time`, `level`, `msg`, fields). Default `'text'`. */
  readonly format?: 'json' | 'text'
  /** Lowest level written; `'silent'` writes nothing. Default `'info'`. */
  readonly level?: LogLevel | 'silent'
  /** Where lines go. Default `process.stderr`. */
  readonly stream?: { write(chunk: string): unknown }
  /** Clock for the `time` field. Default `() => new Date()`. */
  readonly now?: () => Date
}

const rank: Record<LogLevel | 'silent', number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 }

/**
 * Creates a logger. Text lines look like
 * `2024-01-02T03:04:05.123Z warn  task extract: attempt 1 failed, retrying in 0.5s  attempt=1 code=ETL_DB_CONNECT`.
 * Field values that are not strings are written as JSON. Throws ETL_INVALID_OPTION for an unknown format or level.
 */
export function createLogger(options: LoggerOptions = {}, bound: Readonly<Record<string, unknown>> = {}): Logger {
  const { format = 'text', level = 'info', stream = process.stderr, now = () => new Date() } = options
  if (format !== 'json' && format !== 'text') throw invalidOption('log.format', "'json' or 'text'", format)
  if (!(level in rank)) throw invalidOption('log.level', 'debug, info, warn, error or silent', level)
  const min = rank[level]
  const write = (lvl: LogLevel, message: string, fields?: Readonly<Record<string, unknown>>) => {
    if (rank[lvl] < min) return
    const all = { ...bound, ...fields }
    const time = now().toISOString()
    const line = format === 'json' ? safeJson({ time, level: lvl, msg: message, ...all }) : textLine(time, lvl, message, all)
    stream.write(redact(line) + '\n')
  }
  return {
    debug: (m, f) => write('debug', m, f),
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
    child: (fields) => createLogger(options, { ...bound, ...fields }),
  }
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
    return JSON.stringify(v, (_k, x: unknown) => (x instanceof Error ? { name: x.name, message: x.message } : typeof x === 'bigint' ? String(x) : x)) ?? String(v)
  } catch {
    return String(v)
  }
}
