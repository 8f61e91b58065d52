/**
 * `etl meta-validate` over a data folder: it reads
 * extract_validation_results.csv back and catches tampering (a row changed to
 * failure, deleted, duplicated); it writes the meta files in the validation
 * stage's shapes.
 */
import { cp, readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { csvSource } from '../../lib/csv/read.ts'
import type { Batch, Row } from '../../lib/types.ts'
import { gateReport, metaValidateFiles } from '../../lib/validate/meta.ts'
import { RESULTS_COLUMNS } from '../../lib/validate/results.ts'
import { failedIds, fixedClock, PROSTATE_SUITE, prostateDb, prostateSuite, skippedIds, tempDir, validatedFolder } from './support.ts'

const RESULTS_CSV = 'extract_validation_results.csv'

t.test('tampering with the results CSV fails meta-validation', async (t) => {
  const { client } = await prostateDb(t)
  const clean = await tempDir(t)
  const v = await validatedFolder(clean, client, { table: 'prostate' }, await prostateSuite())
  t.equal(v.result.success, true)

  /** A copy of the clean folder with the results CSV's lines edited. */
  const tampered = async (edit: (lines: string[]) => string[]): Promise<string> => {
    const dir = await tempDir(t)
    await cp(clean, dir, { recursive: true })
    const text = await readFile(join(dir, RESULTS_CSV), 'utf8')
    const [header = '', ...rows] = text.trimEnd().split('\n')
    await writeFile(join(dir, RESULTS_CSV), [header, ...edit(rows)].join('\n') + '\n')
    return dir
  }
  const run = (dataDir: string) => metaValidateFiles({ dataDir, suitePath: PROSTATE_SUITE, clock: fixedClock })

  t.test('the untouched folder passes and gets its meta files', async (t) => {
    const { result, counts, files } = await run(clean)
    t.equal(result.success, true, gateReport(v.result, result))
    t.same(counts, { extracted: 97, validated: 97, quarantined: 0 })
    t.same(skippedIds(result), ['transform_accounts_for_all', 'loaded_all_transformed', 'store_adds_up', 'one_key_per_row'])
    t.same(files, { csv: join(clean, 'meta_extract_validation_results.csv'), json: join(clean, 'meta_extract_validation_result.json') })
    t.ok((await readdir(clean)).includes('meta_extract_validation_results.schema.json'))
    const back: Row[] = []
    const source = csvSource(files.csv)
    for await (const b of source) back.push(...(b as Batch).rows)
    t.same((await source.columns).map((c) => c.name), RESULTS_COLUMNS.map((c) => c.name), 'the meta results CSV has the validation results shape')
    t.same(back.map((r) => [r[0], r[1], r[2]]), result.results.map((r) => [r.meta['label'], 'success', r.meta['expectation_id']]))
    t.same(JSON.parse(await readFile(files.json, 'utf8')), JSON.parse(JSON.stringify(result)))
  })

  t.test('a row changed to failure', async (t) => {
    const dir = await tampered((rows) => rows.map((r, i) => (i === 2 ? r.replace(',success,', ',failure,') : r)))
    const { result } = await run(dir)
    t.equal(result.success, false)
    t.same(failedIds(result), ['all_success'])
  })

  t.test('a row deleted', async (t) => {
    const dir = await tampered((rows) => rows.filter((_, i) => i !== 1))
    const { result } = await run(dir)
    t.same(failedIds(result), ['one_result_each', 'all_evaluated'])
    t.match(gateReport(v.result, result), /every declared expectation was evaluated \[all_evaluated\]: observed .*: missing "age"/)
  })

  t.test('a row duplicated', async (t) => {
    const dir = await tampered((rows) => [...rows, rows[4]!])
    const { result } = await run(dir)
    t.same(failedIds(result), ['one_result_each', 'evaluated_once', 'declared_once'])
    t.match(gateReport(v.result, result), /no expectation was evaluated twice \[evaluated_once\]: 2 of 7 unexpected \(28\.57%\): gleason/)
  })

  t.test('a row whose outcome was blanked', async (t) => {
    const dir = await tampered((rows) => rows.map((r, i) => (i === 0 ? r.replace(',success,', ',,') : r)))
    const { result } = await run(dir)
    t.same(failedIds(result), ['has_outcome'], 'distinct values leave NULL out: the not-null check catches it')
  })
})

t.test('a missing results CSV is ETL_INPUT and says what to run', async (t) => {
  const dir = await tempDir(t)
  await t.rejects(metaValidateFiles({ dataDir: dir, suitePath: PROSTATE_SUITE }), { code: 'ETL_INPUT', message: /extract_validation_results\.csv.*run `etl validate` first/ })
})
