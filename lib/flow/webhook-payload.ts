/**
 * The JSON body of a notification, built from a run record (or, for a
 * schedule's own events, from what the schedule knows). Plain data, redacted;
 * the stage summaries are read as JSON (lib/flow does not know the pipelines'
 * types): `summary.counts` for the rows per stage, `summary.gate` and the
 * validation results for the failed expectations, `summary.load.report`.
 */
import { errorClass, redact, type ErrorClass } from '../errors.ts'
import type { RunRecord, WebhookEvent } from './run-record.ts'

/** The event as named on the wire. */
export type WebhookEventName = 'run.completed' | 'run.failed' | 'run.cancelled' | 'run.warned' | 'schedule.skipped'

export interface FailedExpectation {
  /** `validation` (the data suite) or `meta` (meta-validation). */
  readonly suite: 'validation' | 'meta'
  readonly expectation: string
  readonly column?: string
  readonly unexpectedCount?: number
  readonly unexpectedPercent?: number | null
  readonly observed?: unknown
}

export interface WebhookPayload {
  /** The event (also in `type`, the Standard Webhooks convention). */
  readonly event: WebhookEventName
  readonly type: WebhookEventName
  /** When the message was made (ISO 8601). */
  readonly timestamp: string
  /** The pipeline (flow) name, e.g. `etl-run`. */
  readonly pipeline: string
  readonly flow: string
  /** The source table, `query` for a source query, or null when unknown. */
  readonly table: string | null
  readonly runId: string | null
  readonly state: RunRecord['state'] | null
  readonly start: string | null
  readonly end: string | null
  readonly durationMs: number | null
  readonly tasks: readonly { name: string; state: string; attempts: number; durationMs: number | null; cached: boolean }[]
  /** Rows per stage (`extracted`, `validated`, `quarantined`, `transformed`, `dropped`, `loaded`): those the run reached. */
  readonly rows: Readonly<Record<string, number>>
  /** Numbers and booleans of each stage summary (`{ extract: { rows: 97 }, ... }`). */
  readonly counts: Readonly<Record<string, Readonly<Record<string, number | boolean>>>>
  /** What the load did to the store (inserted, updated, ...), when it committed. */
  readonly load: Readonly<Record<string, unknown>> | null
  readonly error: { readonly code: string; readonly message: string; readonly class: ErrorClass } | null
  /** On a failed (or, with --on-invalid warn, passed-over) quality gate: the expectations that failed. */
  readonly failedExpectations: readonly FailedExpectation[]
  /** For schedule.skipped: the tick and the run still going. */
  readonly schedule?: { readonly cron: string; readonly scheduledAt: string; readonly runningIndex?: number }
  /** Set on the sample that `etl notify --test` sends. */
  readonly test?: true
  /** One line for Slack (`{ text }` is what a Slack incoming webhook reads). */
  readonly text: string
}

export const wireName = (event: WebhookEvent): WebhookEventName => (event === 'skipped' ? 'schedule.skipped' : `run.${event}`)

const obj = (v: unknown): Record<string, unknown> | undefined => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined)

function failedOf(suite: 'validation' | 'meta', summary: unknown): FailedExpectation[] {
  const results = obj(obj(summary)?.result)?.results
  if (!Array.isArray(results)) return []
  return results.flatMap((r): FailedExpectation[] => {
    const res = obj(r)
    if (!res || res.success !== false) return []
    const config = obj(res.expectation_config)
    const detail = obj(res.result) ?? {}
    const column = obj(config?.kwargs)?.column
    return [{
      suite, expectation: String(config?.expectation_type ?? 'unknown'),
      ...(typeof column === 'string' ? { column } : {}),
      ...(typeof detail.unexpected_count === 'number' ? { unexpectedCount: detail.unexpected_count } : {}),
      ...(detail.unexpected_percent !== undefined ? { unexpectedPercent: detail.unexpected_percent as number | null } : {}),
      ...(detail.observed_value !== undefined ? { observed: detail.observed_value } : {}),
    }]
  })
}

/** Builds the payload for a finished run. */
export function webhookPayload(record: RunRecord, event: WebhookEvent, nowMs = Date.now()): WebhookPayload {
  const counts: Record<string, Record<string, number | boolean>> = {}
  for (const [stage, value] of Object.entries(record.summary)) {
    const o = obj(value)
    if (!o) continue
    const picked: Record<string, number | boolean> = {}
    for (const [k, v] of Object.entries(o)) if (typeof v === 'number' || typeof v === 'boolean') picked[k] = v
    if (Object.keys(picked).length) counts[stage] = picked
  }
  const rows: Record<string, number> = {}
  for (const [k, v] of Object.entries(obj(record.summary.counts) ?? {})) if (typeof v === 'number') rows[k] = v
  if (!Object.keys(rows).length && typeof obj(record.summary.extract)?.rows === 'number') rows.extracted = obj(record.summary.extract)?.rows as number
  const gate = obj(record.summary.gate)
  const qualityFailed = gate?.passed === false || record.error?.code === 'ETL_QUALITY_GATE' || event === 'warned'
  const failedExpectations = qualityFailed ? [...failedOf('validation', record.summary.validation), ...failedOf('meta', record.summary.meta)] : []
  const source = record.parameters?.source ?? obj(record.summary.extract)?.source
  const report = obj(obj(record.summary.load)?.report)
  const name = wireName(event)
  return {
    event: name, type: name, timestamp: new Date(nowMs).toISOString(),
    pipeline: record.flow, flow: record.flow, table: typeof source === 'string' ? source : null,
    runId: record.id, state: record.state, start: record.start, end: record.end ?? null, durationMs: record.durationMs ?? null,
    tasks: record.tasks.map((t) => ({ name: t.name, state: t.state, attempts: t.attempts, durationMs: t.durationMs ?? null, cached: t.cached === true })),
    rows, counts, load: report ?? null,
    error: record.error ? { ...record.error, class: errorClass(record.error.code) } : null,
    failedExpectations,
    text: slackText(record, event, rows, failedExpectations),
  }
}

/** The payload of a schedule's own event: a skipped tick, or a run that failed before it had a record. */
export function schedulePayload(
  event: 'skipped' | 'failed', info: { flow: string; table?: string | null; cron: string; scheduledAt: Date; runningIndex?: number; error?: { code: string; message: string } },
  nowMs = Date.now(),
): WebhookPayload {
  const name = wireName(event)
  const error = info.error ? { code: info.error.code, message: redact(info.error.message), class: errorClass(info.error.code) } : null
  const text = event === 'skipped'
    ? `:warning: flow ${info.flow}: tick ${info.scheduledAt.toISOString()} skipped, run ${info.runningIndex ?? '?'} still going`
    : `:x: flow ${info.flow}: the run for ${info.scheduledAt.toISOString()} failed before it started: ${error?.code} ${error?.message}`
  return {
    event: name, type: name, timestamp: new Date(nowMs).toISOString(), pipeline: info.flow, flow: info.flow, table: info.table ?? null,
    runId: null, state: event === 'failed' ? 'Failed' : null, start: null, end: null, durationMs: null, tasks: [], rows: {}, counts: {}, load: null,
    error, failedExpectations: [],
    schedule: { cron: info.cron, scheduledAt: info.scheduledAt.toISOString(), ...(info.runningIndex === undefined ? {} : { runningIndex: info.runningIndex }) },
    text: redact(text),
  }
}

function slackText(record: RunRecord, event: WebhookEvent, rows: Record<string, number>, failed: readonly FailedExpectation[]): string {
  const icon = record.state === 'Completed' ? (event === 'warned' ? ':warning:' : ':white_check_mark:') : record.state === 'Cancelled' ? ':warning:' : ':x:'
  const took = record.durationMs === undefined ? '' : ` in ${(record.durationMs / 1000).toFixed(1)}s`
  const stages = Object.entries(rows).map(([stage, n]) => `${stage} ${n}`)
  const legacy = Object.entries(record.summary)
    .filter(([, c]) => typeof obj(c)?.rows === 'number')
    .map(([stage, c]) => `${stage} ${String(obj(c)?.rows)} rows`)
  const shown = stages.length ? `${stages.join(', ')} rows` : legacy.join(', ')
  const expectations = failed.length ? `; failed: ${failed.slice(0, 3).map((f) => f.expectation + (f.column ? `(${f.column})` : '')).join(', ')}${failed.length > 3 ? ` and ${failed.length - 3} more` : ''}` : ''
  const tail = record.error ? `: ${record.error.code} ${record.error.message}` : shown ? ` (${shown})` : ''
  return redact(`${icon} flow ${record.flow}, run ${record.id}: ${event === 'warned' ? 'Completed with warnings' : record.state}${took}${tail}${expectations}`)
}
