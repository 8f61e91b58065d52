// Incremental loads: rows past the watermark, updated rows merged, a watermark that moves only after a commit
// (a run stopped by the gate or killed with SIGKILL leaves it), and the five commands.
import { existsSync } from 'node:fs'
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import t, { type Test } from 'tap'
import { cleanEnv, runEtl } from '../support/cli.ts'
import { testDb } from '../support/pg.ts'

const suite = JSON.stringify({ expectation_suite_name: 'any', expectations: [{ expectation_type: 'expect_table_row_count_to_be_between', kwargs: { min_value: 0 } }] })
const failing = JSON.stringify({ expectation_suite_name: 'no', expectations: [{ expectation_type: 'expect_column_values_to_be_between', kwargs: { column: 'v', max_value: -1 } }] })

async function scene(t: Test, rows: number) {
  const db = await testDb(t)
  await db.client.query(`CREATE TABLE items (id int PRIMARY KEY, v int, updated_at timestamptz NOT NULL);
    INSERT INTO items SELECT g, g, timestamptz '2026-01-01' + g * interval '1 second' FROM generate_series(1, ${rows}) g`)
  const cwd = await mkdtemp(join(tmpdir(), 'etl-inc-'))
  t.teardown(() => rm(cwd, { recursive: true, force: true }))
  await writeFile(join(cwd, 'suite.json'), suite)
  await writeFile(join(cwd, 'failing.json'), failing)
  const env = cleanEnv(db.env)
  const args = ['--table', 'items', '--incremental', 'updated_at', '--json', '--quiet']
  const run = async (extra: readonly string[] = [], cmd = 'run') => {
    const r = await runEtl([cmd, ...args, '--suite', 'suite.json', ...extra], { cwd, env })
    t.equal(r.code, 0, r.stderr)
    return JSON.parse(r.stdout)
  }
  /** The store's rows by id: v and user_id. */
  const store = async () => {
    const dir = join(cwd, 'data/feature_store/prostate_group_1')
    const m = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as { rows: number; parts: { file: string }[] }
    const byId = new Map<number, number[]>()
    for (const { file } of m.parts)
      for (const line of (await readFile(join(dir, file), 'utf8')).trim().split('\n').slice(1)) {
        const [id, v] = line.split(',').map(Number)
        byId.set(id!, [...(byId.get(id!) ?? []), v!])
      }
    return { rows: m.rows, byId }
  }
  const watermark = async () => {
    const dir = join(cwd, 'data/watermarks')
    if (!existsSync(dir)) return undefined
    const f = (await readdir(dir)).find((n) => n.startsWith('prostate_group_1.'))
    return f ? (JSON.parse(await readFile(join(dir, f), 'utf8')) as { value: string }).value : undefined
  }
  return { db, cwd, env, args, run, store, watermark }
}

t.test('inserts and updated_at changes between runs: only the window is read, every row once, the watermark right', async (t) => {
  const s = await scene(t, 1000)
  const first = await s.run()
  t.equal(first.summary.counts.extracted, 1000)
  t.equal(first.summary.incremental.next, '2026-01-01 00:16:40+00')
  t.equal(await s.watermark(), '2026-01-01 00:16:40+00')
  await s.db.client.query(`INSERT INTO items SELECT g, g, timestamptz '2026-02-01' + g * interval '1 second' FROM generate_series(1001, 1010) g;
    UPDATE items SET v = -id, updated_at = timestamptz '2026-03-01' WHERE id <= 5`)
  const second = await s.run()
  t.equal(second.summary.counts.extracted, 16, '10 new, 5 updated, and the row at the watermark again')
  t.match(second.summary.load.report, { inserted: 10, rowsBefore: 1000, rowsAfter: 1010 })
  const { rows, byId } = await s.store()
  t.equal(rows, 1010)
  t.equal(byId.size, 1010)
  t.ok([...byId.values()].every((v) => v.length === 1), 'no id twice')
  t.same([1, 2, 3, 4, 5].map((id) => byId.get(id)), [[-1], [-2], [-3], [-4], [-5]], 'the updated rows hold their new values')
  t.equal(await s.watermark(), '2026-03-01 00:00:00+00')
  const third = await s.run()
  t.equal(third.summary.counts.extracted, 5, 'nothing new: only the rows at the watermark')
  t.equal((await s.store()).rows, 1010)
})

t.test('a run stopped by the gate leaves the watermark; --full-refresh reads everything again', async (t) => {
  const s = await scene(t, 200)
  await s.run()
  const mark = await s.watermark()
  await s.db.client.query(`INSERT INTO items SELECT g, g, timestamptz '2026-05-01' + g * interval '1 second' FROM generate_series(201, 250) g`)
  const gated = await runEtl(['run', ...s.args, '--suite', 'failing.json'], { cwd: s.cwd, env: s.env })
  t.equal(gated.code, 3, 'the gate stops it')
  t.equal(await s.watermark(), mark, 'the watermark did not move')
  const next = await s.run()
  t.equal(next.summary.counts.extracted, 51, 'the 50 rows the gated run did not load, and the row at the watermark')
  const full = await s.run(['--full-refresh'])
  t.equal(full.summary.counts.extracted, 250)
  t.equal((await s.store()).rows, 250)
})

t.test('SIGKILL mid-stream, then a re-run: every row once, the watermark right', async (t) => {
  const s = await scene(t, 1000)
  await s.run()
  const mark = await s.watermark()
  await s.db.client.query(`INSERT INTO items SELECT g, g, timestamptz '2026-06-01' + g * interval '1 millisecond' FROM generate_series(1001, 100000) g`)
  const staging = join(s.cwd, 'data/feature_store')
  const killed = await runEtl(['run', ...s.args, '--suite', 'suite.json', '--batch-size', '50'], {
    cwd: s.cwd, env: s.env,
    onSpawn: (child) => {
      void (async () => {
        // Killed once its rows are streaming into the store's staging folder.
        for (let i = 0; i < 600 && !(existsSync(staging) && (await readdir(staging)).some((n) => n.startsWith('.staging-'))); i++) await sleep(50)
        await sleep(300)
        child.kill('SIGKILL')
      })()
    },
  })
  t.equal(killed.signal, 'SIGKILL')
  t.equal(await s.watermark(), mark, 'the killed run moved nothing')
  t.equal((await s.store()).rows, 1000, 'nor did it commit')
  const again = await s.run()
  t.equal(again.summary.counts.extracted, 99001)
  const { rows, byId } = await s.store()
  t.equal(rows, 100000)
  t.equal(byId.size, 100000)
  t.equal(await s.watermark(), again.summary.incremental.next)
})

t.test('the five commands: etl extract --incremental, etl load records the watermark', async (t) => {
  const s = await scene(t, 100)
  const steps = async () => {
    for (const cmd of [['extract', ...s.args], ['validate', '--suite', 'suite.json'], ['meta-validate', '--suite', 'suite.json'], ['transform'], ['load', '--suite', 'suite.json']]) {
      const r = await runEtl([...cmd, '--quiet'], { cwd: s.cwd, env: s.env })
      t.equal(r.code, 0, `${cmd[0]}: ${r.stderr}`)
      if (cmd[0] === 'extract') t.equal(await s.watermark(), marks.at(-1), 'etl extract alone moves nothing')
    }
    marks.push(await s.watermark())
  }
  const marks: (string | undefined)[] = [undefined]
  await steps()
  t.equal(marks[1], '2026-01-01 00:01:40+00')
  await s.db.client.query(`INSERT INTO items VALUES (101, 101, timestamptz '2026-07-01')`)
  await steps()
  t.equal(marks[2], '2026-07-01 00:00:00+00')
  const extracted = (await readFile(join(s.cwd, 'data/extracted.csv'), 'utf8')).trim().split('\n')
  t.equal(extracted.length, 3, 'the header, the row at the watermark and the new row')
  t.equal((await s.store()).rows, 101)
})

t.test('a table without a key cannot be loaded incrementally', async (t) => {
  const s = await scene(t, 10)
  await s.db.client.query('CREATE TABLE nokey AS SELECT * FROM items')
  const r = await runEtl(['run', '--table', 'nokey', '--incremental', 'updated_at', '--suite', 'suite.json'], { cwd: s.cwd, env: s.env })
  t.equal(r.code, 2)
  t.match(r.stderr, /ETL_USAGE: --incremental on table nokey, which has no primary key/)
})
