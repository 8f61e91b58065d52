/**
 * Webhook notifications for flow runs: a JSON POST (got) with the event, the
 * pipeline and table, the run id, its state, timings, rows per stage, the
 * error and its class, the failed expectations and a Slack-compatible `text`
 * (webhook-payload.ts). With a secret, the exact body bytes are signed as
 * Standard Webhooks does (webhook-sign.ts: `webhook-id`, `webhook-timestamp`,
 * `webhook-signature`), plus the older `X-Etl-Signature` for one release.
 *
 * Delivery is retried (network errors, 408, 429, 5xx) a few times with a short
 * doubling delay; whatever happens, `deliver()` resolves with a record of the
 * outcome and never rejects: a webhook never fails a flow. The URL is recorded
 * by origin only (a Slack webhook URL's path is its secret).
 */
import { createHash } from 'node:crypto'
import { EtlError, invalidOption, stripUrlAuth } from '../errors.ts'
import { errorRecord } from './context.ts'
import { checkInteger, checkNonNegative, checkPositive, rejectUnknownKeys } from './options.ts'
import { sleep } from './retry.ts'
import type { DeliveryRecord, ErrorRecord, RunRecord, WebhookEvent } from './run-record.ts'
import { webhookPayload, type WebhookPayload } from './webhook-payload.ts'
import { signBody, standardWebhookHeaders } from './webhook-sign.ts'

export { schedulePayload, webhookPayload, type FailedExpectation, type WebhookEventName, type WebhookPayload } from './webhook-payload.ts'
export { replayGuard, signBody, signWebhook, verifySignature, verifyWebhook, webhookKey, type ReplayGuard, type VerifyOptions, type VerifyResult } from './webhook-sign.ts'

export interface WebhookTarget {
  /** http(s) URL receiving the POST. */
  readonly url: string
  /**
   * Which events are sent. Default `['failed', 'cancelled', 'warned', 'skipped']` (`warned`: loaded with
   * `--on-invalid warn` past a failed gate; `skipped`: a schedule's tick skipped); add `'completed'` to hear of successes.
   */
  readonly events?: readonly WebhookEvent[]
  /** Shared secret for the signature (the CLI passes ETL_WEBHOOK_SECRET). No signature without it. */
  readonly secret?: string
  /** Attempts after the first. Default 3. */
  readonly retries?: number
  /** First retry delay in seconds, doubling after each attempt, capped at 5 s. Default 0.5. */
  readonly retryDelaySeconds?: number
  /** Bound on each attempt, in seconds. Default 5. */
  readonly timeoutSeconds?: number
}

const targetKeys = ['url', 'events', 'secret', 'retries', 'retryDelaySeconds', 'timeoutSeconds']
const allEvents: readonly WebhookEvent[] = ['completed', 'failed', 'cancelled', 'warned', 'skipped']
/** What a target without `events` hears: everything but plain success. */
export const FAILURE_EVENTS: readonly WebhookEvent[] = ['failed', 'cancelled', 'warned', 'skipped']

/** Checks a target (or a bare URL) once; returns the normalized target. Throws ETL_INVALID_OPTION (message without credentials). */
export function webhookTarget(input: string | WebhookTarget, path = 'webhook'): WebhookTarget {
  const target = typeof input === 'string' ? { url: input } : input
  rejectUnknownKeys(path, target, targetKeys)
  let url: URL
  try {
    url = new URL(target.url)
  } catch {
    throw invalidOption(`${path}.url`, 'an http(s) URL', stripUrlAuth(String(target.url)))
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw invalidOption(`${path}.url`, 'an http(s) URL', `${url.protocol}//${url.host}`)
  if (target.events !== undefined && (!Array.isArray(target.events) || target.events.some((e) => !allEvents.includes(e)))) {
    throw invalidOption(`${path}.events`, `a list of ${allEvents.join(', ')}`, target.events)
  }
  if (target.secret !== undefined && (typeof target.secret !== 'string' || target.secret === '')) throw invalidOption(`${path}.secret`, 'a non-empty string', '***')
  checkInteger(`${path}.retries`, target.retries, 0)
  checkNonNegative(`${path}.retryDelaySeconds`, target.retryDelaySeconds)
  checkPositive(`${path}.timeoutSeconds`, target.timeoutSeconds)
  return target
}

/** The event a run's final state sends, if any: a completed run whose quality gate failed under `--on-invalid warn` is `warned`. */
export function eventOf(state: RunRecord['state'], record?: Pick<RunRecord, 'summary'>): WebhookEvent | undefined {
  if (state === 'Completed') {
    const gate = record?.summary.gate as { passed?: unknown } | undefined
    return gate && gate.passed === false ? 'warned' : 'completed'
  }
  return state === 'Failed' ? 'failed' : state === 'Cancelled' ? 'cancelled' : undefined
}

/** Whether a target wants an event: a `warned` run also goes to targets of `completed` (it completed). */
export function wants(target: WebhookTarget, event: WebhookEvent): boolean {
  const events = target.events ?? FAILURE_EVENTS
  return events.includes(event) || (event === 'warned' && events.includes('completed'))
}

/** How a target is shown in records and logs: its origin (no credentials, no path) and a short hash of the full URL. */
export function describeTarget(url: string): { target: string; targetId: string } {
  let origin: string
  try {
    origin = new URL(url).origin
  } catch {
    origin = 'invalid-url'
  }
  return { target: origin, targetId: createHash('sha256').update(url).digest('hex').slice(0, 8) }
}

const retryStatus = (status: number) => status === 408 || status === 429 || status >= 500

/**
 * Posts `payload` to `target`; resolves with the delivery record, never rejects.
 * Errors are recorded as ETL_WEBHOOK with a redacted message.
 */
export async function deliver(target: WebhookTarget, payload: WebhookPayload): Promise<DeliveryRecord> {
  const { url, secret, retries = 3, retryDelaySeconds = 0.5, timeoutSeconds = 5 } = target
  const shown = describeTarget(url)
  const body = JSON.stringify(payload)
  // One id per message, the same on every attempt, so that a receiver can tell a retry from a new message.
  const id = `msg_${createHash('sha256').update(`${payload.runId ?? ''}|${payload.event}|${payload.schedule?.scheduledAt ?? ''}|${payload.runId ? '' : payload.timestamp}`).digest('base64url').slice(0, 24)}`
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': 'prostate-etl',
    'x-etl-event': payload.event,
    ...(payload.runId ? { 'x-etl-run-id': payload.runId } : {}),
  }
  if (secret) headers['x-etl-signature'] = signBody(body, secret)
  const started = Date.now()
  let attempts = 0
  let status: number | undefined
  let error: ErrorRecord | undefined
  for (;;) {
    attempts++
    let retryable: boolean
    try {
      const { default: got } = await import('got') // on demand: ~30 MB a run without webhooks should not pay
      // Each attempt is signed at its own time: a receiver's tolerance applies to the attempt, not the first try.
      const signed = secret ? { ...headers, ...standardWebhookHeaders(id, body, secret) } : { ...headers, 'webhook-id': id }
      const response = await got.post(url, {
        body, headers: signed, throwHttpErrors: false, followRedirect: false, retry: { limit: 0 }, timeout: { request: timeoutSeconds * 1000 },
      })
      status = response.statusCode
      if (status >= 200 && status < 300) {
        error = undefined
        break
      }
      error = { code: 'ETL_WEBHOOK', message: `${shown.target} answered HTTP ${status}` }
      retryable = retryStatus(status)
    } catch (err) {
      status = undefined
      const message = errorRecord(err).message.split(url).join(shown.target)
      error = errorRecord(new EtlError('ETL_WEBHOOK', `${shown.target} not reached: ${message}`))
      retryable = true
    }
    if (!retryable || attempts > retries) break
    await sleep(Math.min(retryDelaySeconds * 2 ** (attempts - 1), 5) * 1000 * (1 + Math.random() * 0.2))
  }
  return {
    event: eventFrom(payload.event), ...shown, ok: error === undefined, attempts, durationMs: Date.now() - started, signed: Boolean(secret),
    ...(status === undefined ? {} : { status }), ...(error ? { error } : {}),
  }
}

function eventFrom(event: WebhookPayload['event']): WebhookEvent {
  return event.slice(event.indexOf('.') + 1) as WebhookEvent
}

/** Sends a finished run to every target that asked for its event, at once. Never rejects. */
export async function notify(record: RunRecord, targets: readonly WebhookTarget[]): Promise<DeliveryRecord[]> {
  const event = eventOf(record.state, record)
  if (!event) return []
  return notifyEvent(webhookPayload(record, event), targets)
}

/** Sends a payload (a run's, or a schedule's own) to every target that asked for its event, at once. Never rejects. */
export async function notifyEvent(payload: WebhookPayload, targets: readonly WebhookTarget[]): Promise<DeliveryRecord[]> {
  const event = eventFrom(payload.event)
  const wanted = targets.filter((t) => wants(t, event))
  return Promise.all(wanted.map((t) => deliver(t, payload)))
}
