/**
 * The run record: what `<dataDir>/runs/<id>.json` holds, what `etl runs`
 * lists, what `--json` prints and what an HTML report reads. Plain JSON, no
 * secret in it (messages pass through redact(), webhook targets are shown by
 * origin only).
 *
 * The record is rewritten as the run goes (run start, each task start, retry
 * and end, each summary update, run end), so a crash leaves a `Running`
 * record with the tasks done so far; `readRun`/`listRuns` show such a record
 * as `Crashed` when its process is gone: judged by host, pid and the
 * process's start time together, so a pid reused by another process (PID 1
 * in every container) does not keep a dead run `Running`. A record that
 * cannot be read (cut short, not JSON) is listed as `Unreadable`, not left out.
 */

/**
 * Final states of a run, plus `Running` while it goes, and two derived when
 * read, never written: `Crashed` (left `Running` by a process that is gone)
 * and `Unreadable` (a record file that cannot be read; its error says why).
 */
export type RunState = 'Running' | 'Completed' | 'Failed' | 'Cancelled' | 'Crashed' | 'Unreadable'

/**
 * States of one task run. `Retrying` while waiting before the next attempt;
 * `Cached` when a fresh cache entry was used instead of running the function.
 * A task whose last attempt timed out is `Failed` with error code ETL_TIMEOUT.
 */
export type TaskState = 'Running' | 'Retrying' | 'Completed' | 'Cached' | 'Failed' | 'Cancelled'

/** An error as recorded: stable code and a redacted message. */
export interface ErrorRecord {
  readonly code: string
  readonly message: string
}

/** One attempt of a task. */
export interface AttemptRecord {
  /** 1-based. */
  readonly attempt: number
  readonly start: string
  readonly durationMs: number
  readonly error?: ErrorRecord
  /** Milliseconds waited after this failed attempt before the next one. */
  readonly retryDelayMs?: number
}

export interface TaskRunRecord {
  /** The task's name; a task called more than once in a run gets `name#2`, `name#3` ... */
  readonly name: string
  state: TaskState
  /** Attempts made (0 for a cache hit). */
  attempts: number
  readonly start: string
  end?: string
  durationMs?: number
  /** True when the result came from the cache and the function did not run. */
  cached?: true
  /** The cache file's key, when the task caches. */
  cacheKey?: string
  /** When a cached or newly written cache entry expires (ISO 8601), if it does. */
  cacheExpires?: string
  readonly attemptLog: AttemptRecord[]
  error?: ErrorRecord
}

export interface HookRecord {
  readonly hook: 'onCompletion' | 'onFailure' | 'onCancellation'
  /** The hook function's name, or its position (`#1`) when anonymous. */
  readonly name: string
  readonly ok: boolean
  readonly durationMs: number
  readonly error?: ErrorRecord
}

/** One webhook delivery: the target by origin (a URL path can hold a token) plus a short hash of the full URL. */
export interface DeliveryRecord {
  readonly event: WebhookEvent
  readonly target: string
  readonly targetId: string
  readonly ok: boolean
  readonly attempts: number
  /** HTTP status of the last attempt, when a response came. */
  readonly status?: number
  readonly durationMs: number
  readonly signed: boolean
  readonly error?: ErrorRecord
}

/** `warned`: completed past a failed quality gate (`--on-invalid warn`); `skipped`: a schedule's tick skipped (no run). */
export type WebhookEvent = 'completed' | 'failed' | 'cancelled' | 'warned' | 'skipped'

export interface RunRecord {
  /** Format version of this record. */
  readonly version: 1
  /** Time-sortable: `YYYYMMDDTHHMMSSmmmZ-xxxxxxxx` (UTC start time, then 8 random characters). */
  readonly id: string
  readonly flow: string
  state: RunState
  readonly start: string
  end?: string
  durationMs?: number
  /** The run id of the flow run this one was started from (a subflow). */
  readonly parentRunId?: string
  /** Parameters the caller chose to record (strings redacted). */
  readonly parameters?: Readonly<Record<string, unknown>>
  readonly tasks: TaskRunRecord[]
  /** Stage summaries filled by the flow (row counts, validation and meta-validation outcome ...): free-form JSON. */
  readonly summary: Record<string, unknown>
  error?: ErrorRecord
  readonly hooks: HookRecord[]
  readonly notifications: DeliveryRecord[]
  /** Where it ran; used to tell a crashed run from a running one. */
  readonly host: string
  readonly pid: number
  /** The process's start time (/proc/<pid>/stat field 22) and the boot id, where readable: with host and pid, its liveness. */
  readonly processStart?: string | null
  readonly boot?: string | null
}
