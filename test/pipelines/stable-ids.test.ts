// Stable ids by default (--id derived, computed by PostgreSQL in the source query): a re-run merges onto the
// rows it loaded before, whatever the key (primary, composite, none with duplicate rows, values past a double).
import { createHash } from 'node:crypto'
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { cleanEnv, runEtl } from '../support/cli.ts'
import { testDb } from '../support/pg.ts'

async function workdir(t: { teardown(fn: () => unknown): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'etl-ids-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  return dir
}

/** The store's rows (CSV lines without headers) of feature group `name` version 1. */
async function storeRows(cwd: string, name = 'prostate_group'): Promise<string[]> {
  const dir = join(cwd, 'data/feature_store', `${name}_1`)
  const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as { rows: number; parts: { file: string }[] }
  const rows: string[] = []
  for (const { file } of manifest.parts) rows.push(...(await readFile(join(dir, file), 'utf8')).trim().split('\n').slice(1).filter(Boolean))
  if (rows.length !== manifest.rows) throw new Error(`the manifest says ${manifest.rows} rows, the parts hold ${rows.length}`)
  return rows
}

/** The user_id column of CSV lines whose id is the second-to-last field (no quoted commas in these tables). */
const idsOf = (rows: readonly string[]) => rows.map((r) => r.split(',').at(-2)!)

/** What identity.ts computes: base64url(sha256(text))[0:22]. */
const idOf = (text: string) => createHash('sha256').update(text).digest('base64url').slice(0, 22)

const suite = JSON.stringify({ expectation_suite_name: 'any', expectations: [{ expectation_type: 'expect_table_row_count_to_be_between', kwargs: { min_value: 1 } }] })

async function scene(t: Test, ddl: string) {
  const db = await testDb(t)
  await db.client.query(ddl)
  const cwd = await workdir(t)
  await writeFile(join(cwd, 'suite.json'), suite)
  const env = cleanEnv(db.env)
  const run = async (args: readonly string[]) => {
    const r = await runEtl(['run', '--suite', 'suite.json', '--json', '--quiet', ...args], { cwd, env })
    t.equal(r.code, 0, r.stderr)
    return JSON.parse(r.stdout)
  }
  return { db, cwd, env, run }
}

t.test('a primary key: the ids hash the key; five runs leave the table once', async (t) => {
  const s = await scene(t, `CREATE TABLE pk (id int PRIMARY KEY, v text); INSERT INTO pk SELECT g, 'v' || g FROM generate_series(1, 50) g`)
  let record
  for (let i = 0; i < 5; i++) record = await s.run(['--table', 'pk'])
  t.same(record.summary.identity, { kind: 'primary-key', columns: ['id'], description: 'primary key (id)' })
  const rows = await storeRows(s.cwd)
  t.equal(rows.length, 50, '50 rows after five runs')
  t.same(new Set(idsOf(rows)), new Set(Array.from({ length: 50 }, (_, i) => idOf(`(${i + 1})`))), 'each id is the hash of the key\'s text')
})

t.test('a composite primary key, in key order', async (t) => {
  const s = await scene(t, `CREATE TABLE ck (v int, b text, a int, PRIMARY KEY (a, b)); INSERT INTO ck SELECT g, 'x,' || (g % 3), g / 3 FROM generate_series(1, 30) g`)
  await s.run(['--table', 'ck'])
  const record = await s.run(['--table', 'ck'])
  t.same(record.summary.identity.columns, ['a', 'b'])
  const rows = await storeRows(s.cwd)
  t.equal(rows.length, 30)
  // The text of ROW(a, b): the comma inside b is quoted by PostgreSQL, so ("x,1") cannot meet another split.
  const { rows: expected } = await s.db.client.query<{ t: string }>('SELECT ROW(a, b)::text AS t FROM ck')
  const ids = new Set(expected.map((r) => idOf(r.t)))
  t.equal(ids.size, 30)
  const stored = new Set(rows.map((r) => r.match(/,([A-Za-z0-9_-]{22}),[^,]+$/)![1]))
  t.same(stored, ids)
})

t.test('no key, with duplicate rows: every copy kept once, run after run', async (t) => {
  const s = await scene(t, `CREATE TABLE dup (a int, b text); INSERT INTO dup VALUES (1, 'x'), (1, 'x'), (1, 'x'), (2, NULL), (2, ''), (3, 'y')`)
  for (let i = 0; i < 3; i++) {
    const record = await s.run(['--table', 'dup'])
    t.equal(record.summary.identity.kind, 'row')
  }
  const rows = await storeRows(s.cwd)
  t.equal(rows.length, 6, 'three identical rows stay three; NULL and "" stay apart')
  t.equal(new Set(idsOf(rows)).size, 6)
})

t.test('json and numeric values past a double keep apart', async (t) => {
  const s = await scene(t, `CREATE TABLE big (n numeric, j json);
    INSERT INTO big VALUES (123456789012345678901234567890, '{"x": 9007199254740993}'), (123456789012345678901234567891, '{"x": 9007199254740992}')`)
  await s.run(['--table', 'big', '--feature-group', 'whole'])
  t.equal((await storeRows(s.cwd, 'whole')).length, 2, 'whole-row ids')
  await s.run(['--table', 'big', '--key', 'n', '--feature-group', 'by_n'])
  await s.run(['--table', 'big', '--key', 'n', '--feature-group', 'by_n'])
  const byN = await storeRows(s.cwd, 'by_n')
  t.equal(byN.length, 2, 'a numeric key of 30 digits')
  t.same(new Set(idsOf(byN)), new Set([idOf('(123456789012345678901234567890)'), idOf('(123456789012345678901234567891)')]))
  await s.run(['--table', 'big', '--key', 'j', '--feature-group', 'by_j'])
  t.equal((await storeRows(s.cwd, 'by_j')).length, 2, 'a json key past 2^53')
})

t.test('the five commands: etl extract writes the id column, a second round merges', async (t) => {
  const s = await scene(t, `CREATE TABLE prostate (id int PRIMARY KEY, age int); INSERT INTO prostate SELECT g, 40 + g FROM generate_series(1, 20) g`)
  for (let round = 0; round < 2; round++)
    for (const cmd of [['extract'], ['validate', '--suite', 'suite.json'], ['meta-validate', '--suite', 'suite.json'], ['transform'], ['load', '--suite', 'suite.json']]) {
      const r = await runEtl([...cmd, '--quiet'], { cwd: s.cwd, env: s.env })
      t.equal(r.code, 0, `${cmd[0]}: ${r.stderr}`)
    }
  const header = (await readFile(join(s.cwd, 'data/extracted.csv'), 'utf8')).split('\n')[0]
  t.equal(header, 'id,age,user_id')
  const rows = await storeRows(s.cwd)
  t.equal(rows.length, 20)
  t.same(new Set(idsOf(rows)), new Set(Array.from({ length: 20 }, (_, i) => idOf(`(${i + 1})`))))
})

t.test('nanoid appends: explicit, and its runs add rows', async (t) => {
  const s = await scene(t, `CREATE TABLE pk (id int PRIMARY KEY); INSERT INTO pk SELECT generate_series(1, 10)`)
  await s.run(['--table', 'pk', '--id', 'nanoid'])
  const record = await s.run(['--table', 'pk', '--id', 'nanoid'])
  t.same(record.summary.load.report, { write: 'append', inserted: 10, updated: 0, unchanged: 0, deleted: 0, rowsBefore: 10, rowsAfter: 20 })
  t.equal((await storeRows(s.cwd)).length, 20, 'two runs of nanoid ids: 20 rows, as asked')
})

t.test('figures: inserted N, then nothing inserted; the CLI says them; reconciled after each commit', async (t) => {
  const s = await scene(t, `CREATE TABLE pk (id int PRIMARY KEY, v int); INSERT INTO pk SELECT g, g FROM generate_series(1, 40) g`)
  const first = await s.run(['--table', 'pk'])
  t.same(first.summary.load.report, { write: 'merge', inserted: 40, updated: 0, unchanged: 0, deleted: 0, rowsBefore: 0, rowsAfter: 40 })
  t.equal(first.summary.reconcile.success, true)
  const r = await runEtl(['run', '--table', 'pk', '--suite', 'suite.json'], { cwd: s.cwd, env: s.env })
  t.equal(r.code, 0, r.stderr)
  // The same rows again (only the run's datetime is new): unchanged.
  t.match(r.stderr, /store \(--write merge\): inserted 0, updated 0, unchanged 40, deleted 0; rows 40 -> 40/)
  t.match(r.stderr, /ids: derived from primary key \(id\)/)
  const index = await readFile(join(s.cwd, 'data/docs/index.html'), 'utf8')
  t.match(index, /Store rows/)
})

t.test('replace with fewer rows: the group holds exactly the new rows', async (t) => {
  const s = await scene(t, `CREATE TABLE pk (id int PRIMARY KEY); INSERT INTO pk SELECT generate_series(1, 30)`)
  await s.run(['--table', 'pk'])
  await s.db.client.query('DELETE FROM pk WHERE id > 10')
  const merged = await s.run(['--table', 'pk'])
  t.equal(merged.summary.load.report.rowsAfter, 30, 'merge keeps rows gone from the source')
  const replaced = await s.run(['--table', 'pk', '--write', 'replace'])
  t.match(replaced.summary.load.report, { write: 'replace', deleted: 20, rowsBefore: 30, rowsAfter: 10 })
  t.same(new Set(idsOf(await storeRows(s.cwd))), new Set(Array.from({ length: 10 }, (_, i) => idOf(`(${i + 1})`))))
})

t.test('a --key that repeats: the commit happened, the reconciliation fails loudly with ETL_RECONCILE', async (t) => {
  const s = await scene(t, `CREATE TABLE rep (k int, v int); INSERT INTO rep SELECT g % 5, g FROM generate_series(1, 20) g`)
  const r = await runEtl(['run', '--table', 'rep', '--key', 'k', '--suite', 'suite.json', '--json'], { cwd: s.cwd, env: s.env })
  t.equal(r.code, 1)
  t.match(r.stderr, /ETL_RECONCILE: the load was committed, but the feature group prostate_group version 1 does not add up/)
  t.match(r.stderr, /inserted \+ updated \+ unchanged = rows loaded/)
  t.match(r.stderr, /look for key columns that repeat/)
  t.equal((await storeRows(s.cwd)).length, 5, 'the committed rows: one per key (the last row of each)')
  t.equal(JSON.parse(r.stdout).error.code, 'ETL_RECONCILE')
})

t.test('etl schedule, several ticks: the table once in the store', async (t) => {
  const s = await scene(t, `CREATE TABLE prostate (id int PRIMARY KEY, age int); INSERT INTO prostate SELECT g, 40 + g FROM generate_series(1, 25) g`)
  const r = await runEtl(['schedule', '--cron', '*/1 * * * * *', '--suite', 'suite.json'], {
    cwd: s.cwd, env: s.env, onSpawn: (child) => setTimeout(() => child.kill('SIGTERM'), 5500),
  })
  t.equal(r.code, 143, r.stderr)
  const dir = join(s.cwd, 'data/runs')
  const records = (await Promise.all((await readdir(dir)).filter((f) => f.endsWith('.json')).map(async (f) => JSON.parse(await readFile(join(dir, f), 'utf8')))))
    .filter((rec) => rec.state === 'Completed').sort((a, b) => a.start.localeCompare(b.start))
  t.ok(records.length >= 2, `${records.length} completed ticks`)
  t.equal(records[0].summary.load.report.inserted, 25)
  for (const rec of records.slice(1)) t.match(rec.summary.load.report, { inserted: 0, updated: 0, unchanged: 25, rowsAfter: 25 })
  t.equal((await storeRows(s.cwd)).length, 25)
})
