/**
 * task(): an async function with retries, backoff, a timeout and a result
 * cache, recorded into the flow run it is called from (Prefect's `@task`).
 *
 *     call -> [cache fresh? -> Cached] -> attempt 1 -> fail -> retryOn? -> wait -> attempt 2 ... -> Completed | Failed
 *                                          (timeout per attempt: ETL_TIMEOUT)   (run cancelled: Cancelled)
 */
import { withSpan } from '../telemetry.ts'
import { EtlError, exitCodeOf, redact } from '../errors.ts'
import { cacheFileKey, fileStamps, readCache, untrusted, writeCache } from './cache.ts'
import { currentRunContext, errorRecord } from './context.ts'
import { silentLogger, type FlowLogger } from './log.ts'
import { checkFunction, checkInteger, checkName, checkNonNegative, checkPositive, rejectUnknownKeys } from './options.ts'
import { cancelledError, checkRetryDelay, retryDelayMs, sleep, withTimeout, type RetryDelay } from './retry.ts'
import type { TaskRunRecord } from './run-record.ts'

export interface TaskOptions<I, R> {
  /** The name in logs and in the run record. */
  readonly name: string
  /** Attempts after the first. Default 0. */
  readonly retries?: number
  /** Seconds before the next attempt (see RetryDelay: a number means exponential backoff with jitter). Default 0. */
  readonly retryDelaySeconds?: RetryDelay
  /** Delay multiplied by a random factor in [1, 1 + jitter]. Default 0.2 for a number delay, 0 for a list or function. */
  readonly retryJitterFactor?: number
  /** Cap on any one delay, in seconds. Default 300. */
  readonly maxRetryDelaySeconds?: number
  /**
   * Whether a failed attempt may be retried. Default: every error except an
   * EtlError of exit code 2 or 3 (usage, configuration, quality gate: they
   * would fail again). A step that may already have loaded rows returns false
   * here. Never retried, whatever this says: a cancelled run, and an EtlError
   * whose `details.retryable` is false (the way a step marks a failure after
   * which a retry could load rows twice).
   */
  readonly retryOn?: (err: unknown, attempt: number) => boolean
  /** Bound on each attempt, in seconds; an attempt that overruns fails with ETL_TIMEOUT (retried like any error). */
  readonly timeoutSeconds?: number
  /**
   * Turns caching on: the key for this input (`taskInputHash` hashes the input's
   * JSON), or null/undefined to not cache this call. The cache lives in
   * `<dataDir>/cache/`; with no data folder (a task called outside a flow
   * without `dataDir`) nothing is cached.
   */
  readonly cacheKeyFn?: (input: I) => string | null | undefined
  /** How long a cache entry stays fresh, in seconds. Default: forever. */
  readonly cacheExpirationSeconds?: number
  /** A last check on a fresh entry (e.g. that a file it names still exists); false runs the task. */
  readonly cacheValid?: (result: R) => boolean | Promise<boolean>
  /**
   * The files a result vouches for (its input, the files it wrote): the entry
   * records each one's size and SHA-256, and is used only while every one
   * still matches (lib/flow/cache.ts). A file that cannot be read at that
   * moment keeps the result from being cached.
   */
  readonly cacheFiles?: (input: I, result: R) => readonly string[]
  /** Ignore (and overwrite) existing entries. Default false (a flow run can also ask for it). */
  readonly refreshCache?: boolean
  /** Data folder and logger for calls made outside a flow run (inside one, the run's are used). */
  readonly dataDir?: string
  readonly log?: FlowLogger
  /** Clock in ms for cache expiry, outside a flow run. Default Date.now. */
  readonly now?: () => number
  /** Random source for jitter, in [0, 1). Default Math.random. */
  readonly random?: () => number
}

/** What the task's function gets besides its input. */
export interface TaskContext {
  /** Aborts on timeout (reason: an ETL_TIMEOUT EtlError) or when the run is cancelled. Stop when it does. */
  readonly signal: AbortSignal
  /** 1-based. */
  readonly attempt: number
  /** As recorded (`name`, or `name#2` for a second call in the same run). */
  readonly taskName: string
  /** The flow run's id, when called inside one. */
  readonly runId: string | undefined
  readonly log: FlowLogger
}

export interface TaskCallOptions {
  /** Cancels this call (combined with the flow run's signal). */
  readonly signal?: AbortSignal
}

/** A task: call it like the function it wraps. */
export interface Task<I, R> {
  (input: I, options?: TaskCallOptions): Promise<R>
  readonly taskName: string
  /** The same function with some options changed (e.g. `--retries` from the command line). Prefect's `with_options`. */
  withOptions(overrides: Partial<TaskOptions<I, R>>): Task<I, R>
}

const keys = [
  'name', 'retries', 'retryDelaySeconds', 'retryJitterFactor', 'maxRetryDelaySeconds', 'retryOn', 'timeoutSeconds',
  'cacheKeyFn', 'cacheExpirationSeconds', 'cacheValid', 'cacheFiles', 'refreshCache', 'dataDir', 'log', 'now', 'random',
]

/**
 * Wraps `fn` as a task. Rejects with what `fn` threw on its last attempt, with
 * ETL_TIMEOUT when the last attempt timed out, or with ETL_CANCELLED when the
 * run (or the call's signal) was cancelled. Options are checked here: throws
 * ETL_INVALID_OPTION. A cache that cannot be read is a miss; one that cannot be
 * written is logged, never a failure.
 */
export function task<I = void, R = unknown>(options: TaskOptions<I, R>, fn: (input: I, ctx: TaskContext) => Promise<R>): Task<I, R> {
  rejectUnknownKeys('task', options, keys)
  checkName('task.name', options.name)
  checkInteger('task.retries', options.retries, 0)
  if (options.retryDelaySeconds !== undefined) checkRetryDelay('task.retryDelaySeconds', options.retryDelaySeconds)
  checkNonNegative('task.retryJitterFactor', options.retryJitterFactor)
  checkNonNegative('task.maxRetryDelaySeconds', options.maxRetryDelaySeconds)
  checkPositive('task.timeoutSeconds', options.timeoutSeconds)
  checkPositive('task.cacheExpirationSeconds', options.cacheExpirationSeconds)
  for (const k of ['retryOn', 'cacheKeyFn', 'cacheValid', 'cacheFiles', 'now', 'random'] as const) checkFunction(`task.${k}`, options[k])
  checkFunction('task fn', fn)
  const call = (input: I, callOptions: TaskCallOptions = {}) => runTask(options, fn, input, callOptions)
  return Object.assign(call, {
    taskName: options.name,
    withOptions: (overrides: Partial<TaskOptions<I, R>>) => task<I, R>({ ...options, ...overrides }, fn),
  })
}

function defaultRetryOn(err: unknown): boolean {
  return !(err instanceof EtlError && exitCodeOf(err.code) !== 1)
}

/** A task call inside its span (`etl.task <name>`, child of the run's). */
function runTask<I, R>(options: TaskOptions<I, R>, fn: (input: I, ctx: TaskContext) => Promise<R>, input: I, call: TaskCallOptions): Promise<R> {
  return withSpan(`etl.task ${options.name}`, { 'etl.task': options.name }, () => runTaskRecorded(options, fn, input, call))
}

async function runTaskRecorded<I, R>(options: TaskOptions<I, R>, fn: (input: I, ctx: TaskContext) => Promise<R>, input: I, call: TaskCallOptions): Promise<R> {
  const run = currentRunContext()
  const now = run?.now ?? options.now ?? Date.now
  const log = run?.log ?? options.log ?? silentLogger
  const dataDir = run?.dataDir ?? options.dataDir
  const signals = [run?.signal, call.signal].filter((s): s is AbortSignal => s !== undefined)
  const signal = signals.length > 1 ? AbortSignal.any(signals) : signals[0]
  const record: TaskRunRecord = run?.addTask(options.name, new Date(now()).toISOString()) ?? {
    name: options.name, state: 'Running', attempts: 0, start: new Date(now()).toISOString(), attemptLog: [],
  }
  const save = () => run?.save()
  const finish = (state: TaskRunRecord['state'], err?: unknown) => {
    record.state = state
    record.end = new Date(now()).toISOString()
    record.durationMs = Date.parse(record.end) - Date.parse(record.start)
    if (err !== undefined) record.error = errorRecord(err)
    save()
  }
  const label = `task ${record.name}`

  if (signal?.aborted) {
    const err = cancelledError(signal, label)
    finish('Cancelled', err)
    throw err
  }

  let fileKey: string | undefined
  try {
    const key = options.cacheKeyFn && dataDir !== undefined ? options.cacheKeyFn(input) : undefined
    if (typeof key === 'string') fileKey = cacheFileKey(options.name, key)
  } catch (err) {
    finish('Failed', err)
    throw err
  }
  if (fileKey !== undefined && dataDir !== undefined) {
    record.cacheKey = fileKey
    const hit = options.refreshCache || run?.refreshCache ? undefined : await cacheHit(options, dataDir, fileKey, now(), (m) => log.warn(`${label}: ${m}`, { task: record.name, cacheKey: fileKey }))
    if (hit) {
      record.cached = true
      if (hit.expiresAt) record.cacheExpires = hit.expiresAt
      finish('Cached')
      log.info(`${label}: cached result used, not run`, { task: record.name, cacheKey: fileKey, expires: hit.expiresAt ?? 'never' })
      return hit.result as R
    }
  }

  const retries = options.retries ?? 0
  const retryOn = options.retryOn ?? defaultRetryOn
  const timeoutMs = options.timeoutSeconds === undefined ? undefined : options.timeoutSeconds * 1000
  for (let attempt = 1; ; attempt++) {
    record.attempts = attempt
    record.state = 'Running'
    save()
    const started = now()
    try {
      const ctx = (s: AbortSignal): TaskContext => ({ signal: s, attempt, taskName: record.name, runId: run?.runId, log })
      const result = await withTimeout((s) => fn(input, ctx(s)), timeoutMs, signal, `${label} (attempt ${attempt})`)
      record.attemptLog.push({ attempt, start: new Date(started).toISOString(), durationMs: now() - started })
      if (fileKey !== undefined && dataDir !== undefined) await storeCache(options, input, dataDir, fileKey, result, now(), record, log)
      finish('Completed')
      return result
    } catch (err) {
      const entry = { attempt, start: new Date(started).toISOString(), durationMs: now() - started, error: errorRecord(err) }
      if (signal?.aborted) {
        record.attemptLog.push(entry)
        const cancelled = err instanceof EtlError && err.code === 'ETL_CANCELLED' ? err : cancelledError(signal, label)
        finish('Cancelled', cancelled)
        throw cancelled
      }
      const refused = err instanceof EtlError && err.details?.retryable === false
      let retry = attempt <= retries && !refused
      if (retry) {
        try {
          retry = retryOn(err, attempt)
        } catch (predicateError) {
          log.warn(`${label}: retryOn threw; not retrying`, { error: errorRecord(predicateError).message })
          retry = false
        }
      }
      if (!retry) {
        record.attemptLog.push(entry)
        finish('Failed', err)
        if (attempt <= retries) log.warn(`${label}: not retried (${refused ? 'the error says a retry is unsafe' : 'retryOn refused'})`, { attempt, code: entry.error.code })
        throw err
      }
      const delay = retryDelayMs(options.retryDelaySeconds ?? 0, attempt, {
        jitter: options.retryJitterFactor, maxSeconds: options.maxRetryDelaySeconds, random: options.random,
      })
      record.attemptLog.push({ ...entry, retryDelayMs: delay })
      record.state = 'Retrying'
      save()
      log.warn(`${label}: attempt ${attempt} failed, retrying in ${delay / 1000}s`, { attempt, retries, code: entry.error.code, error: redact(entry.error.message) })
      try {
        await sleep(delay, signal, label)
      } catch (cancelled) {
        finish('Cancelled', cancelled)
        throw cancelled
      }
    }
  }
}

async function cacheHit<I, R>(options: TaskOptions<I, R>, dataDir: string, fileKey: string, nowMs: number, warn: (m: string) => void) {
  const entry = await readCache(dataDir, fileKey, nowMs)
  if (!entry) return undefined
  const distrust = await untrusted(entry)
  if (distrust) {
    warn(`cache entry not trusted (${distrust}): running instead`)
    return undefined
  }
  if (options.cacheValid) {
    try {
      if (!(await options.cacheValid(entry.result as R))) return undefined
    } catch {
      return undefined
    }
  }
  return entry
}

async function storeCache<I, R>(
  options: TaskOptions<I, R>, input: I, dataDir: string, fileKey: string, result: R, nowMs: number, record: TaskRunRecord, log: FlowLogger,
): Promise<void> {
  const expiresAt = options.cacheExpirationSeconds === undefined ? null : new Date(nowMs + options.cacheExpirationSeconds * 1000).toISOString()
  try {
    const files = options.cacheFiles ? await fileStamps(options.cacheFiles(input, result)) : undefined
    await writeCache(dataDir, fileKey, { version: 1, task: options.name, createdAt: new Date(nowMs).toISOString(), expiresAt, result, ...(files ? { files } : {}) })
    if (expiresAt) record.cacheExpires = expiresAt
  } catch (err) {
    log.warn(`task ${record.name}: result not cached`, { error: errorRecord(err).message })
  }
}
