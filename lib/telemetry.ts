/**
 * OpenTelemetry, through @opentelemetry/api only: spans for a run
 * (`etl.run <flow>`), its tasks (`etl.task <name>`) and its Hopsworks calls
 * (`hopsworks <METHOD>`), and three counters recorded when a run ends:
 *
 *     etl.runs                    {flow, state, error.code}       run outcomes
 *     etl.rows                    {flow, stage}                   rows per stage (summary.counts)
 *     etl.expectation.unexpected  {flow, suite, expectation, column}  unexpected values per expectation
 *
 * Until the program registers an SDK (a tracer and a meter provider), the API
 * hands out no-op tracers and meters: a span is a shared non-recording object
 * and nothing is measured. The parent of a span is kept in an
 * AsyncLocalStorage of our own, so runs, tasks and calls nest without the
 * SDK's context manager.
 */
import { AsyncLocalStorage } from 'node:async_hooks'
import { context, metrics, ROOT_CONTEXT, SpanStatusCode, trace, type Attributes, type Counter, type MeterProvider, type Span } from '@opentelemetry/api'

const NAME = 'prostate-etl'
const current = new AsyncLocalStorage<Span>()

/** Runs `fn` inside a span named `name`, child of the span around the caller; the span ends when fn settles (an error marks it). */
export async function withSpan<T>(name: string, attributes: Attributes, fn: (span: Span) => Promise<T>): Promise<T> {
  const parent = current.getStore()
  const span = trace.getTracer(NAME).startSpan(name, { attributes }, parent ? trace.setSpan(ROOT_CONTEXT, parent) : context.active())
  try {
    return await current.run(span, () => fn(span))
  } catch (err) {
    const e = err as { code?: unknown; message?: unknown }
    span.setStatus({ code: SpanStatusCode.ERROR, message: typeof e?.code === 'string' ? e.code : 'error' })
    if (typeof e?.code === 'string') span.setAttribute('error.type', e.code)
    throw err
  } finally {
    span.end()
  }
}

interface Instruments {
  readonly provider: MeterProvider
  readonly runs: Counter
  readonly rows: Counter
  readonly unexpected: Counter
}
let instruments: Instruments | undefined

/** The counters of the meter provider registered now (made again when another one is registered). */
function counters(): Instruments {
  const provider = metrics.getMeterProvider()
  if (instruments?.provider === provider) return instruments
  const meter = provider.getMeter(NAME)
  instruments = {
    provider,
    runs: meter.createCounter('etl.runs', { description: 'Runs ended, by flow, state and error code' }),
    rows: meter.createCounter('etl.rows', { description: 'Rows per stage of the runs', unit: '{row}' }),
    unexpected: meter.createCounter('etl.expectation.unexpected', { description: 'Unexpected values per expectation', unit: '{value}' }),
  }
  return instruments
}

const obj = (v: unknown): Record<string, unknown> | undefined => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined)

/** A run's end: its outcome, the rows of each stage and the unexpected values of each expectation (from the record's summary, read as JSON). */
export function recordRunMetrics(record: { readonly flow: string; readonly state: string; readonly error?: { readonly code: string }; readonly summary: Readonly<Record<string, unknown>> }): void {
  const c = counters()
  const flow = record.flow
  c.runs.add(1, { flow, state: record.state, ...(record.error ? { 'error.code': record.error.code } : {}) })
  for (const [stage, n] of Object.entries(obj(record.summary['counts']) ?? {})) if (typeof n === 'number' && n > 0) c.rows.add(n, { flow, stage })
  for (const suite of ['validation', 'meta'] as const) {
    const results = obj(obj(record.summary[suite])?.['result'])?.['results']
    if (!Array.isArray(results)) continue
    for (const r of results) {
      const config = obj(obj(r)?.['expectation_config'])
      const n = obj(obj(r)?.['result'])?.['unexpected_count']
      if (typeof n !== 'number' || n <= 0) continue
      const column = obj(config?.['kwargs'])?.['column']
      c.unexpected.add(n, { flow, suite, expectation: String(config?.['expectation_type'] ?? 'unknown'), ...(typeof column === 'string' ? { column } : {}) })
    }
  }
}
