/**
 * The HTTP layer of the Hopsworks client, on got: the API key on every call,
 * a timeout on every call, retries with exponential backoff and jitter for
 * the calls that may be repeated, and Hopsworks' error envelope turned into
 * an EtlError.
 *
 * Which calls are retried is the caller's choice (`retry: true` for reads,
 * polls, chunk uploads and deletes); creates are not, and the API layer
 * follows a failed create with a read (../../shared/hopsworks/API.md sec. 9).
 * Transient failures: no answer (network error, dropped connection, timeout)
 * and HTTP 429, 502, 503, 504. A `Retry-After` header is honoured (capped).
 *
 * The API key never reaches an error: got's `beforeError` hook replaces every
 * got error (which holds the request options, headers included) by a plain
 * Error carrying only a redacted message and the error code, and the key is
 * registered with `registerSecret`, so `redact()` removes it from messages.
 */
import { withSpan } from '../../telemetry.ts'
import { setTimeout as sleep } from 'node:timers/promises'
import type { ExtendOptions, Got } from 'got'
import { EtlError, redact, registerSecret, type EtlErrorCode } from '../../errors.ts'
import type { HopsworksConfig } from './config.ts'

export interface HttpOptions {
  /** Per-call timeout (whole request), ms. Default: the config's `timeoutMs`, else 30,000. */
  readonly timeoutMs?: number
  /** Retries of a retryable call after its first attempt. Default 5. */
  readonly retries?: number
  /** First backoff delay, ms; doubles each retry, with jitter. Default 500. */
  readonly retryBaseMs?: number
  /** Longest single backoff delay (and cap of Retry-After), ms. Default 15,000. */
  readonly retryMaxMs?: number
  /** Aborts every call in flight and every backoff wait. */
  readonly signal?: AbortSignal
}

export interface Call {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE'
  /** Path segments after `hopsworks-api/api/`; each is percent-encoded on its own (a `/` inside becomes %2F). */
  readonly path: readonly (string | number)[]
  readonly searchParams?: Readonly<Record<string, string | number | boolean>>
  readonly json?: unknown
  readonly body?: string | FormData
  readonly headers?: Readonly<Record<string, string>>
  /**
   * true: retry transient failures (reads, polls, chunks, deletes). 'unsent':
   * retry only failures where the request surely never reached the server
   * (connection refused, name not resolved): for creates. false: never.
   */
  readonly retry: boolean | 'unsent'
}

export interface Reply {
  readonly status: number
  /** Parsed JSON when the body is JSON, else the text ('' when empty). */
  readonly body: unknown
  readonly headers: Readonly<Record<string, string | string[] | undefined>>
}

/** What an error of this layer carries in `details`. */
export interface CallErrorDetails {
  readonly method: string
  readonly path: string
  /** HTTP status; absent when no answer came. */
  readonly status?: number
  readonly errorCode?: number
  readonly errorMsg?: string
  readonly usrMsg?: string
  /** A network error code (ECONNRESET ...) when no answer came. */
  readonly network?: string
  /** True when a repeat could succeed (no answer, 429, 502, 503, 504). */
  readonly transient: boolean
  /** True when the request certainly did not reach the server (connection refused). */
  readonly notSent: boolean
  readonly attempts: number
}

const TRANSIENT_STATUS = new Set([429, 502, 503, 504])
const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN'])

/** The `details` of an error thrown by HopsworksHttp, or undefined for any other error. */
export function callDetails(err: unknown): CallErrorDetails | undefined {
  if (!(err instanceof EtlError) || !err.details || typeof err.details['transient'] !== 'boolean') return undefined
  return err.details as unknown as CallErrorDetails
}

/** True for an error with this HTTP status and (when given) one of these Hopsworks error codes. */
export function isHopsworksError(err: unknown, statuses: readonly number[], codes?: readonly number[]): boolean {
  const d = callDetails(err)
  if (!d || d.status === undefined || !statuses.includes(d.status)) return false
  return !codes || (d.errorCode !== undefined && codes.includes(d.errorCode))
}

function field(body: unknown, name: string): unknown {
  return body && typeof body === 'object' ? (body as Record<string, unknown>)[name] : undefined
}

/**
 * One Hopsworks connection setup (key, TLS, timeouts, retries, cancel signal).
 * `call()` resolves to the reply of an accepted status (2xx by default) and
 * throws EtlError otherwise: ETL_HOPSWORKS_AUTH (401/403), ETL_TIMEOUT (no
 * answer in time, after the retries), ETL_ABORTED (signal), ETL_HOPSWORKS
 * (anything else); `details` hold CallErrorDetails (the envelope fields).
 */
export class HopsworksHttp {
  readonly config: HopsworksConfig
  /** got, imported on the first call: it costs ~30 MB of memory, which a run without Hopsworks should not pay. */
  #got: Promise<Got> | undefined
  readonly #gotOptions: ExtendOptions
  readonly #timeoutMs: number
  readonly #retries: number
  readonly #baseMs: number
  readonly #maxMs: number
  readonly #signal: AbortSignal | undefined

  constructor(config: HopsworksConfig, options: HttpOptions = {}) {
    this.config = config
    registerSecret(config.apiKey)
    this.#timeoutMs = options.timeoutMs ?? config.timeoutMs ?? 30_000
    this.#retries = options.retries ?? 5
    this.#baseMs = options.retryBaseMs ?? 500
    this.#maxMs = options.retryMaxMs ?? 15_000
    this.#signal = options.signal
    this.#gotOptions = {
      headers: { authorization: `ApiKey ${config.apiKey}`, accept: 'application/json', 'user-agent': 'prostate-etl' },
      timeout: { request: this.#timeoutMs },
      retry: { limit: 0 },
      throwHttpErrors: false,
      followRedirect: false,
      responseType: 'text',
      https: { rejectUnauthorized: !config.insecure, ...(config.ca ? { certificateAuthority: config.ca } : {}) },
      hooks: {
        beforeError: [
          (error) => Object.assign(new Error(redact(error.message)), { code: error.code }),
        ],
      },
    }
  }

  #client(): Promise<Got> {
    this.#got ??= import('got').then((m) => m.default.extend(this.#gotOptions))
    return this.#got
  }

  /** The per-call timeout, ms. */
  get timeoutMs(): number {
    return this.#timeoutMs
  }

  /** Waits `ms` (e.g. before looking again for what an unanswered call may have made); ETL_ABORTED when cancelled. */
  async pause(ms: number): Promise<void> {
    try {
      await sleep(ms, undefined, this.#signal ? { signal: this.#signal } : {})
    } catch {
      throw new EtlError('ETL_ABORTED', 'Hopsworks call cancelled while waiting')
    }
  }

  /** `project/119/dataset/upload/%2FProjects%2F...` */
  pathOf(call: Pick<Call, 'path'>): string {
    return call.path.map((s) => encodeURIComponent(String(s))).join('/')
  }

  /** Makes a call, retrying transient failures when `call.retry`, inside a span `hopsworks <METHOD>`. Throws EtlError (see `callDetails`). */
  call(call: Call, accept: (status: number) => boolean = (s) => s >= 200 && s < 300): Promise<Reply> {
    return withSpan(`hopsworks ${call.method}`, { 'http.request.method': call.method, 'url.path': this.pathOf(call) }, async (span) => {
      const reply = await this.#retrying(call, accept)
      span.setAttribute('http.response.status_code', reply.status)
      return reply
    })
  }

  async #retrying(call: Call, accept: (status: number) => boolean): Promise<Reply> {
    const max = call.retry === false ? 0 : this.#retries
    for (let attempt = 0; ; attempt++) {
      let err: EtlError
      let retryAfterMs: number | undefined
      try {
        const reply = await this.#once(call)
        if (accept(reply.status)) return reply
        err = this.#httpError(call, reply, attempt + 1)
        retryAfterMs = retryAfter(reply.headers['retry-after'])
      } catch (e) {
        if (e instanceof EtlError) throw e
        err = this.#networkError(call, e, attempt + 1)
      }
      const d = callDetails(err)!
      if (attempt >= max || !d.transient || (call.retry === 'unsent' && !d.notSent) || this.#signal?.aborted) throw err
      await this.#backoff(attempt, retryAfterMs)
    }
  }

  async #once(call: Call): Promise<Reply> {
    if (this.#signal?.aborted) throw new EtlError('ETL_ABORTED', `Hopsworks ${call.method} ${this.pathOf(call)}: cancelled`)
    const got = await this.#client()
    const res = await got(this.config.apiUrl + this.pathOf(call), {
      method: call.method,
      ...(call.searchParams ? { searchParams: call.searchParams as Record<string, string | number | boolean> } : {}),
      ...(call.json !== undefined ? { json: call.json } : {}),
      ...(call.body !== undefined ? { body: call.body } : {}),
      ...(call.headers ? { headers: call.headers } : {}),
      ...(this.#signal ? { signal: this.#signal } : {}),
    })
    const text = res.body
    let body: unknown = text
    if (text && /^\s*[[{]/.test(text)) {
      try {
        body = JSON.parse(text)
      } catch {
        body = text
      }
    }
    return { status: res.statusCode, body, headers: res.headers }
  }

  #httpError(call: Call, reply: Reply, attempts: number): EtlError {
    const path = this.pathOf(call)
    const errorCode = field(reply.body, 'errorCode')
    const errorMsg = field(reply.body, 'errorMsg')
    const usrMsg = field(reply.body, 'usrMsg')
    const d: CallErrorDetails = {
      method: call.method, path, status: reply.status,
      ...(typeof errorCode === 'number' ? { errorCode } : {}),
      ...(typeof errorMsg === 'string' ? { errorMsg } : {}),
      ...(typeof usrMsg === 'string' && usrMsg ? { usrMsg } : {}),
      transient: TRANSIENT_STATUS.has(reply.status), notSent: false, attempts,
    }
    const what = [d.errorCode, d.errorMsg].filter((x) => x !== undefined).join(' ') ||
      (typeof reply.body === 'string' && reply.body ? reply.body.slice(0, 200) : 'no error body')
    const told = `HTTP ${reply.status}, ${what}${d.usrMsg ? ` (${d.usrMsg})` : ''}`
    const tries = attempts > 1 ? ` after ${attempts} attempts` : ''
    let code: EtlErrorCode = 'ETL_HOPSWORKS'
    let message = `Hopsworks ${call.method} ${path} failed${tries}: ${told}`
    if (reply.status === 401) {
      code = 'ETL_HOPSWORKS_AUTH'
      message = `Hopsworks at ${this.config.origin} rejected the API key (${told}): HOPSWORKS_API_KEY is wrong, revoked or missing`
    } else if (reply.status === 403) {
      code = 'ETL_HOPSWORKS_AUTH'
      message = `Hopsworks refused ${call.method} ${path} for this API key (${told}): the key lacks a scope this load needs (project, featurestore, job, dataset_create, dataset_view, dataset_delete) or its user's role in project ${this.config.project} does not allow it`
    }
    return new EtlError(code, message, { details: d as unknown as Record<string, unknown> })
  }

  #networkError(call: Call, e: unknown, attempts: number): EtlError {
    const path = this.pathOf(call)
    const network = typeof (e as { code?: unknown })?.code === 'string' ? (e as { code: string }).code : 'ERR_NETWORK'
    const message = redact(e instanceof Error ? e.message : String(e))
    const d: CallErrorDetails = { method: call.method, path, network, transient: true, notSent: NOT_SENT.has(network), attempts }
    const tries = attempts > 1 ? ` (${attempts} attempts)` : ''
    if (this.#signal?.aborted) return new EtlError('ETL_ABORTED', `Hopsworks ${call.method} ${path}: cancelled`, { details: { ...d, transient: false } })
    if (network === 'ETIMEDOUT')
      return new EtlError('ETL_TIMEOUT', `Hopsworks ${call.method} ${path}: no answer within ${this.#timeoutMs} ms${tries}`, { details: d as unknown as Record<string, unknown> })
    return new EtlError('ETL_HOPSWORKS', `cannot reach Hopsworks at ${this.config.origin} (${call.method} ${path}): ${message}${tries}`, { details: d as unknown as Record<string, unknown>, cause: Object.assign(new Error(message), { code: network }) })
  }

  async #backoff(attempt: number, retryAfterMs: number | undefined): Promise<void> {
    const exp = Math.min(this.#maxMs, this.#baseMs * 2 ** attempt)
    // "Equal jitter": half the delay fixed, half random, so parallel uploads do not retry in lockstep.
    let ms = exp / 2 + Math.random() * (exp / 2)
    if (retryAfterMs !== undefined) ms = Math.max(ms, Math.min(retryAfterMs, this.#maxMs))
    try {
      await sleep(ms, undefined, this.#signal ? { signal: this.#signal } : {})
    } catch {
      throw new EtlError('ETL_ABORTED', 'Hopsworks call cancelled while waiting to retry')
    }
  }
}

function retryAfter(value: string | string[] | undefined): number | undefined {
  const v = Array.isArray(value) ? value[0] : value
  if (!v) return undefined
  const seconds = Number(v)
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000
  const date = Date.parse(v)
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now())
}
