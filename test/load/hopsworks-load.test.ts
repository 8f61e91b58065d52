import { pipeline } from 'node:stream/promises'
import t from 'tap'
import { hopsworksConfigFromEnv, hopsworksSink, type HopsworksProgress } from '../../lib/load/hopsworks/index.ts'
import { batches, fast, prostateColumns, prostateRow, prostateRows, startEmulator as emulator } from '../support/hopsworks/data.ts'

t.test('happy path: every row arrives in the feature group, typed', async (t) => {
  const emu = await emulator(t)
  const progress: HopsworksProgress[] = []
  const sink = await hopsworksSink({ config: hopsworksConfigFromEnv(emu.env())!, columns: prostateColumns, ...fast, parts: { rows: 400 }, onProgress: (p) => progress.push(p) })
  const rows = prostateRows(2500)
  await pipeline(batches(prostateColumns, rows, 300), sink.writable)
  const summary = await sink.commit()

  t.equal(summary.sink, 'hopsworks')
  t.equal(summary.rows, 2500)
  t.same(summary.featureGroup, { name: 'prostate_group', version: 1 })
  t.equal(summary.job?.finalStatus, 'SUCCEEDED')
  t.match(summary.location, /^\/Projects\/demo\/Ingestion\/prostate_group_1\d+$/)
  const got = emu.rows('prostate_group', 1)
  t.equal(got.length, 2500, 'every row arrived')
  const byId = new Map(got.map((r) => [r['user_id'], r]))
  for (const i of [0, 7, 1234, 2499]) {
    const want = prostateRow(i)
    t.same(byId.get(`u${i}`), Object.fromEntries(prostateColumns.map((c, k) => [c.name, want[k]])), `row ${i} field by field`)
  }
  t.equal(emu.count('upload'), 7, '2500 rows in parts of 400 = 7 parts of one chunk each')
  t.same(progress.filter((p) => p.phase === 'upload').at(-1), { phase: 'upload', parts: 7, rows: 2500, bytes: progress.filter((p) => p.phase === 'upload').at(-1)!.bytes })
  t.ok(progress.some((p) => p.phase === 'job' && p.state === 'RUNNING'), 'progress reports the job running')
})

t.test('the feature group is created as the contract says', async (t) => {
  const emu = await emulator(t)
  const sink = await hopsworksSink({ config: hopsworksConfigFromEnv(emu.env())!, columns: prostateColumns, ...fast })
  const fg = emu.featureGroup('prostate_group', 1)!
  t.equal(fg.dto['type'], 'cachedFeaturegroupDTO')
  t.equal(fg.dto['description'], 'Prostate for Classification ML workflow')
  t.equal(fg.dto['onlineEnabled'], false)
  t.equal(fg.dto['eventTime'], 'datetime')
  t.same(fg.features.map((f) => `${f.name}:${f.type}${f.primary ? '*' : ''}`), [
    'lcavol:double', 'lweight:double', 'age:int', 'lbph:double', 'lcp:double', 'gleason:int', 'pgg45:int', 'lpsa:double', 'target:int', 'user_id:string*', 'datetime:timestamp',
  ])
  t.ok(sink.target.created)
  await sink.abort()
})

t.test('every PostgreSQL type lands typed', async (t) => {
  const emu = await emulator(t)
  const columns = [
    { name: 'user_id', type: 'uuid' }, { name: 'a', type: 'int2' }, { name: 'b', type: 'int8' }, { name: 'c', type: 'float4' },
    { name: 'd', type: 'numeric' }, { name: 'e', type: 'bool' }, { name: 'f', type: 'varchar' }, { name: 'g', type: 'date' },
    { name: 'h', type: 'timestamp' }, { name: 'i', type: 'jsonb' }, { name: 'j', type: '_int4' }, { name: 'datetime', type: 'timestamptz' },
  ]
  const rows = [
    ['0b0e5f4e-1c1a-4c55-9d3e-2f0b6a0c9b01', -3, '9007199254740993', 1.5, 1234567890.125, true, 'a, "quoted"\nline', '2024-02-29', '2024-01-02T03:04:05.123Z', { k: [1, 'x'] }, [1, 2], '2024-01-01T00:00:00.000Z'],
    ['0b0e5f4e-1c1a-4c55-9d3e-2f0b6a0c9b02', null, 42, null, 0.25, false, '', null, null, null, null, '2024-01-01T00:00:01.000Z'],
  ]
  const sink = await hopsworksSink({ config: hopsworksConfigFromEnv(emu.env())!, columns, ...fast })
  await pipeline(batches(columns, rows), sink.writable)
  await sink.commit()
  t.same(emu.featureGroup('prostate_group', 1)!.features.map((f) => f.type), ['string', 'int', 'bigint', 'float', 'double', 'boolean', 'string', 'date', 'timestamp', 'string', 'string', 'timestamp'])
  const [r1, r2] = emu.rows('prostate_group', 1)
  t.same(r1, { user_id: rows[0]![0], a: -3, b: '9007199254740993', c: 1.5, d: 1234567890.125, e: true, f: 'a, "quoted"\nline', g: '2024-02-29', h: '2024-01-02T03:04:05.123Z', i: '{"k":[1,"x"]}', j: '[1,2]', datetime: '2024-01-01T00:00:00.000Z' })
  t.same(r2, { user_id: rows[1]![0], a: null, b: 42, c: null, d: 0.25, e: false, f: '', g: null, h: null, i: null, j: null, datetime: '2024-01-01T00:00:01.000Z' }, 'NULL stays NULL, the empty string stays empty')
})

t.test('a value a feature type cannot hold exactly is refused before anything is staged, never rounded', async (t) => {
  for (const [type, value] of [['numeric', '12345678901234567890.5'], ['date', '-0043-03-15'], ['timestamptz', '+10000-01-01T00:00:00Z'], ['timestamp', 'infinity']] as const) {
    const emu = await emulator(t)
    const columns = [{ name: 'user_id', type: 'text' }, { name: 'v', type }, { name: 'datetime', type: 'timestamptz' }]
    const sink = await hopsworksSink({ config: hopsworksConfigFromEnv(emu.env())!, columns, ...fast })
    const ok = type === 'numeric' ? 'NaN' : '2024-01-01' + (type === 'date' ? '' : 'T00:00:00Z')
    const err = await pipeline(batches(columns, [['a', ok, '2024-01-01T00:00:00.000Z'], ['b', value, '2024-01-01T00:00:00.000Z']]), sink.writable).then(() => undefined, (e: unknown) => e)
    t.match(err, { code: 'ETL_HOPSWORKS_SCHEMA', message: new RegExp(`column v holds "${value.replace(/[+.]/g, '\\$&')}" \\(${type}\\), which Hopsworks cannot store exactly`) }, `${type} ${value}`)
    await sink.abort()
    t.equal(emu.rows('prostate_group', 1).length, 0, 'nothing loaded')
  }
})

t.test('a JSON string scalar keeps its quotes in the uploaded part: "123" and 123 stay apart', async (t) => {
  const emu = await emulator(t)
  const columns = [{ name: 'user_id', type: 'text' }, { name: 'doc', type: 'jsonb' }, { name: 'tags', type: '_text' }, { name: 'datetime', type: 'timestamptz' }]
  const rows = [
    ['a', '123', ['x'], '2024-01-01T00:00:00.000Z'],
    ['b', 123, ['"x"'], '2024-01-01T00:00:00.000Z'],
    ['c', '[1]', null, '2024-01-01T00:00:00.000Z'],
    ['d', [1], [], '2024-01-01T00:00:00.000Z'],
  ]
  const sink = await hopsworksSink({ config: hopsworksConfigFromEnv(emu.env())!, columns, ...fast })
  await pipeline(batches(columns, rows), sink.writable)
  await sink.commit()
  const got = emu.rows('prostate_group', 1).map((r) => [r['user_id'], r['doc'], r['tags']])
  t.same(got, [['a', '"123"', '["x"]'], ['b', '123', '["\\"x\\""]'], ['c', '"[1]"', null], ['d', '[1]', '[]']])
})

t.test('a part bigger than a chunk is uploaded in flow.js chunks', async (t) => {
  const emu = await emulator(t)
  const sink = await hopsworksSink({ config: hopsworksConfigFromEnv(emu.env())!, columns: prostateColumns, ...fast, chunkSize: 4096 })
  await pipeline(batches(prostateColumns, prostateRows(1000)), sink.writable)
  await sink.commit()
  t.equal(emu.rows('prostate_group', 1).length, 1000)
  const uploads = emu.count('upload')
  t.ok(uploads > 10, `one part of ~100 KB in 4 KiB chunks (${uploads} chunks)`)
})

t.test('an empty input loads zero rows (header-only part)', async (t) => {
  const emu = await emulator(t)
  const sink = await hopsworksSink({ config: hopsworksConfigFromEnv(emu.env())!, columns: prostateColumns, ...fast })
  await pipeline(batches(prostateColumns, []), sink.writable)
  const s = await sink.commit()
  t.equal(s.rows, 0)
  t.equal(s.job?.finalStatus, 'SUCCEEDED')
  t.equal(emu.rows('prostate_group', 1).length, 0)
})

t.test('feature view, expectation suite and validation report are attached', async (t) => {
  const emu = await emulator(t)
  const suite = { expectation_suite_name: 'prostate', expectations: [{ expectation_type: 'expect_column_values_to_not_be_null', kwargs: { column: 'age' }, meta: {} }], meta: { great_expectations_version: '0.15.50' } }
  const report = {
    success: true, statistics: { evaluated_expectations: 1, successful_expectations: 1 }, meta: { run_id: { run_name: 'r1' } }, evaluation_parameters: {},
    results: [{ success: true, expectation_config: suite.expectations[0]!, result: { element_count: 10, unexpected_count: 0 }, meta: {}, exception_info: { raised_exception: false } }],
  }
  const sink = await hopsworksSink({ config: hopsworksConfigFromEnv(emu.env())!, columns: prostateColumns, ...fast, featureView: { features: ['age', 'lpsa', 'user_id'] }, validation: async () => ({ suite, report }) })
  await pipeline(batches(prostateColumns, prostateRows(10)), sink.writable)
  const s = await sink.commit()
  t.same(s.featureView, { name: 'prostate_group_view', version: 1 })
  const fv = emu.state.featureViews.get(`${sink.target.featureStoreId}/prostate_group_view/1`)!
  t.same((fv['features'] as { name: string }[]).map((f) => f.name), ['age', 'lpsa', 'user_id'])
  const stored = emu.state.suites.get(sink.target.featureGroupId)!
  t.equal(stored['expectationSuiteName'], 'prostate')
  t.same(JSON.parse((stored['expectations'] as { kwargs: string }[])[0]!.kwargs), { column: 'age' }, 'kwargs travel as a JSON string')
  const reports = emu.state.reports.get(sink.target.featureGroupId)!
  t.equal(reports.length, 1)
  const body = reports[0]!.body
  t.equal(body['ingestionResult'], 'INGESTED')
  t.same(JSON.parse(body['statistics'] as string), report.statistics)
  t.match(JSON.parse(body['meta'] as string), { run_id: { run_name: 'r1' }, validation_time: /^\d{8}T\d{6}\.\d{6}Z$/ })
  const r0 = (body['results'] as Record<string, string>[])[0]!
  const storedId = JSON.parse((stored['expectations'] as { meta: string }[])[0]!.meta).expectationId
  t.same(JSON.parse(r0['expectationConfig']!), { expectation_type: 'expect_column_values_to_not_be_null', kwargs: { column: 'age' }, meta: { expectationId: storedId } }, 'the result names the expectation id the server gave')

  // a second load replaces the attached suite (409 270208 -> PUT) and adds a report
  const again = await hopsworksSink({ config: hopsworksConfigFromEnv(emu.env())!, columns: prostateColumns, ...fast, featureView: { features: ['age', 'lpsa', 'user_id'] }, validation: { suite: { ...suite, expectation_suite_name: 'prostate_v2' }, report } })
  await pipeline(batches(prostateColumns, prostateRows(5)), again.writable)
  await again.commit()
  t.equal(emu.state.suites.get(sink.target.featureGroupId)!['expectationSuiteName'], 'prostate_v2')
  t.equal(emu.state.reports.get(sink.target.featureGroupId)!.length, 2)
  t.equal(emu.count('createFeatureView'), 1, 'the feature view is reused')
})

t.test('backpressure: at most partsInFlight parts upload at once, and the writable says "wait"', async (t) => {
  const emu = await emulator(t)
  emu.inject({ route: 'upload', nth: 1, times: 1000, delayMs: 20 })
  const sink = await hopsworksSink({ config: hopsworksConfigFromEnv(emu.env())!, columns: prostateColumns, ...fast, parts: { rows: 100 }, partsInFlight: 2 })
  const rows = prostateRows(1200)
  let refused = 0
  for (let i = 0; i < 12; i++) {
    if (!sink.writable.write({ columns: prostateColumns, rows: rows.slice(i * 100, i * 100 + 100) })) {
      refused++
      await new Promise((resolve) => sink.writable.once('drain', resolve))
    }
  }
  await new Promise<void>((resolve, reject) => sink.writable.end((err?: Error | null) => (err ? reject(err) : resolve())))
  t.ok(refused > 0, `write() asked the producer to wait ${refused} times`)
  t.equal(emu.peak('upload'), 2, 'two parts uploading at once, never more')
  await sink.commit()
  t.equal(emu.rows('prostate_group', 1).length, 1200)
})
