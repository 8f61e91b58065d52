/**
 * schedule(): runs a job on a cron schedule in the foreground, never two at
 * once, until a signal aborts (`etl schedule`).
 *
 *     wait for the next tick -> previous run still going? skip (logged) : start a run (not awaited)
 *     run ends -> completed | failed | cancelled (logged with state, exit code, error code; counted)
 *     signal aborts, or `maxFailures` failures in a row -> stop waiting -> cancel the run in progress
 *       (default) or let it finish -> resolve with the counts
 *
 * Ticks missed while the process was not scheduled (a suspended machine) are
 * not caught up: the next tick is always computed from now.
 */
import { asEtlError, invalidOption } from '../errors.ts'
import { parseCron, type Cron } from './cron.ts'
import { silentLogger, type FlowLogger } from './log.ts'
import { checkFunction, rejectUnknownKeys } from './options.ts'
import { cancelledError, sleep } from './retry.ts'

/** What the job gets for each tick. */
export interface Tick {
  /** 1-based count of runs started. */
  readonly index: number
  readonly scheduledAt: Date
  /** Aborts when the schedule stops with `onStop: 'cancel'`; pass it to the flow run. */
  readonly signal: AbortSignal
}

/** What a job may resolve with, so the run is logged by id and state (a FlowRunOutcome fits). */
export interface ScheduledRun {
  readonly id?: string
  readonly state?: string
  /** The run's exit code (0 ok): when given, it decides whether the run failed. */
  readonly exitCode?: number
  /** The error code a failed run ended with, and its message. */
  readonly code?: string
  readonly message?: string
}

/** How a run ended, for the counts: a non-zero exit code (or, without one, a state other than Completed/Cancelled) is a failure. */
export type RunOutcome = 'completed' | 'failed' | 'cancelled'

export type ScheduleEvent =
  | { readonly type: 'started'; readonly index: number; readonly scheduledAt: Date }
  | {
      readonly type: 'finished'
      readonly index: number
      readonly scheduledAt: Date
      readonly durationMs: number
      readonly runId?: string
      readonly state?: string
      readonly outcome: RunOutcome
      readonly exitCode?: number
      /** Failures in a row, this one included (0 when the run did not fail). */
      readonly consecutiveFailures: number
      /** Set when the job rejected or the run failed (the schedule goes on). */
      readonly error?: { readonly code: string; readonly message: string }
    }
  | { readonly type: 'skipped'; readonly scheduledAt: Date; readonly runningIndex: number }

export interface ScheduleOptions {
  /** Stops the schedule. Without it, the schedule runs forever. */
  readonly signal?: AbortSignal
  /** On stop, `'cancel'` (default) aborts the running job's tick signal and waits for it to end; `'wait'` lets it finish. */
  readonly onStop?: 'cancel' | 'wait'
  /** For a cron given as text: `'local'` (default), `'utc'` or an IANA zone. */
  readonly timezone?: string
  /** Default: silent. */
  readonly log?: FlowLogger
  /** Called on every run start, run end and skipped tick. Exceptions from it are logged and ignored. */
  readonly onRun?: (event: ScheduleEvent) => void
  /** Stop the schedule after this many failed runs in a row (the summary says so). Default: never. */
  readonly maxFailures?: number
}

export interface ScheduleSummary {
  readonly started: number
  readonly completed: number
  readonly failed: number
  readonly cancelled: number
  readonly skipped: number
  /** Why the schedule ended: its signal, or `maxFailures` failures in a row. */
  readonly stoppedBy: 'signal' | 'max-failures'
  /** The last failed run, if any run failed. */
  readonly lastFailure?: { readonly index: number; readonly runId?: string; readonly exitCode: number; readonly code: string }
}

const keys = ['signal', 'onStop', 'timezone', 'log', 'onRun', 'maxFailures']

function outcomeOf(result: ScheduledRun): RunOutcome {
  if (result.exitCode !== undefined) return result.exitCode === 0 ? 'completed' : result.state === 'Cancelled' && result.code === 'ETL_CANCELLED' ? 'cancelled' : 'failed'
  return result.state === undefined || result.state === 'Completed' ? 'completed' : result.state === 'Cancelled' ? 'cancelled' : 'failed'
}

/**
 * Runs `job` at every tick of `cron` until `options.signal` aborts; resolves
 * with counts once the run in progress (if any) has ended. A job that rejects
 * is logged and counted; the schedule goes on. Throws ETL_INVALID_OPTION for a
 * bad expression or option.
 */
export async function schedule(
  cron: string | Cron, job: (tick: Tick) => Promise<ScheduledRun | void>, options: ScheduleOptions = {},
): Promise<ScheduleSummary> {
  rejectUnknownKeys('schedule', options, keys)
  const { signal, onStop = 'cancel', log = silentLogger, onRun } = options
  if (onStop !== 'cancel' && onStop !== 'wait') throw invalidOption('schedule.onStop', "'cancel' or 'wait'", onStop)
  checkFunction('schedule job', job)
  checkFunction('schedule.onRun', onRun)
  const { maxFailures } = options
  if (maxFailures !== undefined && (!Number.isInteger(maxFailures) || maxFailures < 1)) throw invalidOption('schedule.maxFailures', 'an integer >= 1', maxFailures)
  const giveUp = new AbortController()
  const stop = signal ? AbortSignal.any([signal, giveUp.signal]) : giveUp.signal
  const expr = typeof cron === 'string' ? parseCron(cron, { timezone: options.timezone }) : cron
  const emit = (event: ScheduleEvent) => {
    try {
      onRun?.(event)
    } catch (err) {
      log.warn('schedule: onRun threw', { error: asEtlError(err).message })
    }
  }
  const label = `schedule ${JSON.stringify(expr.source)}`
  let started = 0
  let skipped = 0
  let failed = 0
  let completed = 0
  let cancelled = 0
  let inARow = 0
  let lastFailure: ScheduleSummary['lastFailure']
  let current: { index: number; done: Promise<void>; control: AbortController } | undefined
  let last = Date.now()

  log.info(`${label}: started, first run at ${expr.next(new Date(last)).toISOString()}`, { cron: expr.source })
  while (!stop.aborted) {
    const at = expr.next(new Date(Math.max(last, Date.now())))
    try {
      await sleepUntil(at.getTime(), stop)
    } catch {
      break
    }
    last = at.getTime()
    if (current) {
      skipped++
      log.warn(`${label}: tick ${at.toISOString()} skipped, run ${current.index} still going`, { scheduledAt: at.toISOString() })
      emit({ type: 'skipped', scheduledAt: at, runningIndex: current.index })
      continue
    }
    const index = ++started
    const control = new AbortController()
    log.info(`${label}: run ${index} starting`, { scheduledAt: at.toISOString() })
    emit({ type: 'started', index, scheduledAt: at })
    const t0 = Date.now()
    const done = Promise.resolve()
      .then(() => job({ index, scheduledAt: at, signal: control.signal }))
      .then(
        (result) => (result ?? {}) as ScheduledRun,
        (err: unknown): ScheduledRun => {
          const e = asEtlError(err)
          log.error(`${label}: run ${index} failed before it was recorded: ${e.code} ${e.message}`, { code: e.code })
          return { state: 'Failed', exitCode: e.exitCode, code: e.code, message: e.message }
        },
      )
      .then((result) => {
        const { id, state, exitCode, code, message } = result
        const outcome = outcomeOf(result)
        if (outcome === 'completed') completed++
        else if (outcome === 'cancelled') cancelled++
        if (outcome === 'failed') {
          failed++
          inARow++
          lastFailure = { index, ...(id ? { runId: id } : {}), exitCode: exitCode ?? 1, code: code ?? 'ETL_INTERNAL' }
        } else if (outcome === 'completed') inARow = 0
        const tail = `${state ? ` ${state}` : ''}${exitCode === undefined ? '' : `, exit ${exitCode}`}${code ? `, ${code}` : ''}`
        const fields = { runId: id, state, exitCode, code, outcome }
        if (outcome === 'failed') log.error(`${label}: run ${index}${id ? ` (${id})` : ''} ended${tail} (${inARow} failure(s) in a row)`, fields)
        else log.info(`${label}: run ${index}${id ? ` (${id})` : ''} ended${tail}`, fields)
        emit({
          type: 'finished', index, scheduledAt: at, durationMs: Date.now() - t0, outcome, consecutiveFailures: outcome === 'failed' ? inARow : 0,
          ...(id ? { runId: id } : {}), ...(state ? { state } : {}), ...(exitCode === undefined ? {} : { exitCode }),
          ...(outcome === 'failed' ? { error: { code: code ?? 'ETL_INTERNAL', message: message ?? `run ${index} ended ${state ?? 'with a failure'}` } } : {}),
        })
        if (maxFailures !== undefined && inARow >= maxFailures && !giveUp.signal.aborted) {
          log.error(`${label}: ${inARow} failures in a row (--max-failures ${maxFailures}): stopping`)
          giveUp.abort(new Error('max-failures'))
        }
      })
      .finally(() => {
        if (current?.index === index) current = undefined
      })
    current = { index, done, control }
  }
  const running = current
  if (running) {
    log.info(`${label}: stopping, ${onStop === 'cancel' ? 'cancelling' : 'waiting for'} run ${running.index}`)
    if (onStop === 'cancel') running.control.abort(cancelledError(stop, 'schedule'))
    await running.done
  }
  const stoppedBy = giveUp.signal.aborted ? 'max-failures' : 'signal'
  log.info(`${label}: stopped`, { started, completed, failed, cancelled, skipped, stoppedBy })
  return { started, completed, failed, cancelled, skipped, stoppedBy, ...(lastFailure ? { lastFailure } : {}) }
}

/** Sleeps until the wall clock reaches `atMs` (re-checked, so an early timer never fires a tick twice). */
async function sleepUntil(atMs: number, signal: AbortSignal | undefined): Promise<void> {
  for (let left = atMs - Date.now(); left > 0; left = atMs - Date.now()) {
    await sleep(Math.min(left, 2 ** 31 - 1), signal, 'schedule')
  }
  if (signal?.aborted) throw cancelledError(signal, 'schedule')
}
