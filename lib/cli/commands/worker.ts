import { EtlError, invalidOption } from '../../errors.ts'
import { databaseFromEnv } from '../../extract/connect.ts'
import type { FlagValues } from '../args.ts'
import type { Command } from '../commands.ts'
import { commandConfig, makeLogger } from '../context.ts'
import { loadScale } from '../optional.ts'
import { webhookTargets } from '../run-flow.ts'
import { noPositionals } from './pipelines.ts'
import { runOnce } from './run.ts'

export const workerCommand: Command = {
  summary: 'run partitions of `etl run --partitions N` and the ticks of distributed schedules, from the queue (SIGTERM/SIGINT stop it)',
  description: [
    'Needs the source database (DATABASE_URL or PG*), the queue (ETL_QUEUE_URL, default the source database)',
    "and the coordinator's data folder at the same path (a shared volume when on another machine).",
    'A partition or scheduled run in hand when the worker stops (or dies) is given to another worker by the queue.',
    'Each tick of a distributed schedule (`etl schedule --distributed`) runs once across all workers, one run at a',
    'time per schedule; each run\'s end is logged with its state, exit code and error code.',
  ].join('\n'),
  flags: ['concurrency', 'quiet', 'log'],
  async run(ctx, values, positionals) {
    noPositionals(positionals)
    const concurrency = values.concurrency === undefined ? 1 : Number(values.concurrency)
    if (!Number.isInteger(concurrency) || concurrency < 1) throw invalidOption('--concurrency', 'an integer >= 1', values.concurrency)
    const log = makeLogger(ctx, { log: values.log === 'json' ? 'json' : 'text', quiet: values.quiet })
    const db = databaseFromEnv(ctx.env)
    if (!db) throw new EtlError('ETL_CONFIG', 'etl worker needs the source database: set DATABASE_URL or the PG* variables (the same database as the coordinator)')
    const { openQueue, queueSettings, serveWorker, serveSchedules } = await loadScale('etl worker')
    const { schedulePayload } = await import('../../flow/webhook-payload.ts')
    const { notifyEvent } = await import('../../flow/webhook.ts')
    const queue = await openQueue(queueSettings(ctx.env, db), { onError: (err) => log.warn(`queue: ${err.message}`) })
    const [partitions, scheduled] = await Promise.all([
      serveWorker({ queue: { ...queue, stop: async () => {} }, db, concurrency, log, signal: ctx.signal }),
      serveSchedules({
        queue, log, signal: ctx.signal,
        run: (job, signal) => runOnce({ ...ctx, signal }, { ...(job.args as FlagValues), ...(values.quiet ? { quiet: true } : {}), ...(values.log ? { log: values.log } : {}) }),
        onTick(e) {
          if (e.type !== 'skipped') return
          // The schedule's own webhooks (its --webhook flags or config file) hear of a skipped tick.
          try {
            const config = commandConfig(ctx, e.args as FlagValues)
            const table = config.query ? 'query' : (config.table ?? 'prostate')
            void notifyEvent(schedulePayload('skipped', { flow: 'etl-run', table, cron: e.cron, scheduledAt: e.tick }), webhookTargets(config, ctx.env))
          } catch (err) {
            log.warn(`schedule ${e.schedule}: skipped tick not notified: ${(err as Error).message}`)
          }
        },
      }),
    ])
    await queue.stop()
    log.info(`worker stopped: ${partitions.completed} partition(s) done, ${partitions.failed} failed; scheduled runs: ${scheduled.completed} completed, ${scheduled.failed} failed; ticks: ${scheduled.sent} sent, ${scheduled.skipped} skipped`)
    return 0
  },
}
