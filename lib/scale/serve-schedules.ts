/**
 * The scheduled side of `etl worker`: a ticker (schedules.ts tickPass, every
 * 250 ms) and a consumer of each schedule's queue, one run at a time per
 * schedule on this worker (the queue's stately policy makes it one across the
 * cluster). Runs are the caller's (`run`): the CLI passes `etl run` with the
 * schedule's flags. On SIGTERM the worker stops ticking and taking jobs; a run
 * in hand is cancelled and its job fails, so another worker runs the tick.
 */
import { asEtlError } from '../errors.ts'
import type { Queue } from './queue.ts'
import { listSchedules, recordScheduledRun, scheduleQueue, tickPass, type ScheduledJob, type TickEvent } from './schedules.ts'

export interface ScheduledRunResult {
  readonly exitCode: number
  readonly id?: string
  readonly state?: string
  readonly code?: string
}

export interface ServeSchedulesOptions {
  readonly queue: Queue
  readonly log: { info(m: string, f?: Record<string, unknown>): void; warn(m: string, f?: Record<string, unknown>): void; error(m: string, f?: Record<string, unknown>): void }
  readonly signal: AbortSignal
  /** Runs one tick's job; resolves with its outcome (a failed run resolves: only a stopped worker rejects). */
  readonly run: (job: ScheduledJob, signal: AbortSignal) => Promise<ScheduledRunResult>
  /** A tick event (sent, skipped, missed), e.g. to notify `schedule.skipped`. */
  readonly onTick?: (event: TickEvent) => void
  /** Ms between ticker passes. Default 250. */
  readonly tickMs?: number
}

export interface ServeSchedulesSummary {
  readonly completed: number
  readonly failed: number
  readonly sent: number
  readonly skipped: number
}

export async function serveSchedules(o: ServeSchedulesOptions): Promise<ServeSchedulesSummary> {
  const { queue, log, signal } = o
  let completed = 0
  let failed = 0
  let sent = 0
  let skipped = 0
  const working = new Set<string>()
  const inHand = new Set<Promise<unknown>>()

  const work = async (name: string) => {
    if (working.has(name) || signal.aborted) return
    working.add(name)
    await queue.boss.work<ScheduledJob>(scheduleQueue(name), { localConcurrency: 1, batchSize: 1, pollingIntervalSeconds: 0.5 }, async ([job]) => {
      const j = job!
      const label = `schedule ${j.data.schedule}: tick ${j.data.tick}${j.retryCount ? ` (attempt ${j.retryCount + 1})` : ''}`
      log.info(`${label}: run starting`, { schedule: j.data.schedule, tick: j.data.tick })
      const stop = AbortSignal.any([j.signal, signal])
      const p = o.run(j.data, stop)
      inHand.add(p)
      try {
        const r = await p
        if (stop.aborted && r.exitCode !== 0) throw asEtlError(stop.reason ?? new Error('stopped'))
        const fields = { schedule: j.data.schedule, tick: j.data.tick, runId: r.id, state: r.state, exitCode: r.exitCode, code: r.code, outcome: r.exitCode === 0 ? 'completed' : 'failed' }
        if (r.exitCode === 0) {
          completed++
          log.info(`${label}: run ${r.id ?? ''} ended ${r.state ?? ''}, exit 0`, fields)
        } else {
          failed++
          log.error(`${label}: run ${r.id ?? ''} ended ${r.state ?? 'Failed'}, exit ${r.exitCode}, ${r.code ?? ''}`, fields)
        }
        await recordScheduledRun(queue, j.data.schedule, new Date(j.data.tick), r).catch((err: unknown) => log.warn(`${label}: outcome not recorded: ${asEtlError(err).message}`))
        return r
      } finally {
        inHand.delete(p)
      }
    })
  }

  const refresh = async () => {
    for (const s of await listSchedules(queue)) await work(s.name)
  }
  log.info(`worker: running the distributed schedules of ${queue.settings.schema}`)
  let lastRefresh = 0
  while (!signal.aborted) {
    try {
      if (Date.now() - lastRefresh > 2000) {
        await refresh()
        lastRefresh = Date.now()
      }
      for (const e of await tickPass(queue)) {
        if (e.type === 'sent') {
          sent++
          log.info(`schedule ${e.schedule}: tick ${e.tick.toISOString()} sent${e.missed ? ` (${e.missed} missed tick(s) passed over)` : ''}`, { schedule: e.schedule, tick: e.tick.toISOString(), missed: e.missed })
        } else if (e.type === 'skipped') {
          skipped++
          log.warn(`schedule ${e.schedule}: tick ${e.tick.toISOString()} skipped: ${e.reason}`, { schedule: e.schedule, tick: e.tick.toISOString() })
        } else log.warn(`schedule ${e.schedule}: ${e.missed} missed tick(s) up to ${e.upTo.toISOString()} not run (missed: skip)`, { schedule: e.schedule, missed: e.missed })
        try {
          o.onTick?.(e)
        } catch {
          // a listener's problem
        }
      }
    } catch (err) {
      log.warn(`worker: schedule pass failed: ${asEtlError(err).message}`)
    }
    await new Promise((resolve) => {
      const t = setTimeout(resolve, o.tickMs ?? 250)
      signal.addEventListener('abort', () => { clearTimeout(t); resolve(undefined) }, { once: true })
    })
  }
  for (const name of working) await queue.boss.offWork(scheduleQueue(name)).catch(() => {})
  await Promise.allSettled([...inHand])
  return { completed, failed, sent, skipped }
}
