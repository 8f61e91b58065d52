/**
 * `etl validate`'s cache entry is used only while it is what was written and
 * the files it vouches for still match (size and SHA-256): the real command
 * against the real PostgreSQL. A tampered entry makes `etl validate` run
 * again, and fail on failing data, instead of reporting "passed".
 */
import { createHash } from 'node:crypto'
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t, { type Test } from 'tap'
import { stableJson } from '../../lib/flow/cache.ts'
import { cleanEnv, runEtl } from '../support/cli.ts'
import { testDb } from '../support/pg.ts'

const SUITE = fileURLToPath(new URL('../cli/bad-inputs/ages.json', import.meta.url))

async function scene(t: Test) {
  const db = await testDb(t)
  await db.client.query('CREATE TABLE good AS SELECT g + 40 AS age, g % 2 AS target FROM generate_series(1, 10) g')
  await db.client.query('CREATE TABLE bad AS SELECT g AS age, g % 2 AS target FROM generate_series(1, 10) g')
  const cwd = await mkdtemp(join(tmpdir(), 'etl-cache-'))
  t.teardown(() => rm(cwd, { recursive: true, force: true }))
  const env = cleanEnv(db.env)
  const etl = (...args: string[]) => runEtl(args, { cwd, env })
  const validate = async () => {
    const r = await etl('validate', '--suite', SUITE, '--json')
    return { ...r, record: JSON.parse(r.stdout) as { state: string; tasks: { state: string }[] } }
  }
  /** The newest cache entry (one per extract validated). */
  const entryPath = async () => {
    const dir = join(cwd, 'data', 'cache')
    const names = (await readdir(dir)).filter((n) => n.endsWith('.json'))
    const times = await Promise.all(names.map(async (n) => [(await stat(join(dir, n))).mtimeMs, n] as const))
    return join(dir, times.sort((a, b) => b[0] - a[0])[0]![1])
  }
  return { etl, validate, entryPath, data: join(cwd, 'data') }
}

/** Rewrites an entry as passing: every expectation successful. */
function passing(entry: { result: { success: boolean; statistics: Record<string, number> } }) {
  entry.result.success = true
  const s = entry.result.statistics
  entry.result.statistics = { ...s, successful_expectations: s['evaluated_expectations']!, unsuccessful_expectations: 0, success_percent: 100 }
}

t.test('an untouched entry is used; a tampered one is not, and the failing data fails again', async (t) => {
  const { etl, validate, entryPath } = await scene(t)
  t.equal((await etl('extract', '--table', 'good', '--quiet')).code, 0)
  const first = await validate()
  t.equal(first.code, 0, first.stderr)
  const again = await validate()
  t.equal(again.code, 0, again.stderr)
  t.equal(again.record.tasks[0]?.state, 'Cached', 'the entry is used while nothing changed')

  t.equal((await etl('extract', '--table', 'bad', '--quiet')).code, 0)
  const failed = await validate()
  t.equal(failed.code, 3, failed.stderr)
  t.equal(failed.record.tasks[0]?.state, 'Completed', 'a new extract is validated, not looked up')

  // The entry's result edited to "passed".
  const path = await entryPath()
  const entry = JSON.parse(await readFile(path, 'utf8'))
  passing(entry)
  await writeFile(path, JSON.stringify(entry))
  const tampered = await validate()
  t.equal(tampered.code, 3, `validated again and failed\n${tampered.stderr}`)
  t.equal(tampered.record.tasks[0]?.state, 'Completed', 'not Cached')
  t.match(tampered.stderr, /cache entry not trusted \(its result is not the one it was written with\): running instead/)

  // The same with its hash recomputed: the results file it vouches for still says the data failed.
  const entry2 = JSON.parse(await readFile(path, 'utf8'))
  passing(entry2)
  entry2.resultSha256 = `sha256:${createHash('sha256').update(stableJson(entry2.result)).digest('hex')}`
  await writeFile(path, JSON.stringify(entry2))
  const forged = await validate()
  t.equal(forged.code, 3, forged.stderr)
  t.equal(forged.record.tasks[0]?.state, 'Completed', 'not Cached')
})

t.test('a results file changed after the entry was written: the entry is not used', async (t) => {
  const { etl, validate, data } = await scene(t)
  t.equal((await etl('extract', '--table', 'bad', '--quiet')).code, 0)
  t.equal((await validate()).code, 3)
  const json = join(data, 'extract_validation_result.json')
  const result = JSON.parse(await readFile(json, 'utf8'))
  result.success = true
  await writeFile(json, JSON.stringify(result, null, 2) + '\n')
  const r = await validate()
  t.equal(r.code, 3, r.stderr)
  t.equal(r.record.tasks[0]?.state, 'Completed', 'validated again')
  t.match(r.stderr, /cache entry not trusted \(\S+extract_validation_result\.json (changed since|is \d+ bytes, not \d+)\)/)
  t.equal(JSON.parse(await readFile(json, 'utf8')).success, false, 'the results file says the truth again')
})
