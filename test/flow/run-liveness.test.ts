/**
 * Run records as `etl runs` reads them, with the real command: a record that
 * cannot be read is listed as Unreadable (and `etl runs <id>` says so); a
 * record left Running is Crashed when its process is gone, judged by host,
 * pid and start time (PID 1 is alive but is not the run's process); a run
 * stopped by --timeout is recorded as ETL_TIMEOUT, not ETL_CANCELLED.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { hostname, tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { listRuns, readRun } from '../../lib/flow/index.ts'
import { cleanEnv, runEtl } from '../support/cli.ts'
import { testDb } from '../support/pg.ts'

const base = (id: string, over: Record<string, unknown> = {}) => ({
  version: 1, id, flow: 'extract', state: 'Running', start: '2026-01-01T00:00:00.000Z', tasks: [], summary: {}, hooks: [], notifications: [], host: hostname(), pid: 1, ...over,
})

t.test('a truncated record is listed as Unreadable; a Running record of a dead process whose pid was reused is Crashed', async (t) => {
  const cwd = await mkdtemp(join(tmpdir(), 'etl-runs-'))
  t.teardown(() => rm(cwd, { recursive: true, force: true }))
  const runs = join(cwd, 'data', 'runs')
  await mkdir(runs, { recursive: true })
  const cut = '20260101T000000000Z-truncate'
  const full = JSON.stringify(base(cut, { state: 'Completed' }), null, 2)
  await writeFile(join(runs, `${cut}.json`), full.slice(0, full.length / 2))
  // PID 1 runs (in a container it is the entry point), but it did not start at the recorded moment: the run's process is gone.
  const reused = '20260101T000001000Z-pidreuse'
  await writeFile(join(runs, `${reused}.json`), JSON.stringify(base(reused, { processStart: '1', boot: null })))
  // A record without the process start time (an older version): PID 1 started after this run did, so it is not the run's.
  const old = '20260101T000002000Z-oldstyle'
  await writeFile(join(runs, `${old}.json`), JSON.stringify(base(old, { start: '2000-01-01T00:00:00.000Z' })))
  const live = '20260101T000003000Z-livetest'
  const me = (await readFile('/proc/self/stat', 'utf8').catch(() => '')).length > 0
  await writeFile(join(runs, `${live}.json`), JSON.stringify(base(live, { pid: process.pid, start: new Date().toISOString() })))

  const env = cleanEnv()
  const list = await runEtl(['runs', '--json'], { cwd, env })
  t.equal(list.code, 0, list.stderr)
  const records = JSON.parse(list.stdout) as { id: string; state: string; error?: { code: string; message: string } }[]
  const state = (id: string) => records.find((r) => r.id === id)?.state
  t.equal(state(cut), 'Unreadable', 'listed, not dropped')
  t.match(records.find((r) => r.id === cut)?.error, { code: 'ETL_DATA_DIR', message: /cannot be read: not valid JSON/ })
  t.equal(state(reused), 'Crashed', 'PID 1 is alive but is not the process that started the run')
  if (me) t.equal(state(old), 'Crashed', 'a record without a start time: PID 1 started after the run did (2000), so it is not the run')
  t.equal(state(live), 'Running', 'a live process (this test) keeps its run Running')

  const text = await runEtl(['runs'], { cwd, env })
  t.match(text.stdout, new RegExp(`${cut}\\s+unknown\\s+Unreadable`))
  const one = await runEtl(['runs', cut], { cwd, env })
  t.equal(one.code, 2, one.stderr)
  t.match(one.stderr, `ETL_DATA_DIR: run ${cut} is unreadable: the run record `)

  t.equal((await readRun(join(cwd, 'data'), cut))?.state, 'Unreadable')
  t.equal((await listRuns(join(cwd, 'data'))).length, 4)
})

t.test('--timeout is recorded as ETL_TIMEOUT (state Failed), not ETL_CANCELLED', async (t) => {
  const db = await testDb(t)
  await db.client.query("CREATE TABLE big AS SELECT g AS id, repeat('x', 50) AS v FROM generate_series(1, 300000) g")
  const cwd = await mkdtemp(join(tmpdir(), 'etl-timeout-'))
  t.teardown(() => rm(cwd, { recursive: true, force: true }))
  const r = await runEtl(['extract', '--table', 'big', '--batch-size', '10', '--timeout', '0.5', '--json'], { cwd, env: cleanEnv(db.env) })
  t.equal(r.code, 1, r.stderr)
  t.match(r.stderr, 'ETL_TIMEOUT: the run took longer than --timeout 0.5s and was stopped; nothing was committed')
  const record = JSON.parse(r.stdout)
  t.equal(record.state, 'Failed')
  t.same(record.error, { code: 'ETL_TIMEOUT', message: 'the run took longer than --timeout 0.5s and was stopped; nothing was committed' })
  const stored = JSON.parse(await readFile(join(cwd, 'data', 'runs', `${record.id}.json`), 'utf8'))
  t.equal(stored.error.code, 'ETL_TIMEOUT', 'the stored record says ETL_TIMEOUT')
})
