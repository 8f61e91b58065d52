import { EtlError, invalidOption } from '../../errors.ts'
import { databaseFromEnv } from '../../extract/connect.ts'
import type { Command } from '../commands.ts'
import { makeLogger } from '../context.ts'
import { loadScale } from '../optional.ts'
import { noPositionals } from './pipelines.ts'

export const workerCommand: Command = {
  summary: 'run partitions of `etl run --partitions N` from the queue, in the foreground (SIGTERM/SIGINT stop it)',
  description: [
    'Needs the source database (DATABASE_URL or PG*), the queue (ETL_QUEUE_URL, default the source database)',
    "and the coordinator's data folder at the same path (a shared volume when on another machine).",
    'A partition in hand when the worker stops is given to another worker by the queue.',
  ].join('\n'),
  flags: ['concurrency', 'quiet', 'log'],
  async run(ctx, values, positionals) {
    noPositionals(positionals)
    const concurrency = values.concurrency === undefined ? 1 : Number(values.concurrency)
    if (!Number.isInteger(concurrency) || concurrency < 1) throw invalidOption('--concurrency', 'an integer >= 1', values.concurrency)
    const log = makeLogger(ctx, { log: values.log === 'json' ? 'json' : 'text', quiet: values.quiet })
    const db = databaseFromEnv(ctx.env)
    if (!db) throw new EtlError('ETL_CONFIG', 'etl worker needs the source database: set DATABASE_URL or the PG* variables (the same database as the coordinator)')
    const { openQueue, queueSettings, serveWorker } = await loadScale('etl worker')
    const queue = await openQueue(queueSettings(ctx.env, db), { onError: (err) => log.warn(`queue: ${err.message}`) })
    const summary = await serveWorker({ queue, db, concurrency, log, signal: ctx.signal })
    log.info(`worker stopped: ${summary.completed} partition(s) done, ${summary.failed} failed`)
    return 0
  },
}
