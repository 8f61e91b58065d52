/**
 * What a command gets: its arguments, the environment, where to write, and a
 * signal that SIGINT/SIGTERM abort. Every line written to stderr goes through
 * redact(), so no secret reaches a terminal or a log.
 */
import { resolve } from 'node:path'
import { loadConfigFile, mergeConfig, type EtlConfig } from '../config/config.ts'
import { redact } from '../errors.ts'
import { configFromFlags, type FlagValues } from './args.ts'

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
}

export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void
  warn(message: string, fields?: Record<string, unknown>): void
  error(message: string, fields?: Record<string, unknown>): void
  /** A progress line (terminal only, rewritten in place). */
  progress(message: string): void
  /** Ends a progress line. */
  done(): void
}

export function makeLogger(ctx: Io, config: Pick<EtlConfig, 'log' | 'quiet'>): Logger {
  const json = config.log === 'json'
  const tty = Boolean(ctx.stderr.isTTY) && !json
  let progressShown = false
  const line = (level: string, message: string, fields?: Record<string, unknown>) => {
    if (config.quiet && level === 'info') return
    if (progressShown) {
      ctx.stderr.write('\r\x1b[K')
      progressShown = false
    }
    if (json) ctx.stderr.write(redact(JSON.stringify({ time: new Date().toISOString(), level, msg: message, ...fields })) + '\n')
    else ctx.stderr.write(redact(`${level === 'info' ? '' : `${level}: `}${message}`) + '\n')
  }
  return {
    info: (m, f) => line('info', m, f),
    warn: (m, f) => line('warn', m, f),
    error: (m, f) => line('error', m, f),
    progress(message) {
      if (!tty || config.quiet) return
      ctx.stderr.write(`\r\x1b[K${redact(message)}`)
      progressShown = true
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
