/**
 * Meta failures that are not data failures: an expectation that raised (a
 * missing column), a suite declaring an expectation twice, stage counts that
 * do not reconcile (in memory, and from a data folder).
 */
import t from 'tap'
import { gateReport, metaValidate, metaValidateFiles } from '../../lib/validate/meta.ts'
import { allCounts, failedIds, PROSTATE_SUITE, prostateDb, prostateSuite, prostateSuiteWith, stageFile, tempDir, validatedFolder, validateSource } from './support.ts'

t.test('an expectation on a missing column raised: meta-validation fails', async (t) => {
  const { client } = await prostateDb(t)
  const suite = await prostateSuiteWith({ expectation_type: 'expect_column_values_to_be_between', kwargs: { column: 'psa', min_value: 0 }, meta: { label: 'psa' } })
  const v = await validateSource(client, { table: 'prostate' }, suite)
  const meta = metaValidate({ validation: v.result, declared: suite, counts: allCounts(97) })
  t.same(failedIds(meta), ['all_success', 'no_exception'])
  const report = gateReport(v.result, meta).split('\n')
  t.match(report[1], /^ {2}- psa: raised an exception: .*psa/)
  t.equal(report[3], '  - every expectation of the suite succeeded [all_success]: observed ["failure","success"]: unexpected "failure"')
  t.equal(report[4], '  - no expectation raised an exception [no_exception]: 1 of 7 unexpected (14.29%): psa')
})

t.test('a suite declaring the same expectation twice fails meta-validation, though every result passes', async (t) => {
  const { client } = await prostateDb(t)
  const base = await prostateSuite()
  const suite = await prostateSuiteWith(base.expectations[1]!.config)
  t.same(suite.expectations.map((e) => e.id), ['target_exp', 'age', 'lcavol', 'lweight', 'gleason', 'pgg45', 'age#6'], 'ids stay unique')
  const v = await validateSource(client, { table: 'prostate' }, suite)
  t.equal(v.result.success, true, 'the data is fine')
  const meta = metaValidate({ validation: v.result, declared: suite, counts: allCounts(97) })
  t.same(failedIds(meta), ['declared_once'])
  t.match(gateReport(v.result, meta), /no expectation is declared twice \[declared_once\]: 2 of 7 unexpected \(28\.57%\): age, age#6/)
})

t.test('the same expectation with its kwargs in another order is still a duplicate', async (t) => {
  const { client } = await prostateDb(t)
  const suite = await prostateSuiteWith(
    { expectation_type: 'expect_column_values_to_be_between', kwargs: { max_value: 80, min_value: 41, column: 'age' }, meta: { id: 'age-again' } },
  )
  const v = await validateSource(client, { table: 'prostate' }, suite)
  t.same(failedIds(metaValidate({ validation: v.result, declared: suite, counts: allCounts(97) })), ['declared_once'])
})

t.test('counts that do not reconcile fail meta-validation', async (t) => {
  const { client } = await prostateDb(t)
  const suite = await prostateSuite()
  const v = await validateSource(client, { table: 'prostate' }, suite)
  const run = (counts: Record<string, number>) => failedIds(metaValidate({ validation: v.result, declared: suite, counts: { ...allCounts(97), ...counts } }))
  t.same(run({}), [])
  t.same(run({ transformed: 96, loaded: 96 }), ['transform_accounts_for_all'], 'a stage lost a row: transformed + quarantined + dropped != validated')
  t.same(run({ transformed: 95, quarantined: 1, dropped: 1, loaded: 95 }), [], 'quarantined and dropped rows are accounted for')
  t.same(run({ validated: 96 }), ['validated_all_extracted', 'transform_accounts_for_all'])
  t.same(run({ loaded: 90 }), ['loaded_all_transformed'])
  const meta = metaValidate({ validation: v.result, declared: suite, counts: { ...allCounts(97), transformed: 96, loaded: 96 } })
  t.match(gateReport(v.result, meta), /rows transformed \+ quarantined \+ dropped = rows validated \[transform_accounts_for_all\]: 1 of 1 unexpected \(100%\), e\.g\. \[\{"transformed":96,"quarantined":0,"dropped":0\}\]/)
})

t.test('from a data folder: a transform stage that lost a row fails; a stale transformed.csv is ignored', async (t) => {
  const { client } = await prostateDb(t)
  const dir = await tempDir(t)
  await stageFile(dir, 'transformed.csv', client, { query: 'SELECT * FROM prostate LIMIT 96' })
  await new Promise((r) => setTimeout(r, 20))
  await validatedFolder(dir, client, { table: 'prostate' }, await prostateSuite())
  const stale = await metaValidateFiles({ dataDir: dir, suitePath: PROSTATE_SUITE })
  t.same(stale.counts, { extracted: 97, validated: 97, quarantined: 0 }, 'transformed.csv older than extracted.csv belongs to an earlier run')
  t.equal(stale.result.success, true)

  await stageFile(dir, 'transformed.csv', client, { query: 'SELECT * FROM prostate LIMIT 96' })
  const lost = await metaValidateFiles({ dataDir: dir, suitePath: PROSTATE_SUITE })
  t.same(lost.counts, { extracted: 97, validated: 97, quarantined: 0, transformed: 96, dropped: 0 })
  t.same(failedIds(lost.result), ['transform_accounts_for_all'])

  await stageFile(dir, 'transformed.csv', client, { table: 'prostate' })
  const whole = await metaValidateFiles({ dataDir: dir, suitePath: PROSTATE_SUITE, counts: { loaded: 97 } })
  t.same(whole.counts, { ...allCounts(97) }, 'counts given win over (and add to) the folder')
  t.same(failedIds(whole.result), [])
})
