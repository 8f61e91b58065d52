/**
 * Running a pipeline flow from the command line: database (configured or
 * embedded), data folder check, webhooks from flags/config, time limit,
 * progress, the run record on stdout with --json, and the exit code.
 */
import type { EtlConfig } from '../config/config.ts'
import { join } from 'node:path'
import { INDEX_LIMIT, writeDocs } from '../docs/index.ts'
import { runsDir, writeJsonAtomic } from '../flow/run-store.ts'
import { applyRetention, retentionPolicy, type RetentionResult } from '../flow/retention.ts'
import { asEtlError, EtlError, registerSecret } from '../errors.ts'
import type { Flow, RunRecord, WebhookTarget } from '../flow/index.ts'
import { openDatabase } from '../pipelines/database.ts'
import type { PipelineInput } from '../pipelines/flows.ts'
import { resolveSettings } from '../pipelines/settings.ts'
import type { CommandContext, Logger } from './context.ts'
import { makeLogger, signalExitCode } from './context.ts'
import { ensureDataDir, lockDataDir } from './data-dir.ts'

export type PipelineFlow<R> = Flow<PipelineInput, R>

export function webhookTargets(config: EtlConfig, env: NodeJS.ProcessEnv): WebhookTarget[] {
  const secret = env['ETL_WEBHOOK_SECRET'] || undefined
  registerSecret(secret)
  return (config.notifications ?? []).map((n) => ({
    url: n.url,
    events: [...(n.onFailure === false ? [] : (['failed', 'cancelled', 'warned', 'skipped'] as const)), ...(n.onCompletion ? (['completed'] as const) : [])],
    ...(secret ? { secret } : {}),
  }))
}

export interface RunFlowOptions<R> {
  readonly needsDatabase: boolean
  /** Human lines after a completed run. */
  readonly report?: (result: R, log: Logger) => void
  /** Called with the final record (e.g. to write the HTML page). */
  readonly after?: (record: RunRecord, log: Logger) => Promise<void>
  /** The stage CSV to read (etl validate/transform/load --input). */
  readonly input?: string
}

/**
 * After a run: retention first (records past keepRuns/keepDays, expired cache entries), then the run's docs page
 * and its row in the index, the removed runs' pages and rows dropped; no other record is read. Never throws: a
 * problem is a warning (the run is over).
 */
export async function keepHistory(dataDir: string, record: RunRecord, retention: EtlConfig['retention'], log: Pick<Logger, 'info' | 'warn'>): Promise<RetentionResult> {
  let removed: RetentionResult = { runs: [], cacheEntries: 0 }
  let limit = INDEX_LIMIT
  try {
    const policy = retentionPolicy(retention, 'retention')
    limit = Math.min(policy.keepRuns, INDEX_LIMIT)
    removed = await applyRetention(dataDir, policy, { keep: record.id })
    if (removed.runs.length || removed.cacheEntries) {
      log.info(`retention: removed ${removed.runs.length} run(s) past ${policy.keepRuns} runs / ${policy.keepDays || 'any'} days and ${removed.cacheEntries} expired cache entr${removed.cacheEntries === 1 ? 'y' : 'ies'}`)
    }
  } catch (err) {
    log.warn(`could not apply the retention: ${asEtlError(err).message}`)
  }
  await writeDocs(dataDir, record, { removed: removed.runs, limit }).catch((err: unknown) => log.warn(`could not write the data docs: ${asEtlError(err).message}`))
  return removed
}

/** How a command's run ended: its exit code, and the run's id, state and error code when it was recorded. */
export interface CommandRunResult {
  readonly exitCode: number
  readonly id?: string
  readonly state?: RunRecord['state']
  readonly code?: string
  readonly message?: string
  readonly record?: RunRecord
}

/** Runs a pipeline flow as a command; resolves with the exit code. */
export async function runFlowCommand<R>(ctx: CommandContext, config: Readonly<EtlConfig>, f: PipelineFlow<R>, options: RunFlowOptions<R>): Promise<number> {
  return (await runFlowResult(ctx, config, f, options)).exitCode
}

/** Runs a pipeline flow as a command; resolves with the exit code and the run's outcome (`etl schedule` counts them). */
export async function runFlowResult<R>(ctx: CommandContext, config: Readonly<EtlConfig>, f: PipelineFlow<R>, options: RunFlowOptions<R>): Promise<CommandRunResult> {
  const log = makeLogger(ctx, config)
  const settings = resolveSettings(config, ctx.env, ctx.cwd)
  await ensureDataDir(settings.dataDir)
  const db = options.needsDatabase ? await openDatabase(ctx.env, (l) => log.info(l)) : undefined
  // The time limit aborts with ETL_TIMEOUT as its reason, so the run is recorded as timed out, not cancelled.
  const limit = new AbortController()
  const timer = settings.timeout ? setTimeout(() => limit.abort(new EtlError('ETL_TIMEOUT', `the run took longer than --timeout ${settings.timeout}s and was stopped; nothing was committed`)), settings.timeout * 1000) : undefined
  timer?.unref()
  const signal = AbortSignal.any([ctx.signal, limit.signal])
  try {
    const outcome = await f.run(
      { settings, db: db?.config, log, ...(options.input ? { input: options.input } : {}) },
      {
        dataDir: settings.dataDir,
        signal,
        webhooks: webhookTargets(config, ctx.env),
        log: { debug: (m, f) => log.debug(m, f), info: (m, f) => log.info(m, f), warn: (m, f) => log.warn(m, f), error: (m, f) => log.error(m, f) },
        lock: (runId, s) => lockDataDir(settings.dataDir, runId, { timeoutMs: settings.lockTimeout * 1000, signal: s, info: (m) => log.info(m) }),
        parameters: { source: 'table' in settings.source ? settings.source.table : 'query', sink: settings.sink, onInvalid: settings.onInvalid, id: settings.transform.id },
      },
    )
    log.done()
    // After the run nothing changes its outcome: what fails here (docs, retention, extras) is a warning, said on
    // stderr and kept in the record's summary.warnings (lib/pipelines/warnings.ts); the exit code stays.
    const late: string[] = []
    const lateLog = { info: (m: string) => log.info(m), warn: (m: string) => { late.push(m); log.warn(`WARNING (after the run): ${m}`) } }
    await keepHistory(settings.dataDir, outcome.record, config.retention, lateLog)
    await options.after?.(outcome.record, log).catch((err: unknown) => lateLog.warn(`could not finish the run's extras: ${asEtlError(err).message}`))
    if (late.length) {
      const summary = outcome.record.summary as { warnings?: string[] }
      summary.warnings = [...(summary.warnings ?? []), ...late]
      await writeJsonAtomic(join(runsDir(settings.dataDir), `${outcome.id}.json`), outcome.record).catch(() => {})
    }
    if (config.json) ctx.stdout.write(JSON.stringify(outcome.record) + '\n')
    if (outcome.state === 'Completed') {
      options.report?.(outcome.result, log)
      log.info(`run ${outcome.id} completed; record: ${settings.dataDir}/runs/${outcome.id}.json`, { runId: outcome.id, state: outcome.state, exitCode: 0 })
      return { exitCode: 0, id: outcome.id, state: outcome.state, record: outcome.record }
    }
    let err = asEtlError(outcome.error)
    if (outcome.state === 'Cancelled') err = new EtlError('ETL_CANCELLED', 'the run was stopped by a signal; nothing was committed')
    log.error(`${err.code}: ${err.message}`, { code: err.code, runId: outcome.id })
    log.error(`run ${outcome.id} ${outcome.state.toLowerCase()}; record: ${settings.dataDir}/runs/${outcome.id}.json`, { runId: outcome.id, state: outcome.state })
    const exitCode = (err.code === 'ETL_CANCELLED' && signalExitCode(ctx.signal)) || err.exitCode
    return { exitCode, id: outcome.id, state: outcome.state, code: err.code, message: err.message, record: outcome.record }
  } finally {
    clearTimeout(timer)
    await db?.close()
  }
}

