/**
 * `etl run --partitions N`: the coordinator. It splits the table into key
 * ranges, sends one pg-boss job per range, waits for the workers, and then
 * does what only the whole can do: merge the partitions' validation states
 * into one suite result, join the part files into the run's stage files,
 * stage the rows in the sink, and hand over to the same meta-validation,
 * gate and single commit as the one-pass run (run.ts finishRun).
 *
 *     coordinator: plan ranges ─> send N jobs ──────────────── wait ─> merge states ─> join parts ─> sink (staged) ─> finishRun
 *     workers:                      └─> runPartition(range) x N ─┘
 *
 * A job that fails (a worker error, or a worker that died and stopped its
 * heartbeat) is retried by pg-boss on any worker; a partition that fails
 * every attempt fails the run (ETL_PARTITION) with nothing staged. Whatever
 * happens, the run's part folder is removed at the end and its jobs that are
 * still queued are cancelled.
 */
import { access, mkdir, readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { csvSource } from '../csv/read.ts'
import { EtlError } from '../errors.ts'
import { compile } from '../expectations/engine.ts'
import { columnStatsFromPg, prepassColumns } from '../expectations/prepass.ts'
import { readSuite } from '../expectations/suite.ts'
import type { ColumnStats } from '../expectations/types.ts'
import { connect, type DbConfig } from '../extract/connect.ts'
import { describeSource } from '../extract/relation.ts'
import { task, type FlowContext } from '../flow/index.ts'
import { STAGED_NAME } from '../load/bucket-stage.ts'
import { localStoreBuckets, type LocalSink } from '../load/local-sink.ts'
import type { StagedSink } from '../load/sink.ts'
import { STAGE_FILES } from '../pipelines/files.ts'
import { finishRun, type Staged } from '../pipelines/run.ts'
import { identitySummary } from '../pipelines/identity.ts'
import { applyWindow, incrementalSummary, planIncremental, type IncrementalPlan } from '../pipelines/incremental.ts'
import { identityRequest } from '../pipelines/settings.ts'
import { resolveIdentity, type IdentityKey } from '../extract/identity.ts'
import { qualifiedName } from '../extract/relation.ts'
import type { Settings } from '../pipelines/settings.ts'
import { openSink } from '../pipelines/sink.ts'
import type { PartitionsStageSummary, RunSummary, StageCountsSummary, TransformStageSummary, ValidationStageSummary } from '../pipelines/summary.ts'
import { historyLookup, readHistory, recordHistory } from '../validate/history.ts'
import { writeValidationFiles } from '../validate/results.ts'
import type { Batch } from '../types.ts'
import { concatStageFiles } from './concat.ts'
import { choosePartitionKey, describeRange, planPartitions, rangeSource, type PartitionPlan } from './partition.ts'
import { openQueue, PARTITION_QUEUE, type Queue, type QueueSettings } from './queue.ts'
import { partFiles, type PartitionJob, type PartitionOutput } from './worker.ts'

export interface PartitionedDeps {
  readonly settings: Settings
  readonly db: DbConfig
  readonly queue: QueueSettings
  readonly partitions: number
  readonly partitionKey: string | undefined
  /** Progress lines (partitions done, rows). */
  readonly progress?: (line: string) => void
  readonly warn?: (message: string) => void
  /** How often the coordinator looks at the jobs (ms). Default 500. */
  readonly pollMs?: number
  /** After this long with no partition started, say that workers are needed (ms). Default 15000. */
  readonly idleHintMs?: number
}

/** What the run record keeps of the partitions. */
export type PartitionsSummary = PartitionsStageSummary

/** How many times a partition is tried: 1 + max(2, --retries). */
export const partitionRetries = (settings: Settings): number => Math.max(2, settings.retries)

function check(settings: Settings): string {
  if (!('table' in settings.source)) throw new EtlError('ETL_USAGE', '--partitions splits a table by key ranges: pass --table (a --query cannot be split)')
  if (settings.transform.id === 'sequential')
    throw new EtlError('ETL_USAGE', '--id sequential numbers rows in one ordered pass and cannot be split: with --partitions use --id derived (the default: stable across runs) or --id nanoid')
  return settings.source.table
}

interface JobView {
  id: string
  state: string
  retryCount: number
  output: unknown
  data: PartitionJob
}

async function runJobs(queue: Queue, jobs: readonly PartitionJob[], deps: PartitionedDeps, signal: AbortSignal): Promise<PartitionOutput[]> {
  const { boss } = queue
  const runId = jobs[0]!.runId
  for (const job of jobs)
    await boss.send(PARTITION_QUEUE, job, {
      retryLimit: partitionRetries(deps.settings),
      retryDelay: 1,
      retryBackoff: true,
      retryDelayMax: 30,
      heartbeatSeconds: queue.settings.heartbeatSeconds,
      expireInSeconds: 24 * 3600,
      singletonKey: `${runId}:${job.index}`,
    })
  const started = Date.now()
  let hinted = false
  let lastLine = ''
  const pollMs = deps.pollMs ?? 500
  for (;;) {
    if (signal.aborted) throw signal.reason ?? new EtlError('ETL_CANCELLED', 'stopped')
    const found = (await boss.findJobs(PARTITION_QUEUE, { data: { runId }, limit: 10_000 })) as unknown as JobView[]
    const byIndex = new Map(found.map((j) => [j.data.index, j]))
    const failed = found.find((j) => j.state === 'failed' || j.state === 'cancelled')
    if (failed) {
      const reason = (failed.output as { message?: string } | null)?.message ?? failed.state
      throw new EtlError('ETL_PARTITION', `partition ${failed.data.index + 1}/${jobs.length} failed after ${failed.retryCount + 1} attempt(s): ${reason}; nothing was committed`, {
        details: { partition: failed.data.index, attempts: failed.retryCount + 1 },
      })
    }
    const done = found.filter((j) => j.state === 'completed')
    const rows = done.reduce((n, j) => n + ((j.output as PartitionOutput).extracted ?? 0), 0)
    const active = found.filter((j) => j.state === 'active').length
    const line = `partitions: ${done.length}/${jobs.length} done, ${active} running, ${rows} rows`
    if (line !== lastLine) deps.progress?.(line)
    lastLine = line
    if (done.length === jobs.length && jobs.every((j) => byIndex.get(j.index)?.state === 'completed'))
      return jobs.map((j) => ({ ...(byIndex.get(j.index)!.output as PartitionOutput), attempt: byIndex.get(j.index)!.retryCount }))
    if (!hinted && !done.length && !active && Date.now() - started > (deps.idleHintMs ?? 15_000)) {
      hinted = true
      deps.warn?.(`no worker has taken a partition yet: start \`etl worker\` where the queue (schema ${queue.settings.schema}), the source database and the data folder ${jobs[0]!.parts} are reachable`)
    }
    await sleep(pollMs, undefined, { signal }).catch(() => {}) // an abort ends the wait; the loop's first line throws
  }
}

/** Cancels the run's jobs that have not finished. Never throws. */
async function cancelJobs(queue: Queue, runId: string): Promise<void> {
  try {
    const found = (await queue.boss.findJobs(PARTITION_QUEUE, { data: { runId }, limit: 10_000 })) as unknown as JobView[]
    const open = found.filter((j) => j.state === 'created' || j.state === 'retry' || j.state === 'active').map((j) => j.id)
    if (open.length) await queue.boss.cancel(PARTITION_QUEUE, open)
  } catch {
    // the queue is gone: the jobs expire by themselves
  }
}

function sum(outputs: readonly PartitionOutput[], pick: (o: PartitionOutput) => Readonly<Record<string, number>>): Record<string, number> {
  const out: Record<string, number> = {}
  for (const o of outputs) for (const [k, v] of Object.entries(pick(o))) out[k] = (out[k] ?? 0) + v
  return out
}

/** Counts the batches passing into the sink. */
function counter(): Transform & { rows: number } {
  const t = Object.assign(new Transform({
    objectMode: true,
    highWaterMark: 2,
    transform(batch: Batch, _e, cb) {
      t.rows += batch.rows.length
      cb(null, batch)
    },
  }), { rows: 0 })
  return t
}

async function stagePartitions(deps: PartitionedDeps, ctx: FlowContext, signal: AbortSignal): Promise<Staged & { partitions: PartitionsSummary }> {
  const { settings, db } = deps
  const table = check(settings)
  const suite = await readSuite(settings.suitePath, (m) => ctx.log.warn(m))
  const started = Date.now()
  let plan: PartitionPlan
  let stats: Record<string, ColumnStats> | undefined
  let resolvedIdentity: IdentityKey | undefined
  let incremental: IncrementalPlan | undefined
  const client = await connect(db)
  try {
    const key = await choosePartitionKey(client, table, deps.partitionKey)
    plan = await planPartitions(client, table, key, deps.partitions)
    // The stable ids' key, found once here (catalog), so that every worker hashes the same columns.
    const request = identityRequest(settings)
    if (settings.incremental) {
      // The ranges split the whole table; each reads only its part of the window past the watermark.
      incremental = (await planIncremental(db, settings)).plan
      ctx.summarize('incremental', incrementalSummary(incremental))
      resolvedIdentity = incremental.identity
      ctx.summarize('identity', identitySummary(resolvedIdentity))
    } else if (request) {
      const described = await client.query(`SELECT * FROM ${qualifiedName(table)} LIMIT 0`)
      resolvedIdentity = await resolveIdentity(client, settings.source, described.fields.map((f) => ({ name: f.name, type: 'text' })), request)
      ctx.summarize('identity', identitySummary(resolvedIdentity))
    }
    const prepass = prepassColumns(suite)
    if (prepass.length) stats = await columnStatsFromPg(client, settings.source, prepass)
  } finally {
    await client.end().catch(() => {})
  }
  const runTime = new Date().toISOString()
  const parts = join(settings.dataDir, 'runs', `${ctx.runId}.parts`)
  await mkdir(parts, { recursive: true })
  const { id, ...transform } = settings.transform
  // Loading into the local store: the workers stage its buckets too, and the sink adopts them (no second read of the rows).
  const store = settings.sink === 'local' || !settings.hopsworks
    ? { buckets: await localStoreBuckets(settings.dataDir, settings.featureGroup), primaryKey: settings.featureGroup.primaryKey ?? [settings.transform.idColumn] }
    : undefined
  const jobs: PartitionJob[] = plan.ranges.map((range) => ({
    runId: ctx.runId, index: range.index, count: plan.ranges.length, source: windowed(rangeSource(plan, range) as PartitionJob['source'], incremental), parts, suite, stats,
    batchSize: settings.batchSize, invalidRows: settings.invalidRows, transform: { ...transform, id: id as 'nanoid' | 'derived', runTime }, ...(store ? { store } : {}),
    ...(resolvedIdentity ? { identity: { idColumn: settings.transform.idColumn, resolved: resolvedIdentity } } : {}),
  }))
  deps.progress?.(`split ${table} on ${plan.key.column} into ${jobs.length} partition(s): ${plan.ranges.map(describeRange).join(' ')}`)

  let sink: StagedSink | undefined
  const queue = await openQueue(deps.queue, { onError: (err) => deps.warn?.(`queue: ${err.message}`) })
  try {
    const outputs = await runJobs(queue, jobs, deps, signal)
    const partitioned = Date.now()
    const files = jobs.map((j) => partFiles(parts, j.index))

    // One suite result: the partitions' states merged in key order.
    const extracted = await concatStageFiles(files.map((f) => f.extracted), join(settings.dataDir, STAGE_FILES.extracted))
    // The workers' suites did not see the stable id column (the last one): nor does the merged one.
    const compiled = compile(suite, resolvedIdentity ? extracted.columns.slice(0, -1) : extracted.columns, { ...(stats ? { stats } : {}), history: historyLookup(await readHistory(settings.dataDir, suite.name)) })
    let state = compiled.init()
    for (const f of files) state = compiled.merge(state, compiled.fromJSON(JSON.parse(await readFile(f.state, 'utf8'))))
    const result = compiled.finish(state, { validationTime: new Date().toISOString(), meta: { run_id: ctx.runId, partitions: jobs.length } })
    if (settings.invalidRows === 'quarantine') await concatStageFiles(files.map((f) => f.quarantine), join(settings.dataDir, STAGE_FILES.quarantine))
    const dropped = outputs.reduce((n, o) => n + o.dropped, 0)
    const transformedFile = join(settings.dataDir, STAGE_FILES.transformed)
    const transformed = await concatStageFiles(files.map((f) => f.transformed), transformedFile, { dropped })
    const validationFiles = await writeValidationFiles(settings.dataDir, result, 'extract')
    await recordHistory(settings.dataDir, ctx.runId, new Date().toISOString(), result)
    const total = (pick: (o: PartitionOutput) => number) => outputs.reduce((n, o) => n + pick(o), 0)
    const staging = Date.now()

    // Stage the rows in the sink, as the one-pass run does; the gate decides later.
    sink = await openSink({ settings, columns: transformed.columns, signal, runId: ctx.runId, uniqueKeys: settings.transform.id !== 'derived', validation: () => ({ suite, result }) })
    let loaded: number
    const local = sink as Partial<LocalSink>
    // Every worker staged (a worker of an older version would not have): else the rows are read again, as before.
    const everyPartStaged = async (): Promise<boolean> => (await Promise.all(files.map((f) => access(join(f.store, STAGED_NAME)).then(() => true, () => false)))).every(Boolean)
    const adopted = Boolean(store && local.adopt && local.buckets === store.buckets && (await everyPartStaged()))
    if (store && adopted) {
      loaded = await local.adopt!(files.map((f) => f.store))
      deps.progress?.(`the workers staged ${loaded} rows in the local store's ${store.buckets} buckets`)
    } else {
      const atSink = counter()
      await pipeline(csvSource(transformedFile, { batchSize: settings.batchSize, trustedLines: true }), atSink, sink.writable, { signal })
      loaded = atSink.rows
    }

    const validation: ValidationStageSummary = {
      success: result.success, statistics: result.statistics, rows: total((o) => o.validated), invalidRows: total((o) => o.invalid),
      quarantinedRows: total((o) => o.quarantined), result, files: Object.values(validationFiles), durationMs: staging - started,
    }
    const transformSummary: TransformStageSummary = {
      rows: transformed.rows, dropped, missing: sum(outputs, (o) => o.missing), filled: sum(outputs, (o) => o.filled), id: settings.transform.id,
      datetime: settings.transform.datetime, runTime, columns: transformed.columns, file: transformedFile, durationMs: staging - started,
    }
    const counts: StageCountsSummary = {
      extracted: total((o) => o.extracted), validated: validation.rows, quarantined: validation.quarantinedRows, transformed: transformed.rows, dropped, loaded,
    }
    const partitions: PartitionsSummary = {
      key: plan.key.column,
      ranges: outputs.map((o) => ({ index: o.index, range: describeRange(plan.ranges[o.index]!), rows: o.extracted, attempts: o.attempt + 1, durationMs: o.durationMs })),
      durationMs: partitioned - started,
      staging: adopted ? 'workers' : 'coordinator',
    }
    ctx.summarize('partitions', partitions)
    ctx.summarize('extract', { source: describeSource(settings.source), rows: counts.extracted, columns: extracted.columns, file: join(settings.dataDir, STAGE_FILES.extracted), durationMs: staging - started })
    ctx.summarize('validation', validation)
    ctx.summarize('transform', transformSummary)
    ctx.summarize('counts', counts)
    return { sink, suite, validation, transform: transformSummary, counts, partitions , ...(incremental ? { incremental } : {}) }
  } catch (err) {
    await sink?.abort().catch(() => {})
    throw err
  } finally {
    await cancelJobs(queue, ctx.runId)
    await queue.stop()
    await rm(parts, { recursive: true, force: true }).catch(() => {})
  }
}

/** The partitioned ETL as a flow function body: partitions, then the one-pass run's meta-validation, gate and commit. */
export async function runPartitioned(deps: PartitionedDeps, ctx: FlowContext): Promise<RunSummary> {
  const metaSuite = await readSuite(deps.settings.metaSuitePath) // a bad meta suite is an error before any job is sent
  const partitionsTask = task({ name: 'partitions' }, (_: undefined, tctx) => stagePartitions(deps, ctx, tctx.signal))
  const staged = await partitionsTask(undefined, { signal: ctx.signal })
  return finishRun(deps, ctx, staged, metaSuite)
}

/** A range's query within the incremental window, if any. */
function windowed(source: PartitionJob['source'], plan: IncrementalPlan | undefined): PartitionJob['source'] {
  return plan ? { query: applyWindow(source.query, plan) } : source
}
