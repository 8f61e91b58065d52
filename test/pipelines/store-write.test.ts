/**
 * `etl run` into the local store with each write disposition, against a real PostgreSQL: the store holds what the
 * disposition says, and the load report's figures are what the store holds.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { cleanEnv, runEtl } from '../support/cli.ts'
import { testDb } from '../support/pg.ts'
import { storeState } from '../support/store.ts'

async function setup(t: Parameters<typeof testDb>[0] & { teardown(fn: () => unknown): void }) {
  const db = await testDb(t)
  await db.client.query(`CREATE TABLE people AS SELECT g AS id, 20 + g % 60 AS age, 'p' || g AS name FROM generate_series(1, 500) g`)
  await db.client.query('ALTER TABLE people ADD PRIMARY KEY (id)')
  const cwd = await mkdtemp(join(tmpdir(), 'etl-write-'))
  t.teardown(() => rm(cwd, { recursive: true, force: true }))
  const env = cleanEnv(db.env)
  const suite = join(cwd, 'suite.json')
  await (await import('node:fs/promises')).writeFile(suite, JSON.stringify({ name: 'people', expectations: [{ expectation_type: 'expect_column_values_to_not_be_null', kwargs: { column: 'id' } }] }))
  const run = async (...args: string[]) => {
    const r = await runEtl(['run', '--table', 'people', '--suite', suite, '--datetime', 'row', '--json', ...args], { cwd, env })
    if (r.code !== 0) throw new Error(`etl run ${args.join(' ')} exited ${r.code}: ${r.stderr}`)
    return (JSON.parse(r.stdout) as { summary: { load: { report: Record<string, unknown> } } }).summary.load.report
  }
  return { db, cwd, run, data: join(cwd, 'data') }
}

t.test('merge (the default with derived ids): inserted 500, then unchanged 500; a changed row is updated', async (t) => {
  const s = await setup(t)
  t.same(await s.run(), { write: 'merge', inserted: 500, updated: 0, unchanged: 0, deleted: 0, rowsBefore: 0, rowsAfter: 500 })
  t.same(await s.run(), { write: 'merge', inserted: 0, updated: 0, unchanged: 500, deleted: 0, rowsBefore: 500, rowsAfter: 500 })
  await s.db.client.query('UPDATE people SET age = 99 WHERE id <= 7')
  await s.db.client.query(`INSERT INTO people SELECT g, 30, 'q' || g FROM generate_series(501, 520) g`)
  t.same(await s.run(), { write: 'merge', inserted: 20, updated: 7, unchanged: 493, deleted: 0, rowsBefore: 500, rowsAfter: 520 })
  const st = await storeState(s.data, 'prostate_group_1')
  t.equal(st.manifestRows, 520)
  t.same(st.leftovers, [])
})

t.test('replace with fewer rows: the group holds exactly this load', async (t) => {
  const s = await setup(t)
  await s.run()
  await s.db.client.query('DELETE FROM people WHERE id > 300')
  await s.db.client.query('UPDATE people SET age = 98 WHERE id <= 10')
  t.same(await s.run('--write', 'replace'), { write: 'replace', inserted: 0, updated: 10, unchanged: 290, deleted: 200, rowsBefore: 500, rowsAfter: 300 })
  t.same(await s.run('--write', 'replace'), { write: 'replace', inserted: 0, updated: 0, unchanged: 300, deleted: 0, rowsBefore: 300, rowsAfter: 300 })
  t.same((await storeState(s.data)).leftovers, [])
})

t.test('append with nanoid ids: each run adds its rows', async (t) => {
  const s = await setup(t)
  t.match(await s.run('--id', 'nanoid', '--write', 'append'), { write: 'append', inserted: 500, rowsBefore: 0, rowsAfter: 500 })
  t.match(await s.run('--id', 'nanoid', '--write', 'append'), { write: 'append', inserted: 500, updated: 0, unchanged: 0, deleted: 0, rowsBefore: 500, rowsAfter: 1000 })
  t.equal((await storeState(s.data)).manifestRows, 1000)
})
