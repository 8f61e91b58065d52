/**
 * What `--log-level debug` shows: the SQL we send (from connect()'s clients,
 * published on the `prostate-etl:sql` diagnostics channel; bound values are
 * counted, never printed) and each HTTP call (Node's own `http.client.*`
 * channels: method, URL, status, time; no header, so no API key). Lines go
 * through the logger, which masks registered secrets.
 */
import { channel, subscribe, unsubscribe } from 'node:diagnostics_channel'
import type { ClientRequest, IncomingMessage } from 'node:http'

/** Published by connect()'s clients for each query: `{ text, values }` (values: how many were bound). */
export const sqlChannel = channel('prostate-etl:sql')

export interface SqlMessage {
  readonly text: string
  readonly values: number
}

/** Sends debug lines for SQL and HTTP to `debug` until the returned function is called. */
export function traceCalls(debug: (message: string, fields?: Record<string, unknown>) => void): () => void {
  const started = new WeakMap<object, number>()
  const onSql = (m: unknown) => {
    const { text, values } = m as SqlMessage
    debug(`SQL: ${text.replace(/\s+/g, ' ').trim()}`, values ? { values } : {})
  }
  const onStart = (m: unknown) => started.set((m as { request: ClientRequest }).request, performance.now())
  const onFinish = (m: unknown) => {
    const { request, response } = m as { request: ClientRequest; response: IncomingMessage }
    const t0 = started.get(request)
    const url = `${request.protocol}//${String(request.getHeader('host') ?? request.host)}${request.path}`
    debug(`HTTP ${request.method} ${url} -> ${response.statusCode}${t0 === undefined ? '' : ` (${Math.round(performance.now() - t0)} ms)`}`, { method: request.method, status: response.statusCode })
  }
  sqlChannel.subscribe(onSql)
  subscribe('http.client.request.start', onStart)
  subscribe('http.client.response.finish', onFinish)
  return () => {
    sqlChannel.unsubscribe(onSql)
    unsubscribe('http.client.request.start', onStart)
    unsubscribe('http.client.response.finish', onFinish)
  }
}
