/**
 * Retry delays, abortable sleeps and per-attempt timeouts: the pure parts of
 * a task's retry loop.
 */
import { EtlError, invalidOption } from '../errors.ts'

/**
 * How long to wait before the next attempt, in seconds:
 * - a number `d`: exponential backoff, `d * 2^(attempt-1)`, times a jitter factor;
 * - a list: the n-th failed attempt waits `list[n-1]` (the last value repeats);
 * - a function of the failed attempt's number (1-based).
 */
export type RetryDelay = number | readonly number[] | ((attempt: number) => number)

export interface DelayOptions {
  /**
   * Jitter: the delay is multiplied by a random factor in `[1, 1 + jitter]`.
   * Default 0.2 when the delay is a number (exponential backoff), 0 (exact
   * delays) for a list or a function.
   */
  readonly jitter?: number
  /** Upper bound of any one delay, in seconds. Default 300. */
  readonly maxSeconds?: number
  /** Random source in [0, 1). Default `Math.random`. */
  readonly random?: () => number
}

/** Checks a RetryDelay once, at task construction. Throws ETL_INVALID_OPTION. */
export function checkRetryDelay(path: string, spec: RetryDelay): void {
  if (typeof spec === 'function') return
  const values = typeof spec === 'number' ? [spec] : spec
  if (!Array.isArray(values) || values.length === 0 || values.some((v) => typeof v !== 'number' || !Number.isFinite(v) || v < 0)) {
    throw invalidOption(path, 'a number of seconds >= 0, a non-empty list of them, or a function of the attempt', spec)
  }
}

/** The delay in milliseconds after failed attempt `attempt` (1-based). A function returning a bad value counts as 0. */
export function retryDelayMs(spec: RetryDelay, attempt: number, options: DelayOptions = {}): number {
  const { maxSeconds = 300, random = Math.random } = options
  let seconds: number
  let jitter: number
  if (typeof spec === 'number') {
    seconds = spec * 2 ** (attempt - 1)
    jitter = options.jitter ?? 0.2
  } else if (typeof spec === 'function') {
    seconds = spec(attempt)
    jitter = options.jitter ?? 0
  } else {
    seconds = spec[Math.min(attempt - 1, spec.length - 1)] ?? 0
    jitter = options.jitter ?? 0
  }
  if (!Number.isFinite(seconds) || seconds < 0) seconds = 0
  const withJitter = seconds * (1 + random() * jitter)
  return Math.round(Math.min(withJitter, maxSeconds) * 1000)
}

/** The error a cancelled run's pending work rejects with. */
export function cancelledError(signal: AbortSignal, what: string): EtlError {
  const reason: unknown = signal.reason
  const why =
    reason instanceof EtlError ? reason.message : reason instanceof Error && reason.name !== 'AbortError' ? reason.message : typeof reason === 'string' ? reason : ''
  return new EtlError('ETL_CANCELLED', `${what} cancelled${why ? `: ${why}` : ''}`, { cause: reason })
}

/** Waits `ms`, or rejects with ETL_CANCELLED as soon as `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal, what = 'wait'): Promise<void> {
  if (signal?.aborted) return Promise.reject(cancelledError(signal, what))
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer)
      reject(cancelledError(signal as AbortSignal, what))
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

/**
 * Runs `fn` with a signal that aborts when `parent` aborts or after
 * `timeoutMs`. On timeout the returned promise rejects at once with
 * ETL_TIMEOUT (the function is told through its signal, but not waited for:
 * a timeout that waits for a function ignoring its signal would not bound
 * anything). On a parent abort the function is waited for: cancellation is
 * cooperative, so a step never reports "cancelled" while it is still writing.
 */
export function withTimeout<R>(
  fn: (signal: AbortSignal) => Promise<R>,
  timeoutMs: number | undefined,
  parent: AbortSignal | undefined,
  what: string,
): Promise<R> {
  const own = new AbortController()
  const signal = parent ? AbortSignal.any([parent, own.signal]) : own.signal
  const work = Promise.resolve().then(() => fn(signal))
  if (timeoutMs === undefined) return work
  let timer: NodeJS.Timeout | undefined
  const timedOut = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      const err = new EtlError('ETL_TIMEOUT', `${what} timed out after ${timeoutMs / 1000}s`, { details: { timeoutSeconds: timeoutMs / 1000 } })
      own.abort(err)
      work.catch(() => {}) // it may settle later; nobody waits for it
      reject(err)
    }, timeoutMs)
  })
  return Promise.race([work, timedOut]).finally(() => clearTimeout(timer))
}
