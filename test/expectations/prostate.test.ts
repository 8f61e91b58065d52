/**
 * The default suite passes on the 97 rows of the prostate data, read from a
 * real PostgreSQL table through pgSource and the validating stage.
 */
import { Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import t from 'tap'
import { readSuite } from '../../lib/expectations/suite.ts'
import { seedProstate } from '../../lib/extract/embedded.ts'
import { pgSource } from '../../lib/extract/pg-source.ts'
import { validate } from '../../lib/validate/validate.ts'
import { testDb } from '../support/pg.ts'

t.test('fixtures/suites/prostate.json: every expectation succeeds on the prostate table', async (t) => {
  const { client, config, schema } = await testDb(t)
  await seedProstate(config, 'prostate')
  const suite = await readSuite(new URL('../../fixtures/suites/prostate.json', import.meta.url).pathname)
  const stage = validate({ suite })
  await pipeline(pgSource(client, { table: `${schema}.prostate` }), stage, new Writable({ objectMode: true, write: (_b, _e, cb) => cb() }))
  const { result, rows, invalidRows } = await stage.summary
  t.equal(rows, 97)
  t.equal(invalidRows, 0)
  t.same(result.results.map((r) => [r.meta['label'], r.success]), [
    ['target_exp', true], ['age', true], ['lcavol', true], ['lweight', true], ['gleason', true], ['pgg45', true],
  ])
  t.same(result.results[0]!.result.observed_value, [0, 1])
  t.same(result.statistics, { evaluated_expectations: 6, successful_expectations: 6, unsuccessful_expectations: 0, success_percent: 100 })
})
