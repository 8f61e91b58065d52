/**
 * `etl run --partitions N` with real `etl worker` processes on a real queue
 * (pg-boss in a schema of this test's own, so workers of other test files
 * never take these jobs): the same result as one partition, a worker killed
 * mid-partition, a partition that keeps failing, and the usage errors.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t, { type Test } from 'tap'
import { cleanEnv, runEtl } from '../support/cli.ts'
import { HopsworksEmulator } from '../support/hopsworks-emulator.ts'
import { testDb, type TestDb } from '../support/pg.ts'

const entry = fileURLToPath(new URL('../support/etl-cli.ts', import.meta.url))

interface Worker {
  readonly child: ChildProcess
  readonly log: () => string
  readonly exited: Promise<number | null>
  /** Resolves when the worker's log matches. */
  waitFor(re: RegExp, timeoutMs?: number): Promise<void>
}

function startWorker(cwd: string, env: Record<string, string>, args: string[] = []): Worker {
  const child = spawn(process.execPath, [entry, 'worker', ...args], { cwd, env, stdio: ['ignore', 'ignore', 'pipe'] })
  let log = ''
  const waiters: { re: RegExp; resolve: () => void }[] = []
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    log += d
    for (const w of [...waiters]) if (w.re.test(log)) { waiters.splice(waiters.indexOf(w), 1); w.resolve() }
  })
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)))
  return {
    child,
    log: () => log,
    exited,
    waitFor: (re, timeoutMs = 60_000) =>
      new Promise<void>((resolve, reject) => {
        if (re.test(log)) return resolve()
        const timer = setTimeout(() => reject(new Error(`worker log never matched ${re}:\n${log}`)), timeoutMs)
        waiters.push({ re, resolve: () => { clearTimeout(timer); resolve() } })
      }),
  }
}

/** A work folder, a queue schema of its own, and workers stopped at teardown. */
async function setup(t: Test, db: TestDb) {
  const cwd = await mkdtemp(join(tmpdir(), 'etl-scale-'))
  const queueSchema = `q_${randomBytes(5).toString('hex')}`
  const env = cleanEnv({ ...db.env, ETL_QUEUE_SCHEMA: queueSchema, ETL_QUEUE_SUPERVISE_SECONDS: '1' })
  const workers: Worker[] = []
  t.teardown(async () => {
    for (const w of workers) if (w.child.exitCode === null) w.child.kill('SIGKILL')
    await Promise.all(workers.map((w) => w.exited))
    await db.client.query(`DROP SCHEMA IF EXISTS ${queueSchema} CASCADE`).catch(() => {})
    await rm(cwd, { recursive: true, force: true })
  })
  return {
    cwd,
    env,
    worker(args: string[] = []) {
      const w = startWorker(cwd, env, args)
      workers.push(w)
      return w
    },
  }
}

const suite = {
  expectation_suite_name: 'scale',
  expectations: [
    { expectation_type: 'expect_column_values_to_be_between', kwargs: { column: 'age', min_value: 41, max_value: 79, mostly: 0.9 } },
    { expectation_type: 'expect_column_values_to_not_be_null', kwargs: { column: 'lcavol', mostly: 0.5, result_format: 'COMPLETE' } },
    { expectation_type: 'expect_column_median_to_be_between', kwargs: { column: 'lcavol', min_value: -10, max_value: 10 } },
    { expectation_type: 'expect_column_quantile_values_to_be_between', kwargs: { column: 'age', quantile_ranges: { quantiles: [0.1, 0.5, 0.9], value_ranges: [[0, 100], [0, 100], [0, 100]] } } },
    { expectation_type: 'expect_column_values_to_be_unique', kwargs: { column: 'code', mostly: 0.5 } },
    { expectation_type: 'expect_column_mean_to_be_between', kwargs: { column: 'lweight', min_value: 0, max_value: 10 } },
    { expectation_type: 'expect_column_stdev_to_be_between', kwargs: { column: 'lweight', min_value: 0, max_value: 10 } },
    { expectation_type: 'expect_column_distinct_values_to_equal_set', kwargs: { column: 'target', value_set: [0, 1] } },
    { expectation_type: 'expect_column_value_z_scores_to_be_less_than', kwargs: { column: 'lweight', threshold: 3, double_sided: true, mostly: 0.9 } },
    { expectation_type: 'expect_table_row_count_to_be_between', kwargs: { min_value: 1, max_value: 10_000_000 } },
  ],
}

async function makeTable(db: TestDb, rows: number): Promise<void> {
  await db.client.query(`CREATE TABLE scaled AS SELECT g AS id, (40 + g % 41)::int AS age, (g % 2)::int AS target,
    CASE WHEN g % 13 = 0 THEN NULL ELSE ((g * 7919) % 1000) / 250.0 - 1.5 END::float8 AS lcavol, (2.5 + (g % 17) / 8.0)::float8 AS lweight,
    'c' || (g % ${rows - Math.floor(rows / 10)}) AS code FROM generate_series(1, ${rows}) g`)
  await db.client.query('ALTER TABLE scaled ADD PRIMARY KEY (id)')
}

/** The committed rows of the local store without the run's datetime column (last), sorted. */
async function committedRows(cwd: string, dataDir: string): Promise<string[]> {
  const dir = join(cwd, dataDir, 'feature_store', 'prostate_group_1')
  const lines: string[] = []
  for (const f of (await readdir(dir)).filter((n) => n.startsWith('part-')).sort()) {
    const [, ...body] = (await readFile(join(dir, f), 'utf8')).split('\n').filter(Boolean)
    for (const l of body) lines.push(l.slice(0, l.lastIndexOf(',')))
  }
  return lines.sort()
}

/** Every expectation's outcome and result, without what depends on the run (time, run id). */
function outcome(record: { summary: { validation: { result: { success: boolean; results: unknown[]; statistics: unknown } } } }) {
  const r = record.summary.validation.result
  return { success: r.success, statistics: r.statistics, results: r.results }
}

const runArgs = (dataDir: string, n: number) => ['run', '--table', 'scaled', '--partitions', String(n), '--id', 'derived', '--key', 'id', '--suite', 'suite.json', '--data-dir', dataDir, '--json', '--quiet', '--batch-size', '700']

t.test('1 partition and 4 partitions over 2 workers: the same suite result and the same committed rows', async (t) => {
  const db = await testDb(t)
  await makeTable(db, 30_000)
  const s = await setup(t, db)
  await writeFile(join(s.cwd, 'suite.json'), JSON.stringify(suite))
  const w1 = s.worker()
  const w2 = s.worker(['--concurrency', '2'])
  await Promise.all([w1.waitFor(/waiting for partitions/), w2.waitFor(/waiting for partitions/)])

  const one = await runEtl(runArgs('d1', 1), { cwd: s.cwd, env: s.env })
  t.equal(one.code, 0, one.stderr)
  const four = await runEtl(runArgs('d4', 4), { cwd: s.cwd, env: s.env })
  t.equal(four.code, 0, four.stderr)
  const r1 = JSON.parse(one.stdout)
  const r4 = JSON.parse(four.stdout)
  t.same(outcome(r4), outcome(r1), 'every expectation: success, counts, observed values (medians, quantiles, uniqueness exact)')
  t.equal(r4.summary.validation.result.results.length, suite.expectations.length)
  t.same(r4.summary.counts, { extracted: 30_000, validated: 30_000, quarantined: 0, transformed: 30_000, dropped: 0, loaded: 30_000 })
  t.same(r4.summary.counts, r1.summary.counts)
  t.equal(r4.summary.partitions.ranges.length, 4)
  t.equal(r4.summary.partitions.staging, 'workers', 'the workers staged the local store\'s buckets; the coordinator adopted them')
  t.equal(r4.summary.partitions.ranges.reduce((n: number, r: { rows: number }) => n + r.rows, 0), 30_000, 'the ranges add up to the table')
  t.ok(r4.summary.meta.success, 'meta-validation over the merged result passed')
  const rows1 = await committedRows(s.cwd, 'd1')
  const rows4 = await committedRows(s.cwd, 'd4')
  t.equal(rows4.length, 30_000)
  t.equal(new Set(rows4).size, 30_000, 'no row twice')
  t.same(rows4, rows1, 'the same committed rows, with the same derived ids')
  t.same(await readFile(join(s.cwd, 'd4/extracted.csv'), 'utf8').then((x) => x.split('\n').length), 30_002, 'extracted.csv joined from the parts: header + rows')
  t.same((await readdir(join(s.cwd, 'd4/runs'))).filter((f) => f.endsWith('.parts')), [], 'the part files are gone')
  t.match(w1.log() + w2.log(), /partition \d\/4: \d+ rows/, 'the workers log their partitions')
  const page = await readFile(join(s.cwd, 'd4/docs/runs', `${r4.id}.html`), 'utf8')
  t.match(page, /4 partitions on <code>id<\/code>/, 'the data docs page shows the partitions')
  const table = page.slice(page.indexOf('<table class="partitions">'), page.indexOf('</table>', page.indexOf('<table class="partitions">')))
  t.equal(table.split('<tr><th scope="row"').length - 1, 4, 'one row per key range')

  w1.child.kill('SIGTERM')
  w2.child.kill('SIGTERM')
  t.same(await Promise.all([w1.exited, w2.exited]), [143, 143], 'SIGTERM stops a waiting worker cleanly (exit 128 + 15)')
})

t.test('a worker killed mid-partition: the partition is retried elsewhere; exact counts, no duplicate row', async (t) => {
  const db = await testDb(t)
  await makeTable(db, 240_000)
  const s = await setup(t, db)
  await writeFile(join(s.cwd, 'suite.json'), JSON.stringify(suite))
  const doomed = s.worker()
  await doomed.waitFor(/waiting for partitions/)
  const run = runEtl(runArgs('data', 3), { cwd: s.cwd, env: s.env })
  await doomed.waitFor(/partition \d\/3: started/)
  // Mid-partition for sure: its part file is still under its temporary name.
  const parts = join(s.cwd, 'data/runs')
  for (let i = 0; ; i++) {
    const runDirs = (await readdir(parts).catch(() => [])).filter((f) => f.endsWith('.parts'))
    const tmp = []
    for (const r of runDirs) for (const p of await readdir(join(parts, r)).catch(() => [])) tmp.push(...(await readdir(join(parts, r, p)).catch(() => [])).filter((f) => f.endsWith('.tmp')))
    if (tmp.length) break
    if (i > 3000) throw new Error('the partition never started writing')
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
  doomed.child.kill('SIGKILL')
  t.equal(await doomed.exited, null, 'the worker died')
  const rescuer = s.worker()
  const r = await run
  t.equal(r.code, 0, r.stderr)
  const record = JSON.parse(r.stdout)
  t.same(record.summary.counts, { extracted: 240_000, validated: 240_000, quarantined: 0, transformed: 240_000, dropped: 0, loaded: 240_000 })
  t.ok(record.summary.partitions.ranges.some((p: { attempts: number }) => p.attempts > 1), 'the killed partition took another attempt')
  const rows = await committedRows(s.cwd, 'data')
  t.equal(rows.length, 240_000)
  t.equal(new Set(rows.map((l) => l.slice(l.lastIndexOf(',') + 1))).size, 240_000, 'every user_id once')
  t.match(rescuer.log(), /attempt 2/, 'the rescuer ran the retried partition')
})

t.test('into Hopsworks: the workers stage, the coordinator uploads and starts one ingestion job; a re-run upserts', async (t) => {
  const db = await testDb(t)
  await makeTable(db, 9000)
  const emu = await HopsworksEmulator.start()
  t.teardown(() => emu.close())
  const s = await setup(t, db)
  await writeFile(join(s.cwd, 'suite.json'), JSON.stringify(suite))
  s.worker(['--concurrency', '3'])
  const env = { ...s.env, ...emu.env() }
  const args = ['run', '--table', 'scaled', '--partitions', '3', '--id', 'derived', '--key', 'id', '--suite', 'suite.json', '--sink', 'hopsworks', '--data-dir', 'data', '--json', '--quiet']
  const first = await runEtl(args, { cwd: s.cwd, env })
  t.equal(first.code, 0, first.stderr)
  t.equal(emu.rows('prostate_group', 1).length, 9000)
  t.equal(emu.count('startExecution'), 1, 'one ingestion job for the whole run')
  t.equal(JSON.parse(first.stdout).summary.load.rows, 9000)
  t.equal(JSON.parse(first.stdout).summary.partitions.staging, 'coordinator', 'Hopsworks parts are staged by the coordinator')
  const again = await runEtl(args, { cwd: s.cwd, env })
  t.equal(again.code, 0, again.stderr)
  t.equal(emu.rows('prostate_group', 1).length, 9000, 'derived ids: still each row once')
  t.equal(emu.count('startExecution'), 2)
})

t.test('a partition that keeps failing fails the run (exit 1) with nothing committed', async (t) => {
  const db = await testDb(t)
  await makeTable(db, 4000)
  await db.client.query('UPDATE scaled SET code = NULL WHERE id = 3900') // a NULL derived-id key: that partition fails every time
  const s = await setup(t, db)
  s.worker(['--concurrency', '2'])
  const r = await runEtl(['run', '--table', 'scaled', '--partitions', '2', '--id', 'derived', '--key', 'code', '--data-dir', 'data', '--retries', '0'], { cwd: s.cwd, env: s.env })
  t.equal(r.code, 1, r.stderr)
  t.match(r.stderr, /ETL_PARTITION: partition 2\/2 failed after 3 attempt\(s\): .*NULL.*nothing was committed/)
  await t.rejects(readdir(join(s.cwd, 'data/feature_store/prostate_group_1')), { code: 'ENOENT' }, 'nothing committed')
  t.same((await readdir(join(s.cwd, 'data/runs'))).filter((f) => !f.endsWith('.json')), [], 'no part folder left')
})

t.test('SIGTERM on the coordinator: Cancelled, its queued jobs cancelled, no part folder, nothing committed', async (t) => {
  const db = await testDb(t)
  await makeTable(db, 2000)
  const s = await setup(t, db)
  let sent = false
  const r = await runEtl(['run', '--table', 'scaled', '--partitions', '2', '--id', 'derived', '--key', 'id', '--data-dir', 'data'], {
    cwd: s.cwd, env: s.env,
    onSpawn: (child) => {
      let err = ''
      const stop = setTimeout(() => child.kill('SIGKILL'), 60_000) // never wait forever for a line that did not come
      child.on('close', () => clearTimeout(stop))
      child.stderr!.on('data', (d: Buffer) => {
        err += String(d)
        if (!sent && /partitions: 0\/2 done/.test(err)) {
          sent = true
          child.kill('SIGTERM')
        }
      })
    },
  })
  t.ok(sent, 'the coordinator was waiting for workers')
  t.equal(r.code, 143, r.stderr)
  t.match(r.stderr, /ETL_CANCELLED/)
  const records = (await readdir(join(s.cwd, 'data/runs'))).filter((f) => f.endsWith('.json'))
  t.equal(JSON.parse(await readFile(join(s.cwd, 'data/runs', records[0]!), 'utf8')).state, 'Cancelled')
  t.same((await readdir(join(s.cwd, 'data/runs'))).filter((f) => f.endsWith('.parts')), [], 'no part folder left')
  await t.rejects(readdir(join(s.cwd, 'data/feature_store')), { code: 'ENOENT' }, 'nothing committed')
  const { rows } = await db.client.query(`SELECT state, count(*)::int AS n FROM ${s.env['ETL_QUEUE_SCHEMA']}.job WHERE name = 'etl-partitions' GROUP BY state`)
  t.same(rows, [{ state: 'cancelled', n: 2 }], 'no job left for a worker to pick up')
})

t.test('usage: what cannot be split says which flag to use', async (t) => {
  const db = await testDb(t)
  await db.client.query('CREATE TABLE nokey (name text, age int)')
  const s = await setup(t, db)
  const cases: [string[], RegExp, number][] = [
    [['--table', 'nokey', '--partitions', '2'], /ETL_USAGE: nokey has no numeric or timestamp primary key to split on: pass --partition-key COL \(numeric or timestamp columns: age\)/, 2],
    [['--table', 'nokey', '--partitions', '2', '--partition-key', 'name'], /ETL_USAGE: --partition-key name: the column is text/, 2],
    [['--query', 'SELECT 1 AS a', '--partitions', '2'], /ETL_USAGE: --partitions splits a table/, 2],
    [['--table', 'nokey', '--partitions', '2', '--id', 'sequential'], /ETL_USAGE: --id sequential .* cannot be split/, 2],
    [['--table', 'nokey', '--partitions', 'x'], /ETL_INVALID_OPTION: .*--partitions/, 2],
    [['--table', 'nokey', '--partition-key', 'age'], /ETL_USAGE: --partition-key needs --partitions N/, 2],
  ]
  for (const [args, re, code] of cases) {
    const r = await runEtl(['run', ...args, '--data-dir', 'data'], { cwd: s.cwd, env: s.env })
    t.equal(r.code, code, args.join(' '))
    t.match(r.stderr, re)
  }
  const noDb = await runEtl(['run', '--partitions', '2'], { cwd: s.cwd, env: cleanEnv() })
  t.equal(noDb.code, 2)
  t.match(noDb.stderr, /ETL_CONFIG: --partitions needs a database that workers can reach/)
  const workerNoDb = await runEtl(['worker'], { cwd: s.cwd, env: cleanEnv() })
  t.equal(workerNoDb.code, 2)
  t.match(workerNoDb.stderr, /ETL_CONFIG: etl worker needs the source database/)
})
