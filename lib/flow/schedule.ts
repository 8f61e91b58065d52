/**
 * schedule(): runs a job on a cron schedule in the foreground, never two at
 * once, until a signal aborts (`etl schedule`).
 *
 *     wait for the next tick -> previous run still going? skip (logged) : start a run (not awaited)
 *     signal aborts -> stop waiting -> cancel the run in progress (default) or let it finish -> resolve
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
}

export type ScheduleEvent =
  | { readonly type: 'started'; readonly index: number; readonly scheduledAt: Date }
  | {
      readonly type: 'finished'
      readonly index: number
      readonly scheduledAt: Date
      readonly durationMs: number
      readonly runId?: string
      readonly state?: string
      /** Set when the job rejected (the schedule goes on). */
      readonly error?: { readonly code: string; readonly message: string }
    }
  | { readonly type: 'skipped'; readonly scheduledAt: Date; readonly runningIndex: number }

export interface ScheduleOptions {
  /** Stops the schedule. Without it, the schedule runs forever. */
  readonly signal?: AbortSignal
  /** On stop, `'cancel'` (default) aborts the running job's tick signal and waits for it to end; `'wait'` lets it finish. */
  readonly onStop?: 'cancel' | 'wait'
  /** For a cron given as text. Default `'local'`. */
  readonly timezone?: 'local' | 'utc'
  /** Default: silent. */
  readonly log?: FlowLogger
  /** Called on every run start, run end and skipped tick. Exceptions from it are logged and ignored. */
  readonly onRun?: (event: ScheduleEvent) => void
}

export interface ScheduleSummary {
  readonly started: number
  readonly skipped: number
  readonly failed: number
}

const keys = ['signal', 'onStop', 'timezone', 'log', 'onRun']

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
  let current: { index: number; done: Promise<void>; control: AbortController } | undefined
  let last = Date.now()

  log.info(`${label}: started, first run at ${expr.next(new Date(last)).toISOString()}`, { cron: expr.source })
  while (!signal?.aborted) {
    const at = expr.next(new Date(Math.max(last, Date.now())))
    try {
      await sleepUntil(at.getTime(), signal)
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
        (result) => {
          const { id, state } = (result ?? {}) as ScheduledRun
          if (state === 'Failed') failed++
          log.info(`${label}: run ${index}${id ? ` (${id})` : ''} ended${state ? ` ${state}` : ''}`, { runId: id, state })
          emit({ type: 'finished', index, scheduledAt: at, durationMs: Date.now() - t0, ...(id ? { runId: id } : {}), ...(state ? { state } : {}) })
        },
        (err: unknown) => {
          failed++
          const e = asEtlError(err)
          log.error(`${label}: run ${index} failed: ${e.code} ${e.message}`, { code: e.code })
          emit({ type: 'finished', index, scheduledAt: at, durationMs: Date.now() - t0, error: { code: e.code, message: e.message } })
        },
      )
      .finally(() => {
        if (current?.index === index) current = undefined
      })
    current = { index, done, control }
  }
  const running = current
  if (running) {
    log.info(`${label}: stopping, ${onStop === 'cancel' ? 'cancelling' : 'waiting for'} run ${running.index}`)
    if (onStop === 'cancel') running.control.abort(signal ? cancelledError(signal, 'schedule') : undefined)
    await running.done
  }
  log.info(`${label}: stopped`, { started, skipped, failed })
  return { started, skipped, failed }
}

/** Sleeps until the wall clock reaches `atMs` (re-checked, so an early timer never fires a tick twice). */
async function sleepUntil(atMs: number, signal: AbortSignal | undefined): Promise<void> {
  for (let left = atMs - Date.now(); left > 0; left = atMs - Date.now()) {
    await sleep(Math.min(left, 2 ** 31 - 1), signal, 'schedule')
  }
  if (signal?.aborted) throw cancelledError(signal, 'schedule')
}
