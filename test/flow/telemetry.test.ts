/**
 * OpenTelemetry with the SDK's in-memory exporters: a real `etl run` (in this
 * process, against PostgreSQL and the Hopsworks emulator) makes a run span,
 * task spans and Hopsworks call spans under it, and the counters (run
 * outcomes, rows per stage, unexpected values per expectation); before an SDK
 * is registered nothing is recorded.
 */
import { metrics, trace } from '@opentelemetry/api'
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics'
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base'
import { PassThrough } from 'node:stream'
import t from 'tap'
import { main } from '../../lib/cli/main.ts'
import { seedProstate } from '../../lib/extract/embedded.ts'
import { withSpan } from '../../lib/telemetry.ts'
import { cleanEnv } from '../support/cli.ts'
import { HopsworksEmulator } from '../support/hopsworks-emulator.ts'
import { testDb } from '../support/pg.ts'

t.test('no SDK: spans do not record', async (t) => {
  const recording = await withSpan('etl.run x', {}, async (span) => span.isRecording())
  t.equal(recording, false)
})

t.test('spans for a run, its tasks and its Hopsworks calls; counters for outcomes, rows and unexpected values', async (t) => {
  const spans = new InMemorySpanExporter()
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] })
  trace.setGlobalTracerProvider(tracerProvider)
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE)
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 })
  const meterProvider = new MeterProvider({ readers: [reader] })
  metrics.setGlobalMeterProvider(meterProvider)
  t.teardown(async () => {
    await tracerProvider.shutdown()
    await meterProvider.shutdown()
    trace.disable()
    metrics.disable()
  })
  const db = await testDb(t)
  await seedProstate(db.config)
  const hw = await HopsworksEmulator.start()
  t.teardown(() => hw.close())
  const cwd = t.testdir()
  const io = () => ({ stdout: new PassThrough().resume(), stderr: new PassThrough().resume() })
  const env = cleanEnv({ ...db.env, ...hw.env() })
  t.equal(await main(['run', '--quiet'], { ...io(), env, cwd }), 0)
  await db.client.query('UPDATE prostate SET age = 120 WHERE ctid IN (SELECT ctid FROM prostate LIMIT 2)')
  t.equal(await main(['run', '--quiet', '--sink', 'local'], { ...io(), env, cwd }), 3)

  const finished = spans.getFinishedSpans()
  const runs = finished.filter((s) => s.name === 'etl.run etl-run')
  t.equal(runs.length, 2, 'one span per run')
  const [ok, failed] = runs as [typeof runs[0], typeof runs[0]]
  t.match(ok.attributes, { 'etl.flow': 'etl-run', 'etl.run.state': 'Completed' })
  t.match(failed.attributes, { 'etl.run.state': 'Failed' })
  t.equal(failed.status.message, 'ETL_QUALITY_GATE')
  const runId = ok.spanContext().spanId
  const tasks = finished.filter((s) => s.name.startsWith('etl.task ') && s.parentSpanContext?.spanId === runId)
  t.ok(tasks.length >= 1, `task spans under the run: ${tasks.map((s) => s.name).join(', ')}`)
  const calls = finished.filter((s) => s.name.startsWith('hopsworks ') && s.spanContext().traceId === ok.spanContext().traceId)
  t.ok(calls.length >= 3, `${calls.length} Hopsworks call spans in the run's trace`)
  t.ok(calls.every((c) => typeof c.attributes['http.request.method'] === 'string' && typeof c.attributes['url.path'] === 'string'))
  t.ok(calls.some((c) => c.attributes['http.response.status_code'] === 200), 'answered calls carry their status')
  t.notOk(JSON.stringify(finished.map((s) => s.attributes)).includes(hw.apiKey), 'no API key in any span')

  await reader.forceFlush()
  const points = new Map<string, { attributes: Record<string, unknown>; value: number }[]>()
  for (const rm of exporter.getMetrics()) for (const sm of rm.scopeMetrics) for (const m of sm.metrics) {
    points.set(m.descriptor.name, m.dataPoints.map((p) => ({ attributes: p.attributes as Record<string, unknown>, value: p.value as number })))
  }
  const get = (name: string, match: Record<string, unknown>) =>
    (points.get(name) ?? []).filter((p) => Object.entries(match).every(([k, v]) => p.attributes[k] === v)).reduce((n, p) => n + p.value, 0)
  t.equal(get('etl.runs', { flow: 'etl-run', state: 'Completed' }), 1)
  t.equal(get('etl.runs', { flow: 'etl-run', state: 'Failed', 'error.code': 'ETL_QUALITY_GATE' }), 1)
  t.equal(get('etl.rows', { stage: 'extracted' }), 194, '97 rows extracted by each run')
  t.equal(get('etl.rows', { stage: 'transformed' }), 194)
  t.equal(get('etl.expectation.unexpected', { suite: 'validation', expectation: 'expect_column_values_to_be_between', column: 'age' }), 2)
})
