/**
 * A full disk under the data folder, caused for real: the data folder on an
 * 8 MB tmpfs (mounted here; root only, skipped otherwise), a table of ~12 MB
 * as CSV. `etl extract` and `etl run` stop with ETL_DISK_FULL (exit 1) naming
 * the folder and the space needed, leave no temporary or half-written file,
 * and the same command works once there is room.
 */
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, readdir, readFile, rm, statfs } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { cleanEnv, runEtl } from '../support/cli.ts'
import { testDb } from '../support/pg.ts'

const SUITE = fileURLToPath(new URL('../cli/bad-inputs/ages.json', import.meta.url))
const ROWS = 300_000

function tryMount(dir: string): boolean {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', dir], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

const root = await mkdtemp(join(tmpdir(), 'etl-diskfull-'))
const mounted = process.getuid?.() === 0 && tryMount(root)
t.teardown(async () => {
  if (mounted) execFileSync('umount', [root])
  await rm(root, { recursive: true, force: true })
})

const usedMB = async () => {
  const s = await statfs(root)
  return ((Number(s.blocks) - Number(s.bfree)) * Number(s.bsize)) / 1048576
}

const leftovers = async (dir: string) => (existsSync(dir) ? (await readdir(dir, { recursive: true })).map(String).filter((n) => n.endsWith('.tmp')) : [])

t.test('extract and run on a full disk: ETL_DISK_FULL, exit 1, nothing left behind; a retry with room works', { skip: mounted ? false : 'needs root to mount a tmpfs' }, async (t) => {
  const db = await testDb(t)
  await db.client.query(`CREATE TABLE big AS SELECT g AS id, repeat('x', 30) AS v FROM generate_series(1, ${ROWS}) g`)
  const cwd = await mkdtemp(join(tmpdir(), 'etl-diskfull-cwd-'))
  t.teardown(() => rm(cwd, { recursive: true, force: true }))
  const data = join(root, 'data')
  const env = cleanEnv(db.env)
  const etl = (...args: string[]) => runEtl([...args, '--data-dir', data], { cwd, env })

  const extract = await etl('extract', '--table', 'big')
  t.equal(extract.code, 1, extract.stderr)
  t.match(extract.stderr, new RegExp(`ETL_DISK_FULL: the disk is full: ${data} \\(a file system of 8\\.0 MB, \\d+\\.\\d MB free\\) cannot hold ${data}/extracted\\.csv, which needs at least \\d+\\.\\d MB; nothing was kept of it`))
  t.same(await leftovers(data), [], 'no temporary file left')
  t.notOk(existsSync(join(data, 'extracted.csv')), 'no extracted.csv')
  t.ok((await usedMB()) < 1, `the space is given back (${(await usedMB()).toFixed(2)} MB used)`)
  const record = JSON.parse(await readFile(join(data, 'runs', (await readdir(join(data, 'runs'))).filter((n) => n.endsWith('.json')).sort().at(-1)!), 'utf8'))
  t.equal(record.error?.code, 'ETL_DISK_FULL', 'the run record says so')

  const run = await etl('run', '--table', 'big', '--suite', SUITE)
  t.equal(run.code, 1, run.stderr)
  t.match(run.stderr, 'ETL_DISK_FULL: the disk is full:')
  t.same(await leftovers(data), [], 'no temporary file left')
  t.notOk(existsSync(join(data, 'feature_store', 'prostate_group_1')), 'nothing committed')
  t.ok((await usedMB()) < 1, `the space is given back (${(await usedMB()).toFixed(2)} MB used)`)

  // A transform whose input alone does not fit beside it is refused before it writes a byte.
  await db.client.query("CREATE TABLE mid AS SELECT g AS id, repeat('x', 30) AS v FROM generate_series(1, 120000) g")
  t.equal((await etl('extract', '--table', 'mid', '--quiet')).code, 0, 'the extract fits')
  const transform = await etl('transform')
  t.equal(transform.code, 1, transform.stderr)
  t.match(transform.stderr, new RegExp(`ETL_DISK_FULL: the disk is full: ${data} \\(a file system of 8\\.0 MB, \\d+\\.\\d MB free\\) cannot hold ${data}/transformed\\.csv, which needs at least \\d+\\.\\d MB`))
  t.same(await leftovers(data), [], 'nothing was written')
  t.notOk(existsSync(join(data, 'transformed.csv')))

  execFileSync('mount', ['-o', 'remount,size=64m', root])
  const retry = await etl('extract', '--table', 'big', '--quiet')
  t.equal(retry.code, 0, retry.stderr)
  t.equal(JSON.parse(await readFile(join(data, 'extracted.schema.json'), 'utf8')).rows, ROWS, 'the retry extracts every row')
})
