/**
 * Lineage of the stage files in the five-command mode: the real `etl`
 * against the real PostgreSQL. A new extract makes the older validation
 * results stale; transform and load refuse them (ETL_LINEAGE, exit 2) and
 * nothing is loaded. A stage file changed after it was written is refused.
 */
import { access, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t, { type Test } from 'tap'
import { cleanEnv, runEtl } from '../support/cli.ts'
import { testDb } from '../support/pg.ts'

const SUITE = fileURLToPath(new URL('../cli/bad-inputs/ages.json', import.meta.url))
const exists = (p: string) => access(p).then(() => true, () => false)

async function scene(t: Test) {
  const db = await testDb(t)
  await db.client.query('CREATE TABLE good AS SELECT g + 40 AS age, g % 2 AS target FROM generate_series(1, 10) g')
  await db.client.query('CREATE TABLE bad AS SELECT g AS age, g % 2 AS target FROM generate_series(1, 10) g')
  const cwd = await mkdtemp(join(tmpdir(), 'etl-lineage-'))
  t.teardown(() => rm(cwd, { recursive: true, force: true }))
  const env = cleanEnv(db.env)
  const etl = (...args: string[]) => runEtl(args, { cwd, env })
  return { cwd, data: join(cwd, 'data'), etl }
}

t.test('good extract, validate, meta-validate, then a bad extract: transform and load refuse, nothing is loaded', async (t) => {
  const { data, etl } = await scene(t)
  for (const args of [['extract', '--table', 'good'], ['validate', '--suite', SUITE], ['meta-validate', '--suite', SUITE], ['extract', '--table', 'bad']]) {
    const r = await etl(...args, '--quiet')
    t.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`)
  }
  const sidecar = JSON.parse(await readFile(join(data, 'extracted.schema.json'), 'utf8'))
  t.match(sidecar.lineage, { extractId: /^\d{8}T\d{9}Z-/, checksum: /^sha256:[0-9a-f]{64}$/ })
  t.equal(sidecar.lineage.checksum, sidecar.sha256, 'an extract descends from itself')

  const transform = await etl('transform')
  t.equal(transform.code, 2, transform.stderr)
  t.match(transform.stderr, /ETL_LINEAGE: the stage files are of different extracts: extracted\.csv is of extract \S+ \(sha256:[0-9a-f]{12}\.\.\.\); extract_validation_result\.json, extract_validation_results\.csv, meta_extract_validation_result\.json, meta_extract_validation_results\.csv are of extract/)
  t.match(transform.stderr, /run `etl validate` and `etl meta-validate` again, then `etl transform`/)
  t.notOk(await exists(join(data, 'transformed.csv')))

  const load = await etl('load', '--suite', SUITE)
  t.not(load.code, 0)
  t.notOk(await exists(join(data, 'feature_store')), 'nothing loaded')

  // The transform forced over the new extract (--input) still cannot be loaded on the old results' word.
  t.equal((await etl('transform', '--input', join(data, 'extracted.csv'), '--quiet')).code, 0)
  const forced = await etl('load', '--suite', SUITE)
  t.equal(forced.code, 2, forced.stderr)
  t.match(forced.stderr, /ETL_LINEAGE: the stage files are of different extracts: transformed\.csv is of extract .*; extract_validation_result\.json, meta_extract_validation_result\.json are of extract .*nothing was loaded/)
  t.notOk(await exists(join(data, 'feature_store')), 'nothing loaded')

  // With --on-invalid warn the rows load, but no validation is claimed for them.
  const warn = await etl('load', '--suite', SUITE, '--on-invalid', 'warn')
  t.equal(warn.code, 0, warn.stderr)
  t.match(warn.stderr, /WARNING: loading rows that no validation vouches for/)

  // Validating the new extract again makes the chain whole: the bad rows are then stopped by the gate (exit 3).
  t.equal((await etl('validate', '--suite', SUITE, '--quiet')).code, 3)
  t.equal((await etl('meta-validate', '--suite', SUITE, '--quiet')).code, 3)
  t.equal((await etl('transform', '--quiet')).code, 0)
  const gated = await etl('load', '--suite', SUITE)
  t.equal(gated.code, 3, gated.stderr)
})

t.test('the whole chain of one extract loads; every stage file names it', async (t) => {
  const { data, etl } = await scene(t)
  for (const args of [['extract', '--table', 'good'], ['validate', '--suite', SUITE], ['meta-validate', '--suite', SUITE], ['transform'], ['load', '--suite', SUITE]]) {
    const r = await etl(...args, '--quiet')
    t.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`)
  }
  const of = async (f: string) => JSON.parse(await readFile(join(data, f), 'utf8')).lineage
  const extract = await of('extracted.schema.json')
  t.same(await of('extract_validation_results.schema.json'), extract)
  t.same(await of('meta_extract_validation_results.schema.json'), extract)
  t.same(await of('transformed.schema.json'), extract)
  t.same(JSON.parse(await readFile(join(data, 'extract_validation_result.json'), 'utf8')).meta.lineage, extract)
})

t.test('a stage file changed after it was written (beside its old sidecar) is refused', async (t) => {
  const { data, etl } = await scene(t)
  t.equal((await etl('extract', '--table', 'good', '--quiet')).code, 0)
  const csv = join(data, 'extracted.csv')
  await writeFile(csv, (await readFile(csv, 'utf8')).replace('\n41,', '\n1,'))
  const r = await etl('validate', '--suite', SUITE)
  t.equal(r.code, 2, r.stderr)
  t.match(r.stderr, /ETL_LINEAGE: \S+extracted\.csv is not the file its sidecar describes .*re-run the stage that made extracted\.csv/)
  t.notOk(await exists(join(data, 'extract_validation_result.json')))
})
