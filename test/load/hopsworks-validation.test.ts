/**
 * The expectation suite and validation report against the server's own rules
 * (the emulator follows ExpectationSuiteController, ValidationReportController
 * and ValidationResultController): ids from the stored suite, GE's time format,
 * the 3.0 verbs, the limits, and nothing after the commit failing the load.
 */
import { pipeline } from 'node:stream/promises'
import t from 'tap'
import { EtlError } from '../../lib/errors.ts'
import { hopsworksConfigFromEnv, hopsworksSink, type GeExpectationSuite, type GeValidationResult } from '../../lib/load/hopsworks/index.ts'
import { geSuite } from '../../lib/pipelines/sink.ts'
import type { HopsworksEmulator } from '../support/hopsworks-emulator.ts'
import { batches, fast, prostateColumns, prostateRows, startEmulator } from '../support/hopsworks/data.ts'

type Json = Record<string, unknown>

/** Our suite as the pipeline hands it over: each expectation's meta carries our own id. */
const suite: GeExpectationSuite = geSuite({
  name: 'prostate',
  meta: { great_expectations_version: '0.15.50' },
  expectations: [
    { id: 'e0', config: { expectation_type: 'expect_column_values_to_not_be_null', kwargs: { column: 'age' }, meta: {} } },
    { id: 'e1', config: { expectation_type: 'expect_column_values_to_not_be_null', kwargs: { column: 'lpsa' }, meta: {} } },
  ],
} as never)

function reportFor(s: GeExpectationSuite, validationTime = '2024-03-04T05:06:07.891Z'): GeValidationResult {
  return {
    success: true, statistics: { evaluated_expectations: s.expectations.length }, evaluation_parameters: {},
    meta: { expectation_suite_name: 'prostate', validation_time: validationTime },
    // in reverse order: the mapping goes by id, not by position
    results: [...s.expectations].reverse().map((e) => ({ success: true, expectation_config: e, result: { element_count: 10 }, meta: {}, exception_info: { raised_exception: false } })),
  }
}

async function load(emu: HopsworksEmulator, validation: { suite?: GeExpectationSuite; report?: GeValidationResult }, rows = 10) {
  const sink = await hopsworksSink({ config: hopsworksConfigFromEnv(emu.env())!, columns: prostateColumns, ...fast, validation })
  await pipeline(batches(prostateColumns, prostateRows(rows)), sink.writable)
  return { sink, commit: () => sink.commit() }
}

function storedIds(emu: HopsworksEmulator, fgId: number): Map<string, number> {
  const exps = emu.state.suites.get(fgId)!['expectations'] as Json[]
  return new Map(exps.map((e) => [String(JSON.parse(String(e['kwargs']))['column']), JSON.parse(String(e['meta']))['expectationId'] as number]))
}

t.test('each result names the id the server gave its expectation; validation_time in GE format', async (t) => {
  const emu = await startEmulator(t)
  const { sink, commit } = await load(emu, { suite, report: reportFor(suite) })
  const s = await commit()
  t.same(s.warnings, undefined, 'no warning')
  const ids = storedIds(emu, sink.target.featureGroupId)
  const [r] = emu.state.reports.get(sink.target.featureGroupId)!
  const results = (r!.body['results'] as Json[]).map((x) => JSON.parse(String(x['expectationConfig'])) as { kwargs: { column: string }; meta: Json })
  t.same(results.map((x) => x.meta['expectationId']), [ids.get('lpsa'), ids.get('age')], 'mapped by our id, whatever the order')
  t.equal(JSON.parse(String(r!.body['meta']))['validation_time'], '20240304T050607.891000Z', 'the ISO time travels in GE format')
  t.equal(r!.validationTime, '2024-03-04T05:06:07.891Z', 'the server read our time, not "now"')

  // a second load replaces the suite: the ids of the new answer are used
  const again = await load(emu, { suite, report: reportFor(suite) })
  t.same((await again.commit()).warnings, undefined)
  t.equal(emu.state.reports.get(sink.target.featureGroupId)!.length, 2)
})

t.test('Hopsworks 3.0: the suite is stored with PUT after the POST is refused (405)', async (t) => {
  const emu = await startEmulator(t, { serverVersion: '3.0' })
  const first = await load(emu, { suite, report: reportFor(suite) })
  t.same((await first.commit()).warnings, undefined)
  t.equal(emu.state.suites.get(first.sink.target.featureGroupId)!['expectationSuiteName'], 'prostate')
  t.ok(emu.calls.some((c) => c.route === 'expectationSuite' && c.method === 'POST' && c.status === 405), 'POST answered 405')
  const second = await load(emu, { suite: { ...suite, expectation_suite_name: 'prostate_v2' }, report: reportFor(suite) })
  t.same((await second.commit()).warnings, undefined)
  t.equal(emu.state.suites.get(first.sink.target.featureGroupId)!['expectationSuiteName'], 'prostate_v2', 'replaced with PUT')
  t.equal(emu.state.reports.get(first.sink.target.featureGroupId)!.length, 2)
})

t.test('after the commit nothing fails the load: a suite or report that cannot be attached is a warning', async (t) => {
  const emu = await startEmulator(t)
  emu.inject({ route: 'expectationSuite', status: 500, times: 2 })
  const a = await load(emu, { suite, report: reportFor(suite) })
  const s = await a.commit()
  t.equal(s.job?.finalStatus, 'SUCCEEDED')
  t.equal(emu.rows('prostate_group', 1).length, 10, 'the data is loaded')
  t.equal(s.warnings?.length, 2)
  t.match(s.warnings?.[0], /^the expectation suite could not be attached: Hopsworks .*HTTP 500/)
  t.match(s.warnings?.[1], /the validation report was not sent: .*the suite was not attached/)
  t.notOk(emu.state.reports.get(a.sink.target.featureGroupId), 'no report without its suite')

  emu.inject({ route: 'validationReport', status: 400, times: 1 })
  const b = await load(emu, { suite, report: reportFor(suite) })
  const s2 = await b.commit()
  t.equal(s2.warnings?.length, 1)
  t.match(s2.warnings?.[0], /^the validation report could not be attached: .*HTTP 400/)
  t.equal(emu.rows('prostate_group', 1).length, 10)
})

t.test('a report alone (no suite to map its ids) is not sent, with a warning', async (t) => {
  const emu = await startEmulator(t)
  const { commit } = await load(emu, { report: reportFor(suite) })
  const s = await commit()
  t.match(s.warnings, [/the validation report was not sent/])
  t.equal(emu.count('validationReport'), 0)
})

t.test('the server limits are checked before the job starts: nothing is loaded', async (t) => {
  const emu = await startEmulator(t)
  const cases: [string, { suite?: GeExpectationSuite; report?: GeValidationResult }, RegExp][] = [
    ['suite name of 64 characters', { suite: { ...suite, expectation_suite_name: 'x'.repeat(64) } }, /at most 63 characters in an expectation suite name/],
    ['suite meta over 1000', { suite: { ...suite, meta: { note: 'y'.repeat(1000) } } }, /at most 1000 characters in the expectation suite meta/],
    ['kwargs over 5000', { suite: { ...suite, expectations: [{ expectation_type: 'expect_column_values_to_be_in_set', kwargs: { column: 'age', value_set: Array.from({ length: 1500 }, (_, i) => i) }, meta: {} }] } }, /at most 5000 characters in the kwargs of expectation #0/],
    ['a column that is not a feature', { suite: { ...suite, expectations: [{ expectation_type: 'expect_column_values_to_not_be_null', kwargs: { column: 'nope' }, meta: {} }] } }, /names column "nope", which is not a feature/],
    ['report meta over 2000', { suite, report: { ...reportFor(suite), meta: { long: 'z'.repeat(2000) } } }, /at most 2000 characters in the validation report meta/],
    ['report statistics over 1000', { suite, report: { ...reportFor(suite), statistics: { long: 'z'.repeat(1000) } } }, /at most 1000 characters in the validation report statistics/],
  ]
  for (const [what, validation, message] of cases) {
    const { sink, commit } = await load(emu, validation)
    const err = await commit().then(() => undefined, (e: unknown) => e)
    t.ok(err instanceof EtlError && err.code === 'ETL_HOPSWORKS', `${what}: ETL_HOPSWORKS`)
    t.match((err as Error).message, message, what)
    await sink.abort()
  }
  t.equal(emu.count('startExecution'), 0, 'no job was started')
  t.equal(emu.rows('prostate_group', 1).length, 0)
  t.equal(emu.count('expectationSuite'), 0, 'nothing was sent')
})

t.test('the emulator refuses what the server refuses', async (t) => {
  const emu = await startEmulator(t)
  const { sink, commit } = await load(emu, { suite })
  await commit()
  const base = `${emu.url}/hopsworks-api/api/project/119/featurestores/${sink.target.featureStoreId}/featuregroups/${sink.target.featureGroupId}/validationreport`
  const put = (config: Json) => fetch(base, {
    method: 'PUT', headers: { authorization: `ApiKey ${emu.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ success: true, evaluationParameters: '{}', statistics: '{}', meta: '{}', ingestionResult: 'INGESTED', results: [{ success: true, expectationConfig: JSON.stringify(config), result: '{}', meta: '{}', exceptionInfo: '{}' }] }),
  }).then(async (r) => ({ status: r.status, body: await r.json() as Json }))
  t.match(await put({ expectation_type: 'x', kwargs: {}, meta: {} }), { status: 400, body: { errorCode: 270194 } }, 'no expectationId')
  t.match(await put({ expectation_type: 'x', kwargs: {}, meta: { expectationId: 99999 } }), { status: 404, body: { errorCode: 270190 } }, 'an unknown expectationId')
})
