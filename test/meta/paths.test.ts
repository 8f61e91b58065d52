/**
 * Both ways give the same answer: meta-validation in memory (the one-pass
 * run: metaValidate over the suite result) and from the data folder
 * (`etl meta-validate`: metaValidateFiles over the results CSV read back)
 * return deep-equal results, times fixed by the clock.
 */
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type pg from 'pg'
import t from 'tap'
import { parseSuite } from '../../lib/expectations/suite.ts'
import type { Suite } from '../../lib/expectations/types.ts'
import type { SourceSpec } from '../../lib/extract/relation.ts'
import { defaultMetaSuite, metaValidate, metaValidateFiles } from '../../lib/validate/meta.ts'
import { testDb } from '../support/pg.ts'
import { allCounts, fixedClock, prostateDb, prostateSuite, stageFile, tempDir, validatedFolder } from './support.ts'

interface T {
  teardown(fn: () => unknown): void
}

/** Runs both ways over one validation; the suite is written to the folder so both declare the same. */
async function bothWays(t: T, client: pg.Client, source: SourceSpec, suite: Suite, metaSuite?: Suite, after?: (dir: string) => Promise<void>) {
  const dir = await tempDir(t)
  const suitePath = join(dir, 'suite.json')
  await writeFile(suitePath, JSON.stringify({ expectation_suite_name: suite.name, expectations: suite.expectations.map((e) => e.config) }))
  const metaSuitePath = metaSuite ? join(dir, 'meta-suite.json') : undefined
  if (metaSuitePath && metaSuite)
    await writeFile(metaSuitePath, JSON.stringify({ expectation_suite_name: metaSuite.name, expectations: metaSuite.expectations.map((e) => e.config) }))
  const v = await validatedFolder(dir, client, source, suite)
  await after?.(dir)
  const files = await metaValidateFiles({ dataDir: dir, suitePath, metaSuitePath, clock: fixedClock })
  const memory = metaValidate({ validation: v.result, declared: suite, counts: files.counts, metaSuite, clock: fixedClock })
  return { files, memory, v }
}

t.test('the prostate data: same result both ways, before and after transform', async (t) => {
  const { client } = await prostateDb(t)
  const suite = await prostateSuite()
  const before = await bothWays(t, client, { table: 'prostate' }, suite)
  t.same(before.files.counts, { extracted: 97, validated: 97, quarantined: 0 })
  t.equal(before.memory.success, true)
  t.same(before.files.result, before.memory)
  t.same(JSON.parse(await readFile(before.files.files.json, 'utf8')), JSON.parse(JSON.stringify(before.memory)))

  const after = await bothWays(t, client, { table: 'prostate' }, suite, undefined, (dir) => stageFile(dir, 'transformed.csv', client, { table: 'prostate' }))
  t.same(after.files.counts, { extracted: 97, validated: 97, quarantined: 0, transformed: 97, dropped: 0 })
  t.same(after.files.result, after.memory)
  const inMemoryWithAll = metaValidate({ validation: after.v.result, declared: suite, counts: { ...allCounts(97), loaded: undefined }, clock: fixedClock })
  t.same(after.files.result, inMemoryWithAll, 'the one-pass counts (before the load) give the same answer as the folder')
})

t.test('failing data and unsound validation: same result both ways', async (t) => {
  const { client } = await prostateDb(t)
  await client.query('UPDATE prostate SET age = 120 WHERE ctid = (SELECT ctid FROM prostate ORDER BY lpsa LIMIT 1)')
  const base = await prostateSuite()
  const suite = parseSuite({
    expectation_suite_name: 'prostate',
    expectations: [
      ...base.expectations.map((e) => e.config),
      base.expectations[2]!.config,
      { expectation_type: 'expect_column_values_to_be_between', kwargs: { column: 'psa', min_value: 0 } },
    ],
  })
  const { files, memory } = await bothWays(t, client, { table: 'prostate' }, suite)
  t.equal(memory.success, false)
  t.same(memory.results.filter((r) => !r.success).map((r) => r.meta['expectation_id']), ['all_success', 'declared_once', 'no_exception'])
  t.same(files.result, memory)
})

t.test('every value type of the results table reads back as it was: a meta suite over all columns agrees both ways', async (t) => {
  const { client } = await testDb(t)
  await client.query(`CREATE TABLE m (d date, ts timestamptz, name text, doc jsonb, n numeric, big int8)`)
  await client.query(`INSERT INTO m VALUES
    ('2024-01-02', '2024-01-02T03:04:05Z', 'a,"b"', '{"k": "v, \\"w\\""}', 1.5, 9007199254740993),
    ('2024-02-03', NULL, '', '"text"', 123456789012345678, 1),
    (NULL, '2023-12-31T23:59:59.999Z', 'c', '[1, null]', NULL, NULL)`)
  const suite = parseSuite({
    expectation_suite_name: 'types',
    expectations: [
      { expectation_type: 'expect_column_max_to_be_between', kwargs: { column: 'd', min_value: '2024-01-01', max_value: '2024-12-31' } },
      { expectation_type: 'expect_column_min_to_be_between', kwargs: { column: 'ts', min_value: '2024-01-01T00:00:00Z' } },
      { expectation_type: 'expect_column_distinct_values_to_be_in_set', kwargs: { column: 'name', value_set: ['a,"b"', 'c'] } },
      { expectation_type: 'expect_column_values_to_be_in_set', kwargs: { column: 'doc', value_set: ['text'], result_format: 'COMPLETE' } },
      { expectation_type: 'expect_column_sum_to_be_between', kwargs: { column: 'n', max_value: 1 } },
      { expectation_type: 'expect_column_max_to_be_between', kwargs: { column: 'big', max_value: 10 } },
      { expectation_type: 'expect_column_values_to_match_regex', kwargs: { column: 'name', regex: '^[a-c]' } },
    ],
  })
  const base = defaultMetaSuite()
  const metaSuite = parseSuite({
    expectation_suite_name: 'meta-all-columns',
    expectations: [
      ...base.expectations.map((e) => e.config),
      { expectation_type: 'expect_column_values_to_be_in_set', kwargs: { column: 'observed_value', value_set: [], result_format: 'COMPLETE' } },
      { expectation_type: 'expect_column_values_to_be_in_set', kwargs: { column: 'kwargs', value_set: [], result_format: 'COMPLETE' } },
      { expectation_type: 'expect_column_values_to_be_in_set', kwargs: { column: 'unexpected_percent', value_set: [], result_format: 'COMPLETE' } },
      { expectation_type: 'expect_column_values_to_be_in_set', kwargs: { column: 'label', value_set: [], result_format: 'COMPLETE' } },
      { expectation_type: 'expect_column_values_to_be_in_set', kwargs: { column: 'column', value_set: [], result_format: 'COMPLETE' } },
      { expectation_type: 'expect_column_sum_to_be_between', kwargs: { column: 'element_count', max_value: 0 } },
    ],
  })
  const { files, memory, v } = await bothWays(t, client, { table: 'm' }, suite, metaSuite)
  t.equal(v.result.results.length, 7)
  const observed = memory.results.find((r) => r.expectation_config.kwargs['column'] === 'observed_value')!
  t.ok((observed.result.unexpected_list?.length ?? 0) >= 4, 'observed values of several JSON types are compared')
  t.same(files.result, memory)
})
