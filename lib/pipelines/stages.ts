/**
 * The five pipelines of the original design, each over the previous stage's
 * file in the data folder: extract, extraction validation, meta extraction
 * validation, transform, loading. `etl run` (run.ts) does them in one pass.
 */
import { existsSync } from 'node:fs'
import { readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { csvSource } from '../csv/read.ts'
import { sidecarPath } from '../csv/schema.ts'
import { stageLineage, type Lineage } from '../csv/lineage.ts'
import { csvSink } from '../csv/stage-file.ts'
import { EtlError } from '../errors.ts'
import { columnStatsFromBatches, columnStatsFromPg, prepassColumns } from '../expectations/prepass.ts'
import { readSuite } from '../expectations/suite.ts'
import type { SuiteResult } from '../expectations/types.ts'
import { connect, type DbConfig } from '../extract/connect.ts'
import { pgSource } from '../extract/pg-source.ts'
import type { SourceSpec } from '../extract/relation.ts'
import type { FlowContext } from '../flow/index.ts'
import { quarantineCsv } from '../validate/quarantine.ts'
import { historyLookup, readHistory, recordHistory } from '../validate/history.ts'
import { validationFileNames, writeValidationFiles } from '../validate/results.ts'
import { validate } from '../validate/validate.ts'
import { decideGate, gateReport } from './gate.ts'
import { loadLineageProblem } from './lineage.ts'
import { STAGE_FILES } from './files.ts'
import type { Settings } from './settings.ts'
import { openSink } from './sink.ts'
import { commitPending, incrementalSummary } from './incremental.ts'
import { reconcile, warnAfterCommit } from './warnings.ts'
import type { ValidationStageSummary } from './summary.ts'

/** Extraction validation: the CSV (default extracted.csv) or a table/query, through the suite. */
export async function validateStage(settings: Settings, db: DbConfig | undefined, input: string | undefined, ctx: FlowContext): Promise<ValidationStageSummary> {
  const started = Date.now()
  const suite = await readSuite(settings.suitePath, (m) => ctx.log.warn(m))
  const prepass = prepassColumns(suite)
  const fromDb = db && !input
  const file = input ?? join(settings.dataDir, STAGE_FILES.extracted)
  // What the results vouch for: the file (checked against its sidecar first), or the source as read now.
  const lineage: Lineage = fromDb ? { extractId: ctx.runId, checksum: null } : await stageLineage(file)
  let stats
  if (prepass.length) {
    if (fromDb) {
      const client = await connect(db)
      try {
        stats = await columnStatsFromPg(client, settings.source, prepass)
      } finally {
        await client.end()
      }
    } else stats = await columnStatsFromBatches(csvSource(file), prepass)
  }
  // With quarantine, the rows that pass are what the transform must read (as in the one-pass run): validated.csv.
  // Without, the transform reads extracted.csv, and a validated.csv of an earlier validation would mislead it.
  // Removed before the source opens (an opening error of the source must find its pipeline listening).
  const validated = join(settings.dataDir, STAGE_FILES.validated)
  await removeStageFile(validated)
  const source = fromDb ? pgSource(db, settings.source as SourceSpec, { batchSize: settings.batchSize, signal: ctx.signal }) : csvSource(file, { batchSize: settings.batchSize })
  const quarantine = settings.invalidRows === 'quarantine' ? quarantineCsv(join(settings.dataDir, STAGE_FILES.quarantine), { lineage: () => lineage }) : undefined
  // A stage CSV of `etl extract` ends with the stable id column, which the suite does not describe.
  const validator = validate({ suite, policy: settings.invalidRows, quarantine, stats, meta: { run_id: ctx.runId }, history: historyLookup(await readHistory(settings.dataDir, suite.name)), ...(fromDb ? {} : { hideColumn: settings.transform.idColumn }) })
  try {
    await pipeline(source, validator, quarantine ? csvSink(validated, { lineage: () => lineage }) : async (batches: AsyncIterable<unknown>) => {
      for await (const _ of batches);
    }, { signal: ctx.signal })
  } catch (err) {
    await quarantine?.discard()
    throw err
  }
  const v = await validator.summary
  const files = await writeValidationFiles(settings.dataDir, v.result, 'extract', lineage)
  await recordHistory(settings.dataDir, ctx.runId, new Date().toISOString(), v.result)
  const summary: ValidationStageSummary = {
    success: v.result.success, statistics: v.result.statistics, rows: v.rows, invalidRows: v.invalidRows,
    quarantinedRows: v.quarantinedRows, result: v.result, files: [...Object.values(files), ...(quarantine ? [validated] : [])], durationMs: Date.now() - started,
  }
  ctx.summarize('validation', summary)
  return summary
}

/** Removes a stage file and its schema sidecar, if there. */
export async function removeStageFile(path: string): Promise<void> {
  try {
    await Promise.all([rm(path, { force: true }), rm(sidecarPath(path), { force: true })])
  } catch (err) {
    throw new EtlError('ETL_DATA_DIR', `cannot remove ${path}: ${(err as Error).message}`, { cause: err })
  }
}

async function readResult(path: string): Promise<SuiteResult | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as SuiteResult
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw new EtlError('ETL_INPUT', `cannot read ${path}: ${(err as Error).message}`, { cause: err })
  }
}

/**
 * Loading: transformed.csv (default) into the sink, behind the same gate as a
 * run: the data folder's validation and meta-validation results must be
 * there and successful (or --on-invalid warn).
 */
export async function loadStage(settings: Settings, input: string | undefined, ctx: FlowContext, warn: (m: string) => void) {
  const file = input ?? join(settings.dataDir, STAGE_FILES.transformed)
  let validation = await readResult(validationFileNames(settings.dataDir, 'extract').json)
  let meta = await readResult(validationFileNames(settings.dataDir, 'meta_extract').json)
  const rerun = settings.onInvalid === 'abort'
    ? 'nothing was loaded: the results do not vouch for these rows; run `etl validate`, `etl meta-validate` and `etl transform` again, then `etl load`'
    : 'the rows are loaded as unvalidated'
  // Missing results are the gate's to refuse (below); a missing file is the reader's.
  const lineage = validation && meta && existsSync(file) ? await loadLineageProblem(settings.dataDir, file, rerun) : undefined
  if (lineage) {
    if (settings.onInvalid === 'abort') throw lineage
    warn(`WARNING: loading rows that no validation vouches for (--on-invalid warn): ${lineage.message}`)
    validation = meta = undefined
  }
  if (lineage) {
    // warned above
  } else if (!validation || !meta) {
    const missing = !validation ? 'extract_validation_result.json' : 'meta_extract_validation_result.json'
    if (settings.onInvalid === 'abort')
      throw new EtlError('ETL_QUALITY_GATE', `no ${missing} in ${settings.dataDir}: run \`etl validate\` and \`etl meta-validate\` first (or pass --on-invalid warn to load unvalidated data)`)
    warn(`WARNING: loading without ${missing}: the data was not validated`)
  } else {
    const gate = decideGate(validation, meta)
    if (!gate.passed) {
      if (settings.onInvalid === 'abort')
        throw new EtlError('ETL_QUALITY_GATE', `the quality gate stopped the load; nothing was loaded.\n${gateReport(validation, meta)}`, { details: { failed: gate.failed } })
      warn(`WARNING: the data failed its quality gate but --on-invalid warn loads it anyway.\n${gateReport(validation, meta)}`)
    }
  }
  const metaSuite = await readSuite(settings.metaSuitePath) // read before the commit: after it, only ETL_RECONCILE may fail
  const started = Date.now()
  const source = csvSource(file, { batchSize: settings.batchSize })
  source.once('error', () => {}) // an opening error comes through `columns`, awaited next
  const columns = await source.columns.catch((err: unknown) => {
    source.destroy()
    throw err
  })
  const suite = validation ? await readSuite(settings.suitePath).catch(() => undefined) : undefined
  const sink = await openSink({ settings, columns, signal: ctx.signal, runId: ctx.runId, validation: () => (suite && validation ? { suite, result: validation } : undefined) })
  try {
    await pipeline(source, sink.writable, { signal: ctx.signal })
  } catch (err) {
    await sink.abort().catch(() => {})
    throw err
  }
  const load = { ...(await sink.commit()), durationMs: Date.now() - started }
  ctx.summarize('load', load)
  for (const w of load.warnings ?? []) warnAfterCommit(ctx, warn, w)
  // Committed: the watermark of an `etl extract --incremental` moves now; a failure is a warning (lib/pipelines/warnings.ts).
  try {
    const plan = await commitPending(settings, ctx.runId)
    if (plan) ctx.summarize('incremental', incrementalSummary(plan))
  } catch (err) {
    warnAfterCommit(ctx, warn, `the watermark of the incremental extract was not written (${(err as Error).message}); the next run reads these rows again and merges them`)
  }
  reconcile(ctx, metaSuite, load, load.rows)
  return load
}
