/**
 * `etl worker`: takes partition jobs from the queue and runs them (worker.ts)
 * until its signal aborts. On SIGTERM/SIGINT it stops taking jobs and aborts
 * the partitions in hand: their jobs fail and pg-boss gives them to another
 * worker (a partition is all or nothing, so a half-run one is simply redone).
 */
import type { DbConfig } from '../extract/connect.ts'
import { PARTITION_QUEUE, type Queue } from './queue.ts'
import { runPartition, type PartitionJob, type PartitionOutput } from './worker.ts'

export interface WorkerLog {
  info(message: string): void
  warn(message: string): void
}

export interface ServeOptions {
  readonly queue: Queue
  readonly db: DbConfig
  /** Partitions run at once by this process. Default 1. */
  readonly concurrency?: number
  readonly log: WorkerLog
  readonly signal: AbortSignal
}

export interface ServeSummary {
  readonly completed: number
  readonly failed: number
}

/** Works partitions until `signal` aborts; resolves when the last one in hand has settled. */
export async function serveWorker(options: ServeOptions): Promise<ServeSummary> {
  const { queue, db, log, signal } = options
  let completed = 0
  let failed = 0
  const inHand = new Set<Promise<unknown>>()
  await queue.boss.work<PartitionJob, PartitionOutput>(
    PARTITION_QUEUE,
    { localConcurrency: options.concurrency ?? 1, batchSize: 1, pollingIntervalSeconds: 0.5 },
    async ([job]) => {
      const j = job!
      const { runId, index, count } = j.data
      const label = `run ${runId} partition ${index + 1}/${count}${j.retryCount ? ` (attempt ${j.retryCount + 1})` : ''}`
      log.info(`${label}: started`)
      const work = runPartition(j.data, db, { signal: AbortSignal.any([j.signal, signal]), attempt: j.retryCount })
      inHand.add(work)
      try {
        const out = await work
        completed++
        log.info(`${label}: ${out.extracted} rows in ${(out.durationMs / 1000).toFixed(1)} s`)
        return out
      } catch (err) {
        failed++
        log.warn(`${label}: failed: ${(err as Error).message}`)
        throw err
      } finally {
        inHand.delete(work)
      }
    },
  )
  log.info(`worker: waiting for partitions on queue ${PARTITION_QUEUE} (schema ${queue.settings.schema})`)
  if (!signal.aborted) await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }))
  log.info('worker: stopping')
  await queue.boss.offWork(PARTITION_QUEUE).catch(() => {})
  await Promise.allSettled([...inHand])
  await queue.stop()
  return { completed, failed }
}
