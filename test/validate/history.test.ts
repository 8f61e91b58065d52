/**
 * `meta.history` (ours, not Great Expectations'): an aggregate expectation
 * checked against the band of its own recent runs, and the drift charts of
 * the data docs. Real runs of `etl run` against the real PostgreSQL.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { checkHistory, historyOptionsOf } from '../../lib/expectations/history.ts'
import { seedProstate } from '../../lib/extract/embedded.ts'
import { cleanEnv, runEtl } from '../support/cli.ts'
import { testDb } from '../support/pg.ts'

async function workdir(t: { teardown(fn: () => unknown): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'etl-history-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  return dir
}

const suite = {
  expectation_suite_name: 'drifting',
  expectations: [
    { expectation_type: 'expect_column_mean_to_be_between', kwargs: { column: 'age', min_value: 40, max_value: 90 }, meta: { label: 'age_mean', history: { runs: 10, sigmas: 3, min_runs: 3 } } },
    { expectation_type: 'expect_table_row_count_to_be_between', kwargs: { min_value: 1, max_value: 1000 }, meta: { label: 'rows' } },
  ],
}

t.test('the band: applied from min_runs, mean ± sigmas x stdev of the passing runs', async (t) => {
  const o = historyOptionsOf({ expectation_type: 'x', kwargs: {}, meta: { history: { runs: 4, sigmas: 2, min_runs: 3 } } }, 'here')!
  t.same(o, { runs: 4, sigmas: 2, minRuns: 3 })
  t.same(checkHistory(o, 10, [10, 10]).details.applied, false, 'two earlier runs: not yet')
  const r = checkHistory(o, 13, [100, 9, 10, 11, 10]) // the last 4: 9 10 11 10 -> mean 10, stdev 0.816
  t.equal(r.details.runs, 4)
  t.equal(r.within, false, '13 is outside 10 ± 1.63')
  t.equal(checkHistory(o, 11.5, [9, 10, 11, 10]).within, true)
  t.equal(checkHistory(o, 5, [5, 5, 5]).within, true, 'a constant history accepts its value')
  t.equal(checkHistory(o, 5.0001, [5, 5, 5]).within, false, 'and nothing else')
  t.throws(() => historyOptionsOf({ expectation_type: 'x', kwargs: {}, meta: { history: { runs: 1 } } }, 'here'), { code: 'ETL_SUITE', message: /runs must be an integer from 2 to 100/ })
  t.throws(() => historyOptionsOf({ expectation_type: 'x', kwargs: {}, meta: { history: { window: 3 } } }, 'here'), { code: 'ETL_SUITE', message: /unknown key "window"/ })
})

t.test('runs of unchanged data pass; a shifted mean inside the bounds fails on its history; the run page draws it', async (t) => {
  const db = await testDb(t)
  await seedProstate(db.config)
  const env = cleanEnv(db.env)
  const cwd = await workdir(t)
  const suitePath = join(cwd, 'drifting.json')
  await writeFile(suitePath, JSON.stringify(suite))
  for (let i = 0; i < 4; i++) {
    const r = await runEtl(['run', '--suite', suitePath], { cwd, env })
    t.equal(r.code, 0, `run ${i + 1} passes: ${r.stderr}`)
  }
  const history = JSON.parse(await readFile(join(cwd, 'data/history/drifting.json'), 'utf8'))
  t.equal(history.expectations.age_mean.length, 4, 'four observed means kept')
  t.equal(history.expectations.rows.length, 4, 'and four row counts')
  t.ok(history.expectations.age_mean.every((p: { value: number }) => p.value === history.expectations.age_mean[0].value), 'the same mean each run')

  // Ten years older: the mean moves from 63.9 to 73.9, still inside 40..90, but far outside its history.
  await db.client.query('UPDATE prostate SET age = age + 10')
  const shifted = await runEtl(['run', '--suite', suitePath, '--json'], { cwd, env })
  t.equal(shifted.code, 3, 'the history band fails the gate')
  t.match(shifted.stderr, /ETL_QUALITY_GATE/)
  t.match(shifted.stderr, /age_mean/)
  const record = JSON.parse(shifted.stdout)
  const mean = record.summary.validation.result.results.find((r: { meta: { label: string } }) => r.meta.label === 'age_mean')
  t.equal(mean.success, false)
  t.equal(mean.result.details.history.applied, true)
  t.equal(mean.result.details.history.runs, 4)
  t.equal(mean.result.details.history.within, false)
  const page = await readFile(join(cwd, `data/docs/runs/${record.id}.html`), 'utf8')
  t.match(page, /<h2 id="drift-h">Drift<\/h2>/, 'the run page has the drift section')
  const svg = page.slice(page.indexOf('<svg class="drift"'))
  t.equal((svg.slice(0, svg.indexOf('</svg>')).match(/<circle/g) ?? []).length, 5, 'five runs drawn for the mean')
  t.match(page, /class="failed"/, 'the failing run is marked')

  const h2 = JSON.parse(await readFile(join(cwd, 'data/history/drifting.json'), 'utf8'))
  t.equal(h2.expectations.age_mean.length, 5)
  t.equal(h2.expectations.age_mean[4].success, false, 'kept, as failed: it does not move the band')
})

t.test('meta.history on an expectation that observes no single value is ETL_SUITE', async (t) => {
  const db = await testDb(t)
  await seedProstate(db.config)
  const cwd = await workdir(t)
  const p = join(cwd, 'bad.json')
  await writeFile(p, JSON.stringify({ expectation_suite_name: 'bad', expectations: [{ expectation_type: 'expect_column_values_to_not_be_null', kwargs: { column: 'age' }, meta: { history: { runs: 5 } } }] }))
  const r = await runEtl(['run', '--suite', p], { cwd, env: cleanEnv(db.env) })
  t.equal(r.code, 2)
  t.match(r.stderr, /ETL_SUITE: .*meta\.history needs an aggregate expectation/)
})
