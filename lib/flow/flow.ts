/**
 * flow(): a function that calls tasks, run with an id and recorded under
 * `<dataDir>/runs/<id>.json` (Prefect's `@flow`).
 *
 *     start: id, record (Running) -> fn(input, ctx) [tasks record themselves]
 *       -> final state (Completed | Failed | Cancelled) -> hooks -> webhooks -> record written -> outcome
 */
import { hostname } from 'node:os'
import { join, resolve } from 'node:path'
import { SpanStatusCode } from '@opentelemetry/api'
import { EtlError } from '../errors.ts'
import { recordRunMetrics, withSpan } from '../telemetry.ts'
import { currentRunContext, errorRecord, jsonCopy, runInside, RunContext, type FlowContext } from './context.ts'
import { hookList, runHooks, type HookDetail, type RunHook } from './hooks.ts'
import { silentLogger, type FlowLogger } from './log.ts'
import { checkFunction, checkHooks, checkName, checkPositive, rejectUnknownKeys } from './options.ts'
import { cancelledError } from './retry.ts'
import type { RunRecord } from './run-record.ts'
import { currentHolder } from '../load/lock.ts'
import { newRunId, RecordWriter, runsDir } from './run-store.ts'
import { notify, webhookTarget, type WebhookTarget } from './webhook.ts'

export interface FlowHooks<R> {
  readonly onCompletion?: RunHook<R> | readonly RunHook<R>[]
  readonly onFailure?: RunHook<R> | readonly RunHook<R>[]
  readonly onCancellation?: RunHook<R> | readonly RunHook<R>[]
}

export interface FlowOptions<R> extends FlowHooks<R> {
  /** The flow's name in records, logs and notifications. */
  readonly name: string
  /** Webhook targets for every run (a bare URL sends failures and cancellations). */
  readonly webhooks?: readonly (string | WebhookTarget)[]
  /** Default logger of its runs. Default: silent. */
  readonly log?: FlowLogger
  /** Bound on each hook, in seconds. Default 60. */
  readonly hookTimeoutSeconds?: number
}

/** Per-run options; hooks and webhooks here add to the flow's own. */
export interface FlowRunOptions<R> extends FlowHooks<R> {
  /** Where `runs/` and `cache/` live. Default: the parent run's (a subflow), else `./data`. */
  readonly dataDir?: string
  /** Cancels the run: it ends `Cancelled` (tasks and the flow function see the signal; they are waited for). */
  readonly signal?: AbortSignal
  /** Recorded in the run record (JSON, strings redacted). Keep secrets out anyway. */
  readonly parameters?: Readonly<Record<string, unknown>>
  readonly webhooks?: readonly (string | WebhookTarget)[]
  readonly log?: FlowLogger
  /** Run every caching task instead of using its cache (entries are rewritten). Default false. */
  readonly refreshCache?: boolean
  /** Clock in ms (timings, cache expiry). Default Date.now. */
  readonly now?: () => number
  /**
   * Taken once the run's record exists, before the flow function starts, and
   * released when it ends (before hooks and webhooks): e.g. the data folder's
   * lock. A rejection (ETL_LOCKED ...) fails the run, recorded as any error.
   */
  readonly lock?: (runId: string, signal: AbortSignal) => Promise<{ release(): Promise<void> }>
}

export type FlowRunOutcome<R> =
  | { readonly id: string; readonly state: 'Completed'; readonly record: RunRecord; readonly result: R }
  | { readonly id: string; readonly state: 'Failed' | 'Cancelled'; readonly record: RunRecord; readonly error: unknown }

export interface Flow<I, R> {
  /** Runs the flow; resolves with its result, rejects with its error (ETL_CANCELLED when cancelled). */
  (input: I, options?: FlowRunOptions<R>): Promise<R>
  /**
   * Runs the flow; resolves with the outcome and the record whatever the flow
   * did. Rejects only when the run cannot start: ETL_INVALID_OPTION (bad run
   * options), ETL_DATA_DIR (the record cannot be written).
   */
  run(input: I, options?: FlowRunOptions<R>): Promise<FlowRunOutcome<R>>
  readonly flowName: string
}

const flowKeys = ['name', 'webhooks', 'log', 'hookTimeoutSeconds', 'onCompletion', 'onFailure', 'onCancellation']
const runKeys = ['dataDir', 'signal', 'parameters', 'webhooks', 'log', 'refreshCache', 'now', 'lock', 'onCompletion', 'onFailure', 'onCancellation']

function checkHookOptions(path: string, o: FlowHooks<unknown>): void {
  checkHooks(`${path}.onCompletion`, o.onCompletion)
  checkHooks(`${path}.onFailure`, o.onFailure)
  checkHooks(`${path}.onCancellation`, o.onCancellation)
}

/**
 * Defines a flow. `fn` gets the input and a FlowContext (run id, signal, data
 * folder, logger, `summarize(stage, value)`); tasks it calls record themselves
 * into the run. Throws ETL_INVALID_OPTION for bad options.
 */
export function flow<I = void, R = unknown>(options: FlowOptions<R>, fn: (input: I, ctx: FlowContext) => Promise<R>): Flow<I, R> {
  rejectUnknownKeys('flow', options, flowKeys)
  checkName('flow.name', options.name)
  checkPositive('flow.hookTimeoutSeconds', options.hookTimeoutSeconds)
  checkHookOptions('flow', options as FlowHooks<unknown>)
  checkFunction('flow fn', fn)
  const flowTargets = (options.webhooks ?? []).map((w, i) => webhookTarget(w, `flow.webhooks[${i}]`))
  const run = (input: I, runOptions: FlowRunOptions<R> = {}) => runFlow(options, flowTargets, fn, input, runOptions)
  const call = async (input: I, runOptions?: FlowRunOptions<R>): Promise<R> => {
    const outcome = await run(input, runOptions)
    if (outcome.state === 'Completed') return outcome.result
    throw outcome.error
  }
  return Object.assign(call, { run, flowName: options.name })
}

/** A run inside its span (`etl.run <flow>`, lib/telemetry.ts), its outcome counted when it ends. */
function runFlow<I, R>(
  options: FlowOptions<R>, flowTargets: WebhookTarget[], fn: (input: I, ctx: FlowContext) => Promise<R>, input: I, o: FlowRunOptions<R>,
): Promise<FlowRunOutcome<R>> {
  return withSpan(`etl.run ${options.name}`, { 'etl.flow': options.name }, async (span) => {
    const outcome = await runFlowRecorded(options, flowTargets, fn, input, o)
    span.setAttributes({ 'etl.run.id': outcome.id, 'etl.run.state': outcome.state })
    if (outcome.state !== 'Completed') span.setStatus({ code: SpanStatusCode.ERROR, message: outcome.record.error?.code ?? outcome.state })
    recordRunMetrics(outcome.record)
    return outcome
  })
}

async function runFlowRecorded<I, R>(
  options: FlowOptions<R>, flowTargets: WebhookTarget[], fn: (input: I, ctx: FlowContext) => Promise<R>, input: I, o: FlowRunOptions<R>,
): Promise<FlowRunOutcome<R>> {
  rejectUnknownKeys('run', o, runKeys)
  checkHookOptions('run', o as FlowHooks<unknown>)
  checkFunction('run.now', o.now)
  checkFunction('run.lock', o.lock)
  const targets = [...flowTargets, ...(o.webhooks ?? []).map((w, i) => webhookTarget(w, `run.webhooks[${i}]`))]
  const parent = currentRunContext()
  const now = o.now ?? parent?.now ?? Date.now
  const log = o.log ?? options.log ?? parent?.log ?? silentLogger
  const dataDir = resolve(o.dataDir ?? parent?.dataDir ?? 'data')
  const signals = [o.signal, parent?.signal].filter((s): s is AbortSignal => s !== undefined)
  const signal = signals.length === 0 ? new AbortController().signal : signals.length === 1 ? (signals[0] as AbortSignal) : AbortSignal.any(signals)
  const startMs = now()
  const id = newRunId(new Date(startMs))
  const self = currentHolder(id)
  const record: RunRecord = {
    version: 1, id, flow: options.name, state: 'Running', start: new Date(startMs).toISOString(),
    ...(parent ? { parentRunId: parent.runId } : {}),
    ...(o.parameters ? { parameters: jsonCopy(o.parameters) as Record<string, unknown> } : {}),
    tasks: [], summary: {}, hooks: [], notifications: [], host: hostname(), pid: process.pid,
    processStart: self.start, boot: self.boot,
  }
  const writer = new RecordWriter(join(runsDir(dataDir), `${id}.json`), () => record)
  await writer.start()
  const ctx = new RunContext({ record, signal, dataDir, log, now, refreshCache: o.refreshCache ?? parent?.refreshCache ?? false, writer })
  const label = `flow ${options.name}`
  log.info(`${label}: run ${id} started`, { runId: id, flow: options.name })

  let detail: HookDetail<R>
  let lock: { release(): Promise<void> } | undefined
  try {
    lock = await o.lock?.(id, signal)
    const result = await runInside(ctx, () => fn(input, ctx))
    record.state = 'Completed'
    detail = { result }
  } catch (err) {
    // A run stopped for taking too long (the signal's reason is ETL_TIMEOUT) failed; one stopped by a signal was cancelled.
    const reason: unknown = signal.aborted ? signal.reason : undefined
    const timedOut = reason instanceof EtlError && reason.code === 'ETL_TIMEOUT'
    const cancelled = !timedOut && (signal.aborted || (err instanceof EtlError && err.code === 'ETL_CANCELLED'))
    const error = timedOut ? reason : cancelled && !(err instanceof EtlError && err.code === 'ETL_CANCELLED') ? cancelledError(signal, `${label}, run ${id},`) : err
    record.state = cancelled ? 'Cancelled' : 'Failed'
    record.error = errorRecord(error)
    detail = { error }
  } finally {
    await lock?.release()
  }
  const endMs = now()
  record.end = new Date(endMs).toISOString()
  record.durationMs = endMs - startMs
  ctx.save()

  const timeoutMs = (options.hookTimeoutSeconds ?? 60) * 1000
  const kind = record.state === 'Completed' ? 'onCompletion' : record.state === 'Cancelled' ? 'onCancellation' : 'onFailure'
  await runHooks(kind, hookList(options[kind], o[kind]), record, detail, timeoutMs, log)

  const deliveries = await notify(record, targets)
  record.notifications.push(...deliveries)
  for (const d of deliveries) {
    if (!d.ok) log.warn(`${label}: webhook ${d.target} not delivered after ${d.attempts} attempt(s)`, { runId: id, code: d.error?.code, error: d.error?.message })
  }
  try {
    await writer.flush()
  } catch (err) {
    log.error(`${label}: run record not written`, { runId: id, error: errorRecord(err).message })
  }

  const took = `${((record.durationMs ?? 0) / 1000).toFixed(1)}s`
  if (record.state === 'Completed') {
    log.info(`${label}: run ${id} Completed in ${took}`, { runId: id, flow: options.name, state: record.state, durationMs: record.durationMs })
    return { id, state: 'Completed', record, result: detail.result as R }
  }
  const line = `${label}: run ${id} ${record.state} after ${took}: ${record.error?.code}`
  // The message (a quality-gate report can be long) is the caller's to print: the outcome carries it.
  if (record.state === 'Cancelled') log.warn(line, { runId: id, flow: options.name, state: record.state, code: record.error?.code })
  else log.error(line, { runId: id, flow: options.name, state: record.state, code: record.error?.code })
  return { id, state: record.state, record, error: detail.error }
}
