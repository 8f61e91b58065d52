/**
 * The pipelines as flows (lib/flow): each run gets an id, a record under
 * `<data-dir>/runs/`, retries on the steps that touch the database or
 * Hopsworks, hooks and webhooks.
 */
import { existsSync } from 'node:fs'
import { readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { EtlError } from '../errors.ts'
import { transformCsv } from '../transform/index.ts'
import { metaValidateFiles } from '../validate/meta.ts'
import { STAGE_FILES } from './files.ts'
import type { ValidationStageSummary } from './summary.ts'
import type { DbConfig } from '../extract/connect.ts'
import { flow, task, type FlowLogger } from '../flow/index.ts'
import { stableJson } from '../flow/cache.ts'
import { sidecarPath } from '../csv/schema.ts'
import { validationFileNames } from '../validate/results.ts'
import { extractToCsv } from './extract.ts'
import { identityRequest, type Settings } from './settings.ts'
import { identitySummary } from './identity.ts'
import { incrementalSummary, planIncremental, removePending, writePending } from './incremental.ts'
import { metaValidateLineage, transformLineage } from './lineage.ts'
import { loadStage, removeStageFile, validateStage } from './stages.ts'

export interface PipelineInput {
  readonly settings: Settings
  readonly db: DbConfig | undefined
  readonly log: FlowLogger & { progress?(message: string): void }
  /** For `etl validate --input` and `etl load --input`: the stage CSV to read. */
  readonly input?: string
}

function needDb(input: PipelineInput): DbConfig {
  if (!input.db) throw new EtlError('ETL_INTERNAL', 'this pipeline needs a database')
  return input.db
}

function rate(rows: number, started: number): string {
  const s = (Date.now() - started) / 1000
  return `${rows} rows, ${s > 0 ? Math.round(rows / s) : 0} rows/s, ${s.toFixed(1)} s`
}

/** `etl extract`: the source -> extracted.csv. */
export const extractFlow = flow({ name: 'extract' }, async (input: PipelineInput, ctx) => {
  const { settings } = input
  const step = task({ name: 'extract', retries: settings.retries, retryDelaySeconds: settings.retryDelay }, async (_: undefined, tctx) => {
    const started = Date.now()
    await removeStageFile(join(settings.dataDir, STAGE_FILES.validated)) // the rows that passed the validation of the previous extract
    await removePending(settings.dataDir) // the watermark of the previous extract, if its load never came
    const incremental = settings.incremental ? await planIncremental(needDb(input), settings) : undefined
    if (incremental) ctx.summarize('incremental', incrementalSummary(incremental.plan))
    const request = identityRequest(settings, (key) => ctx.summarize('identity', identitySummary(key)))
    const s = await extractToCsv({
      db: needDb(input), source: incremental?.source ?? settings.source, dataDir: settings.dataDir, batchSize: settings.batchSize, signal: tctx.signal, extractId: ctx.runId,
      identity: request && incremental ? { ...request, resolved: incremental.plan.identity } : request,
      onBatch: (rows) => input.log.progress?.(`extract: ${rate(rows, started)}`),
    })
    const summary = { source: 'table' in settings.source ? `table ${settings.source.table}` : 'query', rows: s.rows, columns: s.columns, file: s.file, durationMs: Date.now() - started }
    if (incremental) await writePending(settings, incremental.plan, ctx.runId)
    ctx.summarize('extract', summary)
    return summary
  })
  return step(undefined, { signal: ctx.signal })
})

/**
 * `etl validate`: extraction validation. Over a CSV it caches: the same file
 * (size and modification time), the same suite text and policy within a day
 * skip the step (the task is recorded as Cached) as long as the results files
 * are still there.
 */
export const validateFlow = flow({ name: 'extraction-validation' }, async (input: PipelineInput, ctx) => {
  const { settings } = input
  const fromDb = Boolean(input.db && !input.input)
  let fingerprint: string | undefined
  const file = fromDb ? undefined : (input.input ?? join(settings.dataDir, STAGE_FILES.extracted))
  if (file) {
    const [info, suiteText] = await Promise.all([stat(file).catch(() => undefined), readFile(settings.suitePath, 'utf8').catch(() => undefined)])
    if (info && suiteText !== undefined) fingerprint = JSON.stringify([file, info.size, info.mtimeMs, suiteText, settings.invalidRows])
  }
  const step = task({
    name: 'validate',
    retries: fromDb ? settings.retries : 0,
    retryDelaySeconds: settings.retryDelay,
    ...(fingerprint ? {
      cacheKeyFn: () => fingerprint,
      cacheExpirationSeconds: 24 * 3600,
      cacheValid: (r: ValidationStageSummary) => (r.files ?? []).every((f) => existsSync(f)) && resultFileAgrees(settings.dataDir, r),
      // The entry is used only while the CSV validated, its sidecar and the results files are byte for byte as cached.
      cacheFiles: (_: undefined, r: ValidationStageSummary) => [file!, sidecarPath(file!), ...(r.files ?? [])],
    } : {}),
  }, () => validateStage(settings, input.db, input.input, ctx))
  const summary = await step(undefined, { signal: ctx.signal })
  ctx.summarize('validation', summary)
  failUnlessWarn(settings, 'the validation', summary, 'expectations', `over ${summary.rows} rows`)
  return summary
})

/** A cached validation summary says what the results JSON in the data folder says (success and statistics). */
async function resultFileAgrees(dataDir: string, summary: ValidationStageSummary): Promise<boolean> {
  try {
    const json = JSON.parse(await readFile(validationFileNames(dataDir, 'extract').json, 'utf8')) as { success?: unknown; statistics?: unknown }
    return json.success === summary.success && stableJson(json.statistics) === stableJson(summary.statistics)
  } catch {
    return false
  }
}

/**
 * A failed (meta-)validation fails its flow, so that the run record says Failed with the exit code (3), as a
 * run stopped by the gate does; the results files are written either way. With --on-invalid warn it completes.
 */
function failUnlessWarn(settings: Settings, what: string, s: ValidationStageSummary, of: string, extra = ''): void {
  if (s.success || settings.onInvalid === 'warn') return
  const failed = s.statistics.evaluated_expectations - s.statistics.successful_expectations
  throw new EtlError('ETL_QUALITY_GATE', `${what} FAILED: ${failed} of ${s.statistics.evaluated_expectations} ${of} failed${extra ? ` ${extra}` : ''}; results: ${(s.files ?? []).join(', ')} (--on-invalid warn to go on anyway)`, {
    details: { statistics: s.statistics },
  })
}

/** `etl load`: transformed.csv -> the feature store, behind the gate. */
export const loadFlow = flow({ name: 'loading' }, async (input: PipelineInput, ctx) => {
  const step = task({ name: 'load' }, () => loadStage(input.settings, input.input, ctx, (m) => input.log.warn(m)))
  return step(undefined, { signal: ctx.signal })
})

/** `etl meta-validate`: the validation results read back and checked by the meta suite. */
export const metaValidateFlow = flow({ name: 'meta-extraction-validation' }, async (input: PipelineInput, ctx) => {
  const { settings } = input
  const step = task({ name: 'meta-validate' }, async () => {
    const started = Date.now()
    const lineage = await metaValidateLineage(settings.dataDir)
    const m = await metaValidateFiles({ dataDir: settings.dataDir, suitePath: settings.suitePath, metaSuitePath: settings.metaSuitePath, ...(lineage ? { lineage } : {}) })
    const summary: ValidationStageSummary = {
      success: m.result.success, statistics: m.result.statistics, rows: m.result.results.length, invalidRows: 0, quarantinedRows: 0,
      result: m.result, files: Object.values(m.files), durationMs: Date.now() - started,
    }
    ctx.summarize('counts', m.counts)
    ctx.summarize('meta', summary)
    return summary
  })
  const summary = await step(undefined, { signal: ctx.signal })
  failUnlessWarn(settings, 'the meta-validation', summary, 'checks')
  return summary
})

/** The transform's input in the data folder: the validated rows when a validation quarantined some, else all extracted rows. */
async function defaultTransformInput(dataDir: string): Promise<string> {
  const validated = join(dataDir, STAGE_FILES.validated)
  return (await stat(validated).then(() => true, () => false)) ? validated : join(dataDir, STAGE_FILES.extracted)
}

/** `etl transform`: validated.csv (written by `etl validate --invalid-rows quarantine`), else extracted.csv -> transformed.csv. */
export const transformFlow = flow({ name: 'transform' }, async (input: PipelineInput, ctx) => {
  const { settings } = input
  const step = task({ name: 'transform' }, async (_: undefined, tctx) => {
    const file = input.input ?? (await defaultTransformInput(settings.dataDir))
    const t = await transformCsv({
      ...settings.transform,
      input: file,
      lineage: await transformLineage(settings.dataDir, file, input.input === undefined),
      output: join(settings.dataDir, STAGE_FILES.transformed),
      batchSize: settings.batchSize,
      signal: tctx.signal,
    })
    ctx.summarize('transform', t)
    return t
  })
  return step(undefined, { signal: ctx.signal })
})
