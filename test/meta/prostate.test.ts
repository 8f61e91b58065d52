/**
 * The 97-row prostate data passes validation and meta-validation; one age of
 * 120 fails the data, not the validation; count checks wait for their stages.
 */
import t from 'tap'
import { parseSuite } from '../../lib/expectations/suite.ts'
import { defaultMetaSuite, gateReport, metaValidate, SKIPPED } from '../../lib/validate/meta.ts'
import { allCounts, failedIds, fixedClock, prostateDb, prostateSuite, skippedIds, validateSource } from './support.ts'

const META_IDS = [
  'all_success', 'has_outcome', 'one_result_each', 'evaluated_once', 'all_evaluated', 'declared_once', 'no_exception', 'no_vacuous_pass',
  'validated_all_extracted', 'transform_accounts_for_all', 'loaded_all_transformed', 'store_adds_up', 'one_key_per_row',
]
/** The post-load checks: they need the store's figures after the commit, so meta-validation before it skips them. */
const AFTER_COMMIT = ['store_adds_up', 'one_key_per_row']

t.test('the 97-row prostate data passes; every meta check runs and passes', async (t) => {
  const { client } = await prostateDb(t)
  const suite = await prostateSuite()
  const v = await validateSource(client, { table: 'prostate' }, suite)
  t.equal(v.rows, 97)
  t.equal(v.result.success, true)

  const meta = metaValidate({ validation: v.result, declared: suite, counts: allCounts(97), clock: fixedClock })
  t.equal(meta.success, true, gateReport(v.result, meta))
  t.same(meta.results.map((r) => r.meta['expectation_id']), META_IDS, 'one result per meta expectation, in suite order')
  t.same(failedIds(meta), [])
  t.same(skippedIds(meta), AFTER_COMMIT, 'only the post-load checks wait (for the commit)')
  t.same(meta.statistics, { evaluated_expectations: 13, successful_expectations: 13, unsuccessful_expectations: 0, success_percent: 100 })
  t.equal(meta.meta.expectation_suite_name, 'meta')
  t.equal(meta.meta.validated_suite, 'prostate')
  t.equal(meta.meta.row_count, 6, 'the results table has one row per declared expectation')
  t.equal(meta.meta.validation_time, '2025-01-02T03:04:05.000Z')
  t.same(meta.meta['counts'], allCounts(97))
  t.same(meta.evaluation_parameters, {
    declared_expectations: 6, declared_ids: ['target_exp', 'age', 'lcavol', 'lweight', 'gleason', 'pgg45'], ...allCounts(97),
  })
  const all = meta.results.find((r) => r.meta['expectation_id'] === 'all_success')!
  t.same(all.result.observed_value, ['success'], "the original's check saw only successes")
  t.equal(all.meta['label'], 'every expectation of the suite succeeded')
  t.equal(meta.results.find((r) => r.meta['expectation_id'] === 'transform_accounts_for_all')!.meta['table'], 'counts')

  const report = gateReport(v.result, meta).split('\n')
  t.same(report.slice(0, 2), ['validation of suite "prostate": all 6 expectations passed', 'meta-validation (suite "meta"): all 13 checks passed'])
  t.equal(report.filter((l) => l.includes('(skipped) after the commit')).length, 2, 'the two post-load checks say they wait for the commit')
})

t.test('the default meta suite is fixtures/suites/meta.json', async (t) => {
  const { client } = await prostateDb(t)
  const suite = await prostateSuite()
  const v = await validateSource(client, { table: 'prostate' }, suite)
  const given = metaValidate({ validation: v.result, declared: suite, counts: allCounts(97), metaSuite: defaultMetaSuite(), clock: fixedClock })
  const defaulted = metaValidate({ validation: v.result, declared: suite, counts: allCounts(97), clock: fixedClock })
  t.same(defaulted, given)
})

t.test('before transform and load, the checks needing their counts are skipped, and say so', async (t) => {
  const { client } = await prostateDb(t)
  const suite = await prostateSuite()
  const v = await validateSource(client, { table: 'prostate' }, suite)
  const meta = metaValidate({ validation: v.result, declared: suite, counts: { extracted: 97, validated: 97, quarantined: 0 } })
  t.equal(meta.success, true)
  t.same(skippedIds(meta), ['transform_accounts_for_all', 'loaded_all_transformed', ...AFTER_COMMIT])
  t.same(meta.meta['skipped'], ['transform_accounts_for_all', 'loaded_all_transformed', ...AFTER_COMMIT])
  const sum = meta.results.find((r) => r.meta['expectation_id'] === 'transform_accounts_for_all')!
  t.equal(sum.success, true)
  t.equal(sum.meta['skipped'], SKIPPED)
  t.same(sum.meta['needs'], ['transformed', 'dropped'])
  t.same(meta.results.find((r) => r.meta['expectation_id'] === 'loaded_all_transformed')!.meta['needs'], ['transformed', 'loaded'])
  t.match(gateReport(v.result, meta), /\(skipped\) rows loaded = rows transformed \[loaded_all_transformed\]: stage not run yet/)

  const none = metaValidate({ validation: v.result, declared: suite, counts: {} })
  t.same(skippedIds(none), ['validated_all_extracted', 'transform_accounts_for_all', 'loaded_all_transformed', ...AFTER_COMMIT])
  t.equal(none.success, true)
})

t.test('one age of 120: the data fails, the validation is sound, the report names it', async (t) => {
  const { client } = await prostateDb(t)
  await client.query('UPDATE prostate SET age = 120 WHERE ctid = (SELECT ctid FROM prostate ORDER BY lpsa LIMIT 1)')
  const suite = await prostateSuite()
  const v = await validateSource(client, { table: 'prostate' }, suite)
  t.equal(v.result.success, false)
  const meta = metaValidate({ validation: v.result, declared: suite, counts: allCounts(97) })
  t.same(failedIds(meta), ['all_success'], 'only the "every result is a success" check fails: nothing else is wrong with the validation')
  const report = gateReport(v.result, meta).split('\n')
  t.same(report.slice(0, 4), [
    'validation of suite "prostate": 1 of 6 expectations failed',
    '  - age: 1 of 97 unexpected (1.03%), e.g. [120]; expected between 41 and 80',
    'meta-validation (suite "meta"): 1 of 13 checks failed',
    '  - every expectation of the suite succeeded [all_success]: observed ["failure","success"]: unexpected "failure"',
  ])
  t.same(report.slice(4).map((l) => /\[(\w+)\]/.exec(l)?.[1]), ['store_adds_up', 'one_key_per_row'], 'then only the post-load checks, skipped: they wait for the commit')
  t.ok(report.slice(4).every((l) => l.startsWith('  (skipped) after the commit:')))
})

t.test('a meta suite users extend: more checks, on either table', async (t) => {
  const { client } = await prostateDb(t)
  const suite = await prostateSuite()
  const v = await validateSource(client, { table: 'prostate' }, suite)
  const base = defaultMetaSuite()
  const metaSuite = parseSuite({
    expectation_suite_name: 'meta-plus',
    expectations: [
      ...base.expectations.map((e) => e.config),
      { expectation_type: 'expect_column_values_to_be_between', kwargs: { column: 'extracted', min_value: 90, max_value: 100 }, meta: { id: 'big_enough', table: 'counts' } },
      { expectation_type: 'expect_column_values_to_be_in_set', kwargs: { column: 'expectation_type', value_set: ['expect_column_values_to_be_between'] }, meta: { id: 'only_ranges' } },
      { expectation_type: 'expect_table_row_count_to_equal', kwargs: { value: 1 }, meta: { id: 'bad_table', table: 'nope' } },
    ],
  })
  const meta = metaValidate({ validation: v.result, declared: suite, counts: allCounts(97), metaSuite })
  t.same(failedIds(meta), ['only_ranges', 'bad_table'])
  const bad = meta.results.find((r) => r.meta['expectation_id'] === 'bad_table')!
  t.equal(bad.exception_info.raised_exception, true)
  t.equal(bad.exception_info.exception_message, 'meta.table must be "results", "counts" or "load", got "nope"')
  t.equal(meta.results.find((r) => r.meta['expectation_id'] === 'big_enough')!.success, true)
  const small = metaValidate({ validation: v.result, declared: suite, counts: allCounts(12), metaSuite })
  t.same(failedIds(small), ['big_enough', 'only_ranges', 'bad_table'], 'in meta suite order; the counts still agree with each other')
})

t.test('the report without a meta result says meta-validation did not run', async (t) => {
  const { client } = await prostateDb(t)
  const suite = await prostateSuite()
  const v = await validateSource(client, { table: 'prostate' }, suite)
  t.equal(gateReport(v.result, undefined), 'validation of suite "prostate": all 6 expectations passed\nmeta-validation: not run')
})
