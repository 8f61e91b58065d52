/**
 * The stage counts a data folder holds (countsFromDataDir), as
 * `etl meta-validate` finds them.
 */
import { readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import t from 'tap'
import { csvTee } from '../../lib/csv/stage-file.ts'
import { pgSource } from '../../lib/extract/pg-source.ts'
import { countsFromDataDir, metaValidateFiles } from '../../lib/validate/meta.ts'
import { quarantineCsv } from '../../lib/validate/quarantine.ts'
import { writeValidationFiles } from '../../lib/validate/results.ts'
import { validate } from '../../lib/validate/validate.ts'
import { failedIds, PROSTATE_SUITE, prostateDb, prostateSuite, stageFile, tempDir, validatedFolder } from './support.ts'

t.test('an empty folder knows no count', async (t) => {
  t.same(await countsFromDataDir(await tempDir(t)), {})
})

t.test('quarantined rows come from quarantine.csv; the counts then reconcile with a transform of the rest', async (t) => {
  const { client } = await prostateDb(t)
  await client.query('UPDATE prostate SET age = 120 WHERE age > 75')
  const dir = await tempDir(t)
  const suite = await prostateSuite()
  const stage = validate({ suite, policy: 'quarantine', quarantine: quarantineCsv(join(dir, 'quarantine.csv')) })
  await pipeline(pgSource(client, { table: 'prostate' }), csvTee(join(dir, 'extracted.csv')), stage, new Writable({ objectMode: true, write: (_b, _e, cb) => cb() }))
  const v = await stage.summary
  t.ok(v.quarantinedRows > 0)
  await writeValidationFiles(dir, v.result, 'extract')
  t.same(await countsFromDataDir(dir), { extracted: 97, validated: 97, quarantined: v.quarantinedRows })

  await stageFile(dir, 'transformed.csv', client, { query: 'SELECT * FROM prostate WHERE age <= 75' })
  const counts = await countsFromDataDir(dir)
  t.same(counts, { extracted: 97, validated: 97, quarantined: v.quarantinedRows, transformed: 97 - v.quarantinedRows, dropped: 0 })
  const { result } = await metaValidateFiles({ dataDir: dir, suitePath: PROSTATE_SUITE })
  t.same(failedIds(result), ['all_success'], 'the data failed (ages of 120), the counts add up')
})

t.test('dropped rows recorded in the transformed sidecar are accounted for', async (t) => {
  const { client } = await prostateDb(t)
  const dir = await tempDir(t)
  await validatedFolder(dir, client, { table: 'prostate' }, await prostateSuite())
  await stageFile(dir, 'transformed.csv', client, { query: 'SELECT * FROM prostate LIMIT 95' })
  const sidecar = join(dir, 'transformed.schema.json')
  await writeFile(sidecar, JSON.stringify({ ...JSON.parse(await readFile(sidecar, 'utf8')), dropped: 2 }))
  t.same(await countsFromDataDir(dir), { extracted: 97, validated: 97, quarantined: 0, transformed: 95, dropped: 2 })
  t.same(failedIds((await metaValidateFiles({ dataDir: dir, suitePath: PROSTATE_SUITE })).result), [])
})

t.test('without the validation JSON, validated is the largest element count of the results CSV', async (t) => {
  const { client } = await prostateDb(t)
  const dir = await tempDir(t)
  await validatedFolder(dir, client, { query: 'SELECT * FROM prostate LIMIT 90' }, await prostateSuite())
  await rm(join(dir, 'extract_validation_result.json'))
  const { counts, result } = await metaValidateFiles({ dataDir: dir, suitePath: PROSTATE_SUITE })
  t.same(counts, { extracted: 90, validated: 90, quarantined: 0 })
  t.equal(result.success, true)
})

t.test('the validation JSON can record quarantined rows; it wins over quarantine.csv', async (t) => {
  const { client } = await prostateDb(t)
  const dir = await tempDir(t)
  await validatedFolder(dir, client, { table: 'prostate' }, await prostateSuite())
  const path = join(dir, 'extract_validation_result.json')
  const json = JSON.parse(await readFile(path, 'utf8')) as { meta: Record<string, unknown> }
  json.meta['quarantined_rows'] = 3
  await writeFile(path, JSON.stringify(json))
  t.same(await countsFromDataDir(dir), { extracted: 97, validated: 97, quarantined: 3 })
})

t.test('an unreadable sidecar is ETL_INPUT', async (t) => {
  const dir = await tempDir(t)
  await writeFile(join(dir, 'extracted.schema.json'), '{not json')
  await t.rejects(countsFromDataDir(dir), { code: 'ETL_INPUT', message: /extracted\.schema\.json is not valid JSON/ })
})
