/**
 * Webhook signatures as Standard Webhooks defines them (what svix and the
 * standard-webhooks libraries verify): three headers,
 *
 *     webhook-id: msg_<run id>_<event>       the same on every retry of one message (receivers dedupe on it)
 *     webhook-timestamp: <unix seconds>      of this attempt
 *     webhook-signature: v1,<base64 of HMAC-SHA256(key, "<id>.<timestamp>.<body>")>
 *
 * The key is the secret's bytes; a secret written `whsec_<base64>` (as the
 * standard prints them) is the decoded base64. Receivers reject a timestamp
 * too far from their clock (5 minutes here) and an id already seen within
 * that window, so a captured request cannot be replayed.
 *
 * The older `X-Etl-Signature: sha256=<hex of HMAC-SHA256(secret, body)>` is
 * still sent for one release; it has no timestamp and is replayable.
 */
import { createHmac, timingSafeEqual } from 'node:crypto'

/** The HMAC key of a secret: `whsec_<base64>` decoded, any other string as its UTF-8 bytes. */
export function webhookKey(secret: string): Buffer {
  if (secret.startsWith('whsec_')) {
    const key = Buffer.from(secret.slice('whsec_'.length), 'base64')
    if (key.length > 0) return key
  }
  return Buffer.from(secret, 'utf8')
}

/** `v1,<base64>`: the Standard Webhooks signature of one message. */
export function signWebhook(id: string, timestamp: number, body: string | Uint8Array, secret: string): string {
  const mac = createHmac('sha256', webhookKey(secret)).update(`${id}.${timestamp}.`).update(body).digest('base64')
  return `v1,${mac}`
}

/** The three Standard Webhooks headers for one attempt. */
export function standardWebhookHeaders(id: string, body: string, secret: string, nowMs = Date.now()): Record<string, string> {
  const timestamp = Math.floor(nowMs / 1000)
  return { 'webhook-id': id, 'webhook-timestamp': String(timestamp), 'webhook-signature': signWebhook(id, timestamp, body, secret) }
}

export interface VerifyOptions {
  /** How far the timestamp may be from the receiver's clock, in seconds. Default 300. */
  readonly toleranceSeconds?: number
  /** The receiver's clock in ms. Default Date.now. */
  readonly now?: () => number
  /** Ids already accepted: a repeat is refused as a replay (see replayGuard). */
  readonly seen?: ReplayGuard
}

export type VerifyResult = { readonly ok: true; readonly id: string } | { readonly ok: false; readonly reason: 'missing headers' | 'bad timestamp' | 'old timestamp' | 'bad signature' | 'replay' }

type Headers = Readonly<Record<string, string | readonly string[] | undefined>>
const header = (h: Headers, name: string): string | undefined => {
  const v = h[name] ?? h[name.toLowerCase()]
  return Array.isArray(v) ? v[0] : (v as string | undefined)
}

/**
 * For receivers: checks a request's Standard Webhooks headers against its raw
 * body, in constant time; refuses a timestamp outside the tolerance and, with
 * `seen`, an id it has accepted before.
 */
export function verifyWebhook(secret: string, headers: Headers, body: string | Uint8Array, options: VerifyOptions = {}): VerifyResult {
  const { toleranceSeconds = 300, now = Date.now, seen } = options
  const id = header(headers, 'webhook-id')
  const ts = header(headers, 'webhook-timestamp')
  const signatures = header(headers, 'webhook-signature')
  if (!id || !ts || !signatures) return { ok: false, reason: 'missing headers' }
  if (!/^\d{1,12}$/.test(ts)) return { ok: false, reason: 'bad timestamp' }
  const timestamp = Number(ts)
  if (Math.abs(now() / 1000 - timestamp) > toleranceSeconds) return { ok: false, reason: 'old timestamp' }
  const expected = Buffer.from(signWebhook(id, timestamp, body, secret).slice(3), 'base64')
  const match = signatures.split(' ').some((s) => {
    const [version, b64] = s.split(',', 2)
    if (version !== 'v1' || !b64) return false
    const got = Buffer.from(b64, 'base64')
    return got.length === expected.length && timingSafeEqual(got, expected)
  })
  if (!match) return { ok: false, reason: 'bad signature' }
  if (seen && !seen.accept(id, timestamp, now())) return { ok: false, reason: 'replay' }
  return { ok: true, id }
}

export interface ReplayGuard {
  /** False when `id` was accepted before (within the window); else remembers it. */
  accept(id: string, timestamp: number, nowMs: number): boolean
}

/** Remembers accepted ids for `windowSeconds` (the tolerance: an older request is refused by its timestamp anyway). */
export function replayGuard(windowSeconds = 300): ReplayGuard {
  const ids = new Map<string, number>()
  return {
    accept(id, _timestamp, nowMs) {
      for (const [k, until] of ids) if (until < nowMs) ids.delete(k)
      if (ids.has(id)) return false
      ids.set(id, nowMs + 2 * windowSeconds * 1000)
      return true
    },
  }
}

/** The legacy header: `sha256=<hex>`, HMAC-SHA256 of the exact body bytes (no timestamp: replayable). */
export function signBody(body: string | Uint8Array, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`
}

/** For receivers of the legacy header: checks `X-Etl-Signature` against the raw body, in constant time. */
export function verifySignature(body: string | Uint8Array, secret: string, header: string | undefined): boolean {
  if (!header) return false
  const expected = Buffer.from(signBody(body, secret))
  const received = Buffer.from(header)
  return expected.length === received.length && timingSafeEqual(expected, received)
}
