// --partitions with the default (derived) ids and --incremental: helpers as in run.test.ts.
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

t.test('partitions with the default ids and --incremental: each range reads its part of the window; every row once', async (t) => {
  const db = await testDb(t)
  await makeTable(db, 6000)
  await db.client.query('ALTER TABLE scaled ADD COLUMN seq int; UPDATE scaled SET seq = id')
  const s = await setup(t, db)
  await writeFile(join(s.cwd, 'suite.json'), JSON.stringify({ expectation_suite_name: 'rows', expectations: [{ expectation_type: 'expect_table_row_count_to_be_between', kwargs: { min_value: 0 } }] }))
  const w = s.worker(['--concurrency', '2'])
  await w.waitFor(/waiting for partitions/)
  const args = ['run', '--table', 'scaled', '--partitions', '3', '--incremental', 'seq', '--suite', 'suite.json', '--data-dir', 'd', '--json', '--quiet']
  const first = await runEtl(args, { cwd: s.cwd, env: s.env })
  t.equal(first.code, 0, first.stderr)
  const r1 = JSON.parse(first.stdout)
  t.same(r1.summary.identity.columns, ['id'], 'the primary key, resolved once by the coordinator')
  t.equal(r1.summary.counts.extracted, 6000)
  await db.client.query(`INSERT INTO scaled (id, age, target, lcavol, lweight, code, seq) SELECT g, 50, 1, 0, 3, 'n' || g, g FROM generate_series(6001, 6300) g;
    UPDATE scaled SET age = 79, seq = 7000 WHERE id IN (1, 3000, 5999)`)
  const second = await runEtl(args, { cwd: s.cwd, env: s.env })
  t.equal(second.code, 0, second.stderr)
  const r2 = JSON.parse(second.stdout)
  t.equal(r2.summary.counts.extracted, 304, '300 new rows, 3 updated, 1 at the watermark')
  t.equal(r2.summary.incremental.next, '7000')
  const rows = await committedRows(s.cwd, 'd')
  t.equal(rows.length, 6300)
  t.equal(new Set(rows.map((l) => l.slice(l.lastIndexOf(',') + 1))).size, 6300, 'no user_id twice')
})
