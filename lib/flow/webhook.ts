/**
 * Webhook notifications for flow runs: a JSON POST (got) with the event, the
 * flow, the run id, its state, timings, task states, summary counts, the error
 * and a Slack-compatible `text`. With a secret, the exact body bytes are
 * signed: `X-Etl-Signature: sha256=<hex of HMAC-SHA256(secret, body)>`.
 *
 * Delivery is retried (network errors, 408, 429, 5xx) a few times with a short
 * doubling delay; whatever happens, `deliver()` resolves with a record of the
 * outcome and never rejects: a webhook never fails a flow. The URL is recorded
 * by origin only (a Slack webhook URL's path is its secret).
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto'
import { EtlError, invalidOption, redact, stripUrlAuth } from '../errors.ts'
import { errorRecord } from './context.ts'
import { checkInteger, checkNonNegative, checkPositive, rejectUnknownKeys } from './options.ts'
import { sleep } from './retry.ts'
import type { DeliveryRecord, ErrorRecord, RunRecord, WebhookEvent } from './run-record.ts'

export interface WebhookTarget {
  /** http(s) URL receiving the POST. */
  readonly url: string
  /** Which run outcomes are sent. Default `['failed', 'cancelled']`; add `'completed'` to hear of successes. */
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

/** The JSON body of a notification. */
export interface WebhookPayload {
  readonly event: `run.${WebhookEvent}`
  readonly flow: string
  readonly runId: string
  readonly state: RunRecord['state']
  readonly start: string
  readonly end: string | null
  readonly durationMs: number | null
  readonly tasks: readonly { name: string; state: string; attempts: number; durationMs: number | null; cached: boolean }[]
  /** Numbers and booleans of each stage summary (`{ extract: { rows: 97 }, ... }`). */
  readonly counts: Readonly<Record<string, Readonly<Record<string, number | boolean>>>>
  readonly error: ErrorRecord | null
  /** One line for Slack (`{ text }` is what a Slack incoming webhook reads). */
  readonly text: string
}

const targetKeys = ['url', 'events', 'secret', 'retries', 'retryDelaySeconds', 'timeoutSeconds']
const allEvents: readonly WebhookEvent[] = ['completed', 'failed', 'cancelled']

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

/** The event a run's final state sends, if any. */
export function eventOf(state: RunRecord['state']): WebhookEvent | undefined {
  return state === 'Completed' ? 'completed' : state === 'Failed' ? 'failed' : state === 'Cancelled' ? 'cancelled' : undefined
}

/** `sha256=<hex>`: HMAC-SHA256 of the exact body bytes. */
export function signBody(body: string | Uint8Array, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`
}

/** For receivers: checks an `X-Etl-Signature` header against the raw body, in constant time. */
export function verifySignature(body: string | Uint8Array, secret: string, header: string | undefined): boolean {
  if (!header) return false
  const expected = Buffer.from(signBody(body, secret))
  const received = Buffer.from(header)
  return expected.length === received.length && timingSafeEqual(expected, received)
}

/** Builds the payload for a finished run. */
export function webhookPayload(record: RunRecord, event: WebhookEvent): WebhookPayload {
  const counts: Record<string, Record<string, number | boolean>> = {}
  for (const [stage, value] of Object.entries(record.summary)) {
    if (typeof value !== 'object' || value === null) continue
    const picked: Record<string, number | boolean> = {}
    for (const [k, v] of Object.entries(value)) if (typeof v === 'number' || typeof v === 'boolean') picked[k] = v
    if (Object.keys(picked).length) counts[stage] = picked
  }
  return {
    event: `run.${event}`,
    flow: record.flow,
    runId: record.id,
    state: record.state,
    start: record.start,
    end: record.end ?? null,
    durationMs: record.durationMs ?? null,
    tasks: record.tasks.map((t) => ({ name: t.name, state: t.state, attempts: t.attempts, durationMs: t.durationMs ?? null, cached: t.cached === true })),
    counts,
    error: record.error ?? null,
    text: slackText(record, counts),
  }
}

function slackText(record: RunRecord, counts: Record<string, Record<string, number | boolean>>): string {
  const icon = record.state === 'Completed' ? ':white_check_mark:' : record.state === 'Cancelled' ? ':warning:' : ':x:'
  const took = record.durationMs === undefined ? '' : ` in ${(record.durationMs / 1000).toFixed(1)}s`
  const rows = Object.entries(counts)
    .filter(([, c]) => typeof c.rows === 'number')
    .map(([stage, c]) => `${stage} ${String(c.rows)} rows`)
  const tail = record.error ? `: ${record.error.code} ${record.error.message}` : rows.length ? ` (${rows.join(', ')})` : ''
  return redact(`${icon} flow ${record.flow}, run ${record.id}: ${record.state}${took}${tail}`)
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
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': 'prostate-etl',
    'x-etl-event': payload.event,
    'x-etl-run-id': payload.runId,
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
      const response = await got.post(url, {
        body, headers, throwHttpErrors: false, followRedirect: false, retry: { limit: 0 }, timeout: { request: timeoutSeconds * 1000 },
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
  return event.slice('run.'.length) as WebhookEvent
}

/** Sends a finished run to every target that asked for its event, at once. Never rejects. */
export async function notify(record: RunRecord, targets: readonly WebhookTarget[]): Promise<DeliveryRecord[]> {
  const event = eventOf(record.state)
  if (!event) return []
  const wanted = targets.filter((t) => (t.events ?? ['failed', 'cancelled']).includes(event))
  if (!wanted.length) return []
  const payload = webhookPayload(record, event)
  return Promise.all(wanted.map((t) => deliver(t, payload)))
}
