/**
 * `etl run`: the whole ETL in one pass, with bounded memory.
 *
 *     pgSource ─> [csvTee(extracted.csv) ─> validate(suite) ─> stamp() ─> csvTee(transformed.csv)] ─> sink (staged)
 *                                            │ quarantine.csv                                          │
 *                                            └─ summary ─┐                                             │
 *                                 meta-validate(results, counts) ─> gate ─┬─ passed / warn ─> sink.commit()
 *                                                                         └─ failed + abort ─> sink.abort(), exit 3
 *
 * The bracketed stages are fused into one stream (lib/step.ts). Each row is
 * formatted as CSV once: the source keeps PostgreSQL's own text as its lines
 * (no stage here changes a row in place), the transform extends them, the
 * tees and the sink reuse them (lib/csv/lines.ts).
 *
 * Steps are flow tasks: `stream` (retried on a fault: the sink is aborted
 * first, so a retry starts clean and never loads twice), `meta-validate`, and
 * `commit` (never retried: once started, a load is not repeated).
 */
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import type { Lineage } from '../csv/lineage.ts'
import { csvTeeStep, type StageFileWriter } from '../csv/stage-file.ts'
import { EtlError } from '../errors.ts'
import { readSuite } from '../expectations/suite.ts'
import { columnStatsFromPg, prepassColumns } from '../expectations/prepass.ts'
import type { Suite, SuiteResult } from '../expectations/types.ts'
import { connect, type DbConfig } from '../extract/connect.ts'
import { pgSource } from '../extract/pg-source.ts'
import { describeSource } from '../extract/relation.ts'
import { task, type FlowContext } from '../flow/index.ts'
import type { StagedSink } from '../load/sink.ts'
import { planColumns } from '../transform/index.ts'
import { stampStep } from '../transform/stamp.ts'
import { fuse } from '../step.ts'
import { metaValidate } from '../validate/meta.ts'
import { quarantineCsv } from '../validate/quarantine.ts'
import { historyLookup, readHistory, recordHistory } from '../validate/history.ts'
import { writeValidationFiles } from '../validate/results.ts'
import { validateStep } from '../validate/validate.ts'
import { openSink } from './sink.ts'
import { identityRequest, type Settings } from './settings.ts'
import { identitySummary } from './identity.ts'
import { incrementalSummary, planIncremental, saveWatermark, type IncrementalPlan } from './incremental.ts'
import { reconcile, warnAfterCommit } from './warnings.ts'
import type { RunSummary, StageCountsSummary, TransformStageSummary, ValidationStageSummary } from './summary.ts'
import { decideGate, gateReport } from './gate.ts'
import { STAGE_FILES } from './files.ts'


export interface RunDeps {
  readonly settings: Settings
  readonly db: DbConfig
  /** Called per batch: rows so far at the source. */
  readonly onRows?: (stage: string, rows: number) => void
  readonly warn?: (message: string) => void
}

/** A run whose rows are staged in the sink (not yet visible), with what the gate needs. */
export interface Staged {
  readonly sink: StagedSink
  readonly suite: Suite
  readonly validation: ValidationStageSummary
  readonly transform: TransformStageSummary
  readonly counts: StageCountsSummary
  /** The extract the stage files descend from (extracted.csv's id and checksum), named by the meta-validation's files. */
  readonly lineage?: Lineage
  /** An incremental run: the watermark to record once the commit succeeded. */
  readonly incremental?: IncrementalPlan
}

async function stageAll(deps: RunDeps, ctx: FlowContext, signal: AbortSignal): Promise<Staged> {
  const { settings, db } = deps
  const suite = await readSuite(settings.suitePath, (m) => ctx.log.warn(m))
  const started = Date.now()
  // An incremental run reads the window past the watermark; its ids' key was resolved on the table itself.
  const incremental = settings.incremental ? await planIncremental(db, settings) : undefined
  if (incremental) ctx.summarize('incremental', incrementalSummary(incremental.plan))
  const request = identityRequest(settings, (key) => ctx.summarize('identity', identitySummary(key)))
  const identity = request && incremental ? { ...request, resolved: incremental.plan.identity } : request
  const source = pgSource(db, incremental?.source ?? settings.source, { batchSize: settings.batchSize, signal, keepLines: true, ...(identity ? { identity } : {}) })
  source.once('error', () => {}) // an opening error comes through `columns`, awaited next; later ones through pipeline()
  let columns
  try {
    columns = await source.columns
  } catch (err) {
    source.destroy()
    throw err
  }
  let sink: StagedSink | undefined
  // Every stage file of the run names extracted.csv as its extract (lib/csv/lineage.ts); it is committed first.
  let extractedFile: StageFileWriter | undefined
  const lineage = (): Lineage | undefined => extractedFile?.lineage
  const quarantine = settings.invalidRows === 'quarantine' ? quarantineCsv(join(settings.dataDir, STAGE_FILES.quarantine), { lineage }) : undefined
  try {
    const prepass = prepassColumns(suite)
    let stats
    if (prepass.length) {
      const client = await connect(db)
      try {
        stats = await columnStatsFromPg(client, settings.source, prepass)
      } finally {
        await client.end()
      }
    }
    const planned = planColumns(columns, settings.transform)
    let validationResult: SuiteResult | undefined
    // The key is the id column, and ids made here (nanoid, sequential) never repeat within a run.
    sink = await openSink({ settings, columns: planned, signal, runId: ctx.runId, uniqueKeys: settings.transform.id !== 'derived', validation: () => (validationResult ? { suite, result: validationResult } : undefined) })
    const validator = validateStep({ suite, policy: settings.invalidRows, quarantine, stats, meta: { run_id: ctx.runId }, hideColumn: identity?.idColumn, history: historyLookup(await readHistory(settings.dataDir, suite.name)) })
    const stamper = stampStep({ ...settings.transform, runTime: new Date() })
    // The tees count: every batch from the source passes the first, every batch for the sink the second.
    let atSource = 0
    const extracted = csvTeeStep(join(settings.dataDir, STAGE_FILES.extracted), {
      keepLines: true,
      extractId: ctx.runId,
      onBatch: (batch) => deps.onRows?.('stream', (atSource += batch.rows.length)),
    })
    extractedFile = extracted.writer
    const transformed = csvTeeStep(join(settings.dataDir, STAGE_FILES.transformed), { sidecar: () => ({ dropped: stamper.counts.dropped }), lineage })
    // The four stages in one stream (lib/step.ts): fewer batches alive at once, a flat and lower RSS.
    await pipeline(source, fuse([extracted, validator, stamper, transformed]), sink.writable, { signal })
    const v = await validator.summary
    validationResult = v.result
    const files = await writeValidationFiles(settings.dataDir, v.result, 'extract', lineage())
    await recordHistory(settings.dataDir, ctx.runId, new Date().toISOString(), v.result)
    const t = await stamper.summary
    const now = Date.now()
    const validation: ValidationStageSummary = {
      success: v.result.success, statistics: v.result.statistics, rows: v.rows, invalidRows: v.invalidRows,
      quarantinedRows: v.quarantinedRows, result: v.result, files: Object.values(files), durationMs: now - started,
    }
    const transform: TransformStageSummary = { ...t, file: join(settings.dataDir, STAGE_FILES.transformed), durationMs: now - started }
    ctx.summarize('extract', { source: describeSource(settings.source), rows: extracted.writer.rows, columns, file: join(settings.dataDir, STAGE_FILES.extracted), durationMs: now - started })
    ctx.summarize('validation', validation)
    ctx.summarize('transform', transform)
    const counts: StageCountsSummary = {
      extracted: extracted.writer.rows, validated: v.rows, quarantined: v.quarantinedRows, transformed: t.rows, dropped: t.dropped, loaded: transformed.writer.rows,
    }
    ctx.summarize('counts', counts)
    const extractLineage = lineage()
    return { sink, suite, validation, transform, counts, ...(extractLineage ? { lineage: extractLineage } : {}), ...(incremental ? { incremental: incremental.plan } : {}) }
  } catch (err) {
    source.destroy()
    await sink?.abort().catch(() => {})
    await quarantine?.discard()
    throw err
  }
}

/** The one-pass ETL as a flow function body. Resolves with the run summary; throws ETL_QUALITY_GATE (exit 3) when the gate stops the load. */
export async function runOnePass(deps: RunDeps, ctx: FlowContext): Promise<RunSummary> {
  const { settings } = deps
  const retry = { retries: settings.retries, retryDelaySeconds: settings.retryDelay }
  const metaSuite = await readSuite(settings.metaSuitePath) // a bad meta suite is an error before any row moves
  const streamTask = task({ name: 'stream', ...retry }, (_: undefined, tctx) => stageAll(deps, ctx, tctx.signal))
  const staged = await streamTask(undefined, { signal: ctx.signal })
  return finishRun(deps, ctx, staged, metaSuite)
}

/**
 * What follows the staging of a run, however it was staged (one pass here, or
 * partitions merged by lib/scale): meta-validation, the gate, and the commit.
 */
export async function finishRun(deps: Pick<RunDeps, 'settings' | 'warn'>, ctx: FlowContext, staged: Staged, metaSuite: Suite): Promise<RunSummary> {
  const { settings } = deps
  const metaTask = task({ name: 'meta-validate' }, async () => {
    const started = Date.now()
    const result = metaValidate({ validation: staged.validation.result, declared: staged.suite, counts: staged.counts, metaSuite })
    const files = await writeValidationFiles(settings.dataDir, result, 'meta_extract', staged.lineage)
    const summary: ValidationStageSummary = {
      success: result.success, statistics: result.statistics, rows: result.results.length, invalidRows: 0, quarantinedRows: 0,
      result, files: Object.values(files), durationMs: Date.now() - started,
    }
    ctx.summarize('meta', summary)
    return summary
  })
  let meta: ValidationStageSummary
  try {
    meta = await metaTask(undefined, { signal: ctx.signal })
  } catch (err) {
    await staged.sink.abort().catch(() => {})
    throw err
  }

  const gate = decideGate(staged.validation.result, meta.result)
  if (!gate.passed && settings.onInvalid === 'abort') {
    await staged.sink.abort()
    ctx.summarize('gate', { passed: false, policy: settings.onInvalid, failed: gate.failed, committed: false })
    throw new EtlError('ETL_QUALITY_GATE', `the quality gate stopped the load; nothing was loaded.\n${gateReport(staged.validation.result, meta.result)}`, { details: { failed: gate.failed } })
  }
  if (!gate.passed) deps.warn?.(`WARNING: the data failed its quality gate but --on-invalid warn loads it anyway.\n${gateReport(staged.validation.result, meta.result)}`)

  const commitTask = task({ name: 'commit' }, async () => {
    const started = Date.now()
    try {
      const load = await staged.sink.commit()
      return { ...load, durationMs: Date.now() - started }
    } catch (err) {
      throw err instanceof EtlError ? new EtlError(err.code, err.message, { cause: err, details: { ...err.details, retryable: false } }) : err
    }
  })
  const load = await commitTask(undefined, { signal: ctx.signal })
  ctx.summarize('gate', { passed: gate.passed, policy: settings.onInvalid, failed: gate.failed, committed: true })
  ctx.summarize('load', load)
  // Committed: from here on nothing may fail the run (a caller would retry a load that happened). A watermark
  // that could not be written only means the next run reads these rows again, and merges them.
  for (const w of load.warnings ?? []) warnAfterCommit(ctx, deps.warn, w)
  if (staged.incremental) {
    try {
      await saveWatermark(settings, staged.incremental, ctx.runId)
    } catch (err) {
      warnAfterCommit(ctx, deps.warn, `the watermark ${staged.incremental.file} was not written (${(err as Error).message}); the next run reads these rows again and merges them`)
    }
  }
  // The one failure allowed after the commit: the store's figures do not add up (ETL_RECONCILE, not retried).
  reconcile(ctx, metaSuite, load, staged.counts.loaded ?? load.rows)
  return ctx.summary as RunSummary
}
