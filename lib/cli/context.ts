/**
 * What a command gets: its arguments, the environment, where to write, and a
 * signal that SIGINT/SIGTERM abort. Every line written to stderr goes through
 * redact(), so no secret reaches a terminal or a log.
 */
import { resolve } from 'node:path'
import { loadConfigFile, mergeConfig, type EtlConfig } from '../config/config.ts'
import { redact } from '../errors.ts'
import { configFromFlags, type FlagValues } from './args.ts'
import { createLogger, type LogLevel } from '../flow/log.ts'

const signalNumbers: Readonly<Record<string, number>> = { SIGINT: 2, SIGTERM: 15, SIGHUP: 1 }

/**
 * The exit code of a command stopped by a signal: 128 + its number (130 for
 * SIGINT, 143 for SIGTERM), when the abort's reason names the signal (as
 * runCommandLine's does: `{ signal: 'SIGTERM' }`); else undefined.
 */
export function signalExitCode(signal: AbortSignal): number | undefined {
  const reason: unknown = signal.aborted ? signal.reason : undefined
  const name = reason && typeof reason === 'object' && 'signal' in reason ? String(reason.signal) : undefined
  return name && signalNumbers[name] ? 128 + signalNumbers[name] : undefined
}

export interface Io {
  readonly stdout: NodeJS.WritableStream & { isTTY?: boolean }
  readonly stderr: NodeJS.WritableStream & { isTTY?: boolean }
}

export interface CommandContext extends Io {
  readonly env: NodeJS.ProcessEnv
  readonly cwd: string
  readonly signal: AbortSignal
  /** --log-level, else LOG_LEVEL (checked by main). Default info. */
  readonly logLevel?: LogLevel | 'silent'
}

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void
  info(message: string, fields?: Record<string, unknown>): void
  warn(message: string, fields?: Record<string, unknown>): void
  error(message: string, fields?: Record<string, unknown>): void
  /** A progress line: rewritten in place on a terminal; otherwise an info line every few seconds. */
  progress(message: string, fields?: Record<string, unknown>): void
  /** Ends a progress line. */
  done(): void
}

/** How often a progress line is written when stderr is not a terminal, or with --log json (ETL_PROGRESS_SECONDS, default 5). */
function progressEveryMs(env: NodeJS.ProcessEnv | undefined): number {
  const s = Number(env?.['ETL_PROGRESS_SECONDS'])
  return Number.isFinite(s) && s > 0 ? s * 1000 : 5_000
}

/** The command's logger: lib/flow/log.ts's (human lines, or pino-shaped JSON with --log json) plus progress. */
export function makeLogger(ctx: Io & { readonly logLevel?: LogLevel | 'silent'; readonly env?: NodeJS.ProcessEnv }, config: Pick<EtlConfig, 'log' | 'quiet'>): Logger {
  const json = config.log === 'json'
  const tty = Boolean(ctx.stderr.isTTY) && !json
  let progressShown = false
  const endProgress = () => {
    if (progressShown) ctx.stderr.write('\r\x1b[K')
    progressShown = false
  }
  const level = ctx.logLevel ?? 'info'
  const base = createLogger({ format: json ? 'json' : 'human', level, stream: ctx.stderr, beforeWrite: endProgress })
  const every = progressEveryMs(ctx.env)
  let lastProgress = Date.now() // the first line after PROGRESS_EVERY_MS: a short run prints none
  return {
    debug: (m, f) => base.debug(m, f),
    info: (m, f) => {
      if (!config.quiet) base.info(m, f)
    },
    warn: (m, f) => base.warn(m, f),
    error: (m, f) => base.error(m, f),
    progress(message, fields) {
      if (config.quiet || !base.enabled('info')) return
      if (tty) {
        ctx.stderr.write(`\r\x1b[K${redact(message)}`)
        progressShown = true
        return
      }
      const now = Date.now()
      if (now - lastProgress < every) return
      lastProgress = now
      base.info(message, { progress: true, ...fields })
    },
    done() {
      if (progressShown) ctx.stderr.write('\n')
      progressShown = false
    },
  }
}

/** Config for a command: file (from --config or ./etl.config.json) under flags; paths resolved against cwd. */
export function commandConfig(ctx: CommandContext, values: FlagValues): Readonly<EtlConfig> {
  const file = loadConfigFile(values.config, ctx.cwd)
  const merged = mergeConfig(file, configFromFlags(values))
  const abs = (p: string | undefined) => (p === undefined ? undefined : resolve(ctx.cwd, p))
  return Object.freeze({ ...merged, dataDir: abs(merged.dataDir), suite: abs(merged.suite), metaSuite: abs(merged.metaSuite), input: abs(merged.input) })
}
