/**
 * `etl schedule`: `etl run` at every tick of a cron expression, in the
 * foreground (lib/flow/schedule.ts), counting what each run did: completed,
 * failed (state, exit code and error code logged), cancelled, skipped ticks.
 * A run that fails before its record exists (bad config, no database) still
 * fires the failure webhooks, as does a skipped tick (`schedule.skipped`).
 *
 * Exit code: 0 when no run failed; otherwise the exit code of the last failed
 * run (3 for a quality gate, 2 for configuration, 1 for the rest), whether the
 * schedule stopped on a signal or after `--max-failures N` failures in a row.
 */
import { EtlError, invalidOption } from '../../errors.ts'
import { isTimeZone, notifyEvent, parseCron, schedule, schedulePayload, type Cron } from '../../flow/index.ts'
import type { Command } from '../commands.ts'
import { commandConfig, makeLogger } from '../context.ts'
import { reportLastRun } from '../health.ts'
import { webhookTargets } from '../run-flow.ts'
import { runCommand, runOnce } from './run.ts'
import { registerDistributed } from './schedules.ts'

/** The cron expression of `etl schedule` in its zone (`--tz`, default UTC). Throws ETL_USAGE. */
export function scheduleCron(expr: string | undefined, tz: string | undefined): Cron {
  if (!expr) throw new EtlError('ETL_USAGE', 'etl schedule needs --cron "<expr>" (5 fields, or 6 with seconds), or "cron" in etl.config.json')
  const zone = tz === undefined || tz === 'UTC' || tz === 'utc' ? 'utc' : tz
  if (zone !== 'local' && zone !== 'utc' && !isTimeZone(zone)) throw invalidOption('--tz', 'UTC, local or an IANA time zone such as Europe/Oslo', tz)
  try {
    return parseCron(expr, { timezone: zone })
  } catch (err) {
    throw new EtlError('ETL_USAGE', `invalid --cron ${JSON.stringify(expr)}: ${(err as Error).message}`, { cause: err })
  }
}

export const scheduleCommand: Command = {
  summary: 'run `etl run` on a cron schedule, in the foreground (never overlapping; SIGTERM/SIGINT stop it cleanly)',
  description: [
    'A tick that comes while a run is still going is skipped and logged. Each run\'s end is logged with its state,',
    'exit code and error code; the summary counts completed, failed and cancelled runs and skipped ticks.',
    'On SIGTERM the run in progress is cancelled (nothing committed, recorded as Cancelled) and the schedule ends.',
    'Exit code: the exit code of the last failed run (with --max-failures N, the schedule stops after N failures',
    'in a row); with no failed run, 143 when stopped by SIGTERM (130 by SIGINT).',
  ].join('\n'),
  flags: ['cron', 'tz', 'max-failures', 'distributed', 'name', 'missed', ...runCommand.flags],
  async run(ctx, values, positionals) {
    if (positionals.length) throw new EtlError('ETL_USAGE', `unexpected argument: ${positionals[0]}`)
    const config = commandConfig(ctx, values)
    const cron = scheduleCron(config.cron, config.timezone)
    if (values.distributed) return registerDistributed(ctx, values, config, cron)
    if (values.name !== undefined || values.missed !== undefined) throw new EtlError('ETL_USAGE', '--name and --missed are for a distributed schedule: add --distributed')
    const maxFailures = values['max-failures'] === undefined ? undefined : Number(values['max-failures'])
    if (maxFailures !== undefined && (!Number.isInteger(maxFailures) || maxFailures < 1)) throw invalidOption('--max-failures', 'an integer >= 1', values['max-failures'])
    const log = makeLogger(ctx, config)
    const zone = cron.timezone === 'utc' ? 'UTC' : cron.timezone
    log.info(`schedule: ${config.cron} (${zone}); next run at ${cron.next(new Date()).toISOString()}`)
    const rest = Object.fromEntries(Object.entries(values).filter(([k]) => k !== 'cron' && k !== 'tz' && k !== 'max-failures'))
    const targets = webhookTargets(config, ctx.env)
    const table = config.query ? 'query' : (config.table ?? 'prostate')
    const pending = new Set<Promise<unknown>>()
    const send = (p: Promise<unknown>) => {
      pending.add(p)
      void p.finally(() => pending.delete(p))
    }
    const summary = await schedule(cron, async (tick) => {
      log.info(`schedule: run #${tick.index} for ${tick.scheduledAt.toISOString()}`)
      const r = await runOnce({ ...ctx, signal: tick.signal }, rest)
      return { exitCode: r.exitCode, ...(r.id ? { id: r.id } : {}), ...(r.state ? { state: r.state } : {}), ...(r.code ? { code: r.code } : {}), ...(r.message ? { message: r.message } : {}) }
    }, {
      signal: ctx.signal,
      ...(maxFailures ? { maxFailures } : {}),
      log: { info: (m, f) => log.info(m, f), warn: (m, f) => log.warn(m, f), error: (m, f) => log.error(m, f) },
      onRun(e) {
        if (e.type === 'finished' && e.outcome !== 'cancelled') {
          reportLastRun({ ...(e.runId ? { runId: e.runId } : {}), ...(e.state ? { state: e.state } : {}), exitCode: e.exitCode ?? (e.outcome === 'failed' ? 1 : 0),
            ...(e.error ? { code: e.error.code } : {}), end: new Date().toISOString(), failuresInARow: e.consecutiveFailures })
        }
        // A run with a record sent its own webhook; these have none: a skipped tick, a run that failed before it started.
        if (e.type === 'skipped') send(notifyEvent(schedulePayload('skipped', { flow: 'etl-run', table, cron: cron.source, scheduledAt: e.scheduledAt, runningIndex: e.runningIndex }), targets))
        else if (e.type === 'finished' && e.outcome === 'failed' && !e.runId && e.error)
          send(notifyEvent(schedulePayload('failed', { flow: 'etl-run', table, cron: cron.source, scheduledAt: e.scheduledAt, error: e.error }), targets))
      },
    })
    await Promise.allSettled([...pending])
    const s = summary
    log.info(`schedule stopped${s.stoppedBy === 'max-failures' ? ` after ${maxFailures} failures in a row` : ''}: ${s.started} runs started, ${s.completed} completed, ${s.failed} failed, ${s.cancelled} cancelled, ${s.skipped} ticks skipped`,
      { ...s })
    if (!s.lastFailure) return 0
    log.error(`last failure: run ${s.lastFailure.index}${s.lastFailure.runId ? ` (${s.lastFailure.runId})` : ''}: ${s.lastFailure.code}, exit ${s.lastFailure.exitCode}`)
    return s.lastFailure.exitCode
  },
}
