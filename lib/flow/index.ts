/**
 * Orchestration in Prefect's vocabulary: tasks, flows, state hooks, webhooks,
 * schedules and run records. No data streams here: a pipeline is a flow
 * function whose tasks run the streams.
 *
 *     schedule(cron) ── tick ──> flow.run(input, { dataDir, signal, webhooks })
 *                                  │ id, record <dataDir>/runs/<id>.json (Running, rewritten as it goes)
 *                                  ▼
 *                               fn(input, ctx) ── calls ──> task A ─> task B ─> ...
 *                                  │                          │ cache <dataDir>/cache/<key>.json (fresh? Cached)
 *                                  │                          │ attempt ─ fail ─ retryOn? ─ backoff ─ attempt ...
 *                                  │                          │ timeoutSeconds per attempt (ETL_TIMEOUT)
 *                                  │ ctx.summarize(stage, counts)
 *                                  ▼
 *                               final state: Completed | Failed | Cancelled (signal aborted)
 *                                  ├─> hooks onCompletion / onFailure / onCancellation (errors recorded)
 *                                  ├─> webhooks (signed POST, retried; outcome recorded, never fails the run)
 *                                  └─> record written; outcome { id, state, record, result | error }
 *
 * Retries: `retries` + `retryDelaySeconds` (a number: delay * 2^(attempt-1) *
 * a jitter factor in [1, 1.2]; a list; a function). `retryOn(err)` can refuse,
 * and an EtlError with `details.retryable === false` is never retried (a step
 * marks that way a failure after which a retry could load rows twice).
 * `task.withOptions({ retries })` applies command-line flags to a task.
 *
 * Tasks find their run through AsyncLocalStorage, so a task called anywhere
 * inside a flow function records itself; outside a flow a task still retries,
 * times out and (given `dataDir`) caches. Cancellation is cooperative: the
 * signal reaches the flow function and every task, and they are waited for
 * (a step never shows "Cancelled" while it is still writing); a timeout is
 * enforced (the attempt is abandoned after its signal is aborted).
 *
 * Files: task.ts (retry loop), retry.ts (delays, sleep, timeout), cache.ts,
 * flow.ts, context.ts (run state), hooks.ts, webhook.ts, run-record.ts (the
 * RunRecord type), run-store.ts (atomic records, listRuns, readRun), cron.ts,
 * schedule.ts, log.ts, options.ts (option checks).
 */
export { task, type Task, type TaskCallOptions, type TaskContext, type TaskOptions } from './task.ts'
export { flow, type Flow, type FlowHooks, type FlowOptions, type FlowRunOptions, type FlowRunOutcome } from './flow.ts'
export { currentRun, type FlowContext } from './context.ts'
export type { HookDetail, RunHook } from './hooks.ts'
export { taskInputHash, stableJson } from './cache.ts'
export { retryDelayMs, type RetryDelay } from './retry.ts'
export {
  deliver, FAILURE_EVENTS, notify, notifyEvent, replayGuard, schedulePayload, signBody, signWebhook, verifySignature, verifyWebhook, webhookKey,
  webhookPayload, webhookTarget, type FailedExpectation, type ReplayGuard, type VerifyOptions, type VerifyResult, type WebhookEventName,
  type WebhookPayload, type WebhookTarget,
} from './webhook.ts'
export type {
  AttemptRecord, DeliveryRecord, ErrorRecord, HookRecord, RunRecord, RunState, TaskRunRecord, TaskState, WebhookEvent,
} from './run-record.ts'
export { isUnreadable, listRuns, newRunId, readRun, runsDir, type ListRunsOptions } from './run-store.ts'
export { applyRetention, RETENTION_DEFAULTS, retentionPolicy, runIdTime, type RetentionPolicy, type RetentionResult } from './retention.ts'
export { isTimeZone, parseCron, type Cron, type CronOptions } from './cron.ts'
export { schedule, type ScheduledRun, type ScheduleEvent, type ScheduleOptions, type ScheduleSummary, type Tick } from './schedule.ts'
export { createLogger, silentLogger, type FlowLogger, type Logger, type LoggerOptions, type LogLevel } from './log.ts'
