/**
 * The pipeline commands: run, extract, validate, load (and, with their
 * stages, meta-validate and transform). Each resolves settings, runs its flow
 * and maps the outcome to an exit code (lib/cli/run-flow.ts).
 */
import { EtlError } from '../../errors.ts'
import type { LoadSummary } from '../../load/sink.ts'
import type { RunSummary } from '../../pipelines/summary.ts'
import { extractFlow, loadFlow, metaValidateFlow, transformFlow, validateFlow } from '../../pipelines/flows.ts'
import type { FlagName } from '../args.ts'
import type { Command } from '../commands.ts'
import { commandConfig, type Logger } from '../context.ts'
import { runFlowCommand } from '../run-flow.ts'

export const output: readonly FlagName[] = ['data-dir', 'config', 'json', 'quiet', 'log', 'webhook', 'notify', 'retries', 'retry-delay', 'timeout', 'lock-timeout', 'keep-runs', 'keep-days']
export const source: readonly FlagName[] = ['table', 'query', 'batch-size']
export const transform: readonly FlagName[] = ['id', 'key', 'datetime', 'missing', 'id-column', 'datetime-column']
export const load: readonly FlagName[] = ['sink', 'write', 'feature-group', 'feature-group-version', 'feature-view', 'on-invalid']
export const incremental: readonly FlagName[] = ['incremental', 'full-refresh', 'since', 'until']

export function noPositionals(positionals: readonly string[]): void {
  if (positionals.length) throw new EtlError('ETL_USAGE', `unexpected argument: ${positionals[0]}`)
}

/** A figure of the load report, "unknown" where the store cannot tell. */
const fig = (v: number | null | undefined) => (typeof v === 'number' ? String(v) : 'unknown')

export function reportLoad(load: LoadSummary, log: Logger, summary?: RunSummary): void {
  const r = load.report
  if (r) log.info(`store (--write ${r.write}): inserted ${fig(r.inserted)}, updated ${fig(r.updated)}, unchanged ${fig(r.unchanged)}, deleted ${fig(r.deleted)}; rows ${fig(r.rowsBefore)} -> ${fig(r.rowsAfter)}`)
  if (summary?.identity) log.info(`ids: derived from ${summary.identity.description}`)
  if (summary?.incremental) log.info(`incremental on ${summary.incremental.column}: watermark ${summary.incremental.from ?? 'none'} -> ${summary.incremental.next ?? 'unchanged'}`)
  for (const w of summary?.warnings ?? []) log.warn(`WARNING (the load is committed): ${w}`)
  if (load.sink === 'local') {
    log.info(`loaded ${load.rows} rows locally into ${load.location} (feature group ${load.featureGroup.name} version ${load.featureGroup.version})`)
    log.info('to load into Hopsworks instead, set HOPSWORKS_HOST, HOPSWORKS_API_KEY and HOPSWORKS_PROJECT (environment or .env), or pass --sink hopsworks')
  } else {
    log.info(`loaded ${load.rows} rows into Hopsworks feature group ${load.featureGroup.name} version ${load.featureGroup.version}${load.job ? ` (job ${load.job.name}: ${load.job.finalStatus})` : ''}`)
  }
}

export const extractCommand: Command = {
  summary: 'extract the source into extracted.csv (+ extracted.schema.json), with the stable id column of --id derived',
  flags: [...source, ...incremental, 'id', 'key', 'id-column', 'feature-group', 'feature-group-version', ...output],
  async run(ctx, values, positionals) {
    noPositionals(positionals)
    return runFlowCommand(ctx, commandConfig(ctx, values), extractFlow, {
      needsDatabase: true,
      report: (s, log) => log.info(`extracted ${s.rows} rows, ${s.columns.length} columns -> ${s.file}`),
    })
  },
}

export const validateCommand: Command = {
  summary: 'extraction validation: extract_validation_results.csv and extract_validation_result.json',
  description: 'Reads extracted.csv from the data folder, or --input CSV, or the source itself with --table/--query.',
  flags: ['suite', 'input', 'invalid-rows', 'on-invalid', ...source, ...output],
  async run(ctx, values, positionals) {
    noPositionals(positionals)
    const config = commandConfig(ctx, values)
    const fromDb = Boolean(values.table || values.query) && !values.input
    // A failed validation fails the flow (exit 3, the record Failed) unless --on-invalid warn; the files are written either way.
    return runFlowCommand(ctx, config, validateFlow, {
      needsDatabase: fromDb,
      ...(config.input ? { input: config.input } : {}),
      report: (s, log) => {
        log.info(`validation ${s.success ? 'passed' : 'FAILED'}: ${s.statistics.successful_expectations}/${s.statistics.evaluated_expectations} expectations over ${s.rows} rows -> ${s.files?.join(', ')}`)
      },
    })
  },
}

export const loadCommand: Command = {
  summary: 'load transformed.csv into the feature store (Hopsworks, or the local store)',
  flags: ['input', 'suite', ...load, 'batch-size', ...output],
  async run(ctx, values, positionals) {
    noPositionals(positionals)
    const config = commandConfig(ctx, values)
    return runFlowCommand(ctx, config, loadFlow, { needsDatabase: false, ...(config.input ? { input: config.input } : {}), report: reportLoad })
  },
}

export const metaValidateCommand: Command = {
  summary: 'meta-validation: checks extract_validation_results.csv -> meta_extract_validation_results.csv and .json',
  flags: ['suite', 'meta-suite', 'on-invalid', ...output],
  async run(ctx, values, positionals) {
    noPositionals(positionals)
    const config = commandConfig(ctx, values)
    return runFlowCommand(ctx, config, metaValidateFlow, {
      needsDatabase: false,
      report: (s, log) => {
        log.info(`meta-validation ${s.success ? 'passed' : 'FAILED'}: ${s.statistics.successful_expectations}/${s.statistics.evaluated_expectations} checks -> ${s.files?.join(', ')}`)
      },
    })
  },
}

export const transformCommand: Command = {
  summary: 'stamp user_id and datetime, handle missing values: extracted.csv -> transformed.csv',
  flags: ['input', ...transform, 'batch-size', ...output],
  async run(ctx, values, positionals) {
    noPositionals(positionals)
    const config = commandConfig(ctx, values)
    return runFlowCommand(ctx, config, transformFlow, {
      needsDatabase: false,
      ...(config.input ? { input: config.input } : {}),
      report: (s, log) => log.info(`transformed ${s.rows} rows (${s.dropped} dropped) -> ${s.file}`),
    })
  },
}
