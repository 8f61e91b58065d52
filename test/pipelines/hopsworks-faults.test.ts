/**
 * Hopsworks faults at the command level: the real `etl run --sink hopsworks`
 * (a child process) against the real PostgreSQL and the emulator over HTTP.
 * Each scenario either recovers by retries or fails cleanly (coded error,
 * exit code, run record, nothing committed), and after a successful re-run
 * the feature group holds each row of the table exactly once.
 *
 * Ids are nanoids unless said otherwise: every run stamps new ones, so rows
 * ingested twice (a leftover upload of an earlier run, say) would show up as
 * extra rows instead of being hidden by the primary-key upsert.
 */
import type { ChildProcess } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { seedProstate } from '../../lib/extract/embedded.ts'
import { HopsworksEmulator, type EmulatorOptions } from '../support/hopsworks-emulator.ts'
import { cleanEnv, runEtl, type CliResult } from '../support/cli.ts'
import { testDb, type TestDb } from '../support/pg.ts'

const FG = 'prostate_group'
const DATA_COLUMNS = ['lcavol', 'lweight', 'age', 'lbph', 'lcp', 'gleason', 'pgg45', 'lpsa', 'target'] as const

interface Setup {
  readonly db: TestDb
  readonly emu: HopsworksEmulator
  readonly cwd: string
  readonly env: Record<string, string>
  /** The table's rows, canonical and sorted (what the feature group must hold, each once). */
  readonly expected: string[]
  run(args?: readonly string[], onSpawn?: (child: ChildProcess) => void): Promise<CliResult>
}

/** One row as a canonical string of its data columns (user_id and datetime are the transform's). */
function canonical(row: Record<string, unknown>): string {
  return JSON.stringify(DATA_COLUMNS.map((c) => row[c] ?? null))
}

/**
 * The prostate table (97 rows), an emulator, a data folder. Small parts (10
 * rows: 10 part uploads a run), a fast job poll, and the per-call timeout given.
 */
async function setup(t: Test, { timeoutSeconds = 10, emulator = {} }: { timeoutSeconds?: number; emulator?: EmulatorOptions } = {}): Promise<Setup> {
  const db = await testDb(t)
  await seedProstate(db.config)
  const emu = await HopsworksEmulator.start(emulator)
  t.teardown(() => emu.close())
  const cwd = await mkdtemp(join(tmpdir(), 'etl-hwf-'))
  t.teardown(() => rm(cwd, { recursive: true, force: true }))
  await writeFile(join(cwd, 'etl.config.json'), JSON.stringify({ hopsworks: { pollIntervalSeconds: 0.05, partRows: 10, timeoutSeconds } }))
  const env = cleanEnv({ ...db.env, ...emu.env() })
  const { rows } = await db.client.query('SELECT * FROM prostate')
  const expected = rows.map(canonical).sort()
  t.equal(expected.length, 97, 'the table has the prostate rows')
  return {
    db, emu, cwd, env, expected,
    run: (args = [], onSpawn) => runEtl(['run', '--sink', 'hopsworks', '--json', ...args], { cwd, env, ...(onSpawn ? { onSpawn } : {}) }),
  }
}

/** The run record printed by --json, and the same record read back from data/runs/<id>.json. */
async function record(s: Setup, r: CliResult): Promise<{ id: string; state: string; [k: string]: unknown }> {
  const printed = JSON.parse(r.stdout) as { id: string; state: string }
  const stored = JSON.parse(await readFile(join(s.cwd, 'data', 'runs', `${printed.id}.json`), 'utf8')) as { id: string; state: string }
  if (stored.state !== printed.state) throw new Error(`stored record says ${stored.state}, printed ${printed.state}`)
  return stored
}

/** Asserts the feature group holds every table row exactly once, with distinct primary keys. */
function assertEachRowOnce(t: Test, s: Setup, what: string): void {
  const rows = s.emu.rows(FG, 1)
  t.equal(rows.length, s.expected.length, `${what}: as many rows as the table`)
  t.equal(new Set(rows.map((r) => r['user_id'])).size, rows.length, `${what}: distinct user_ids`)
  t.same(rows.map(canonical).sort(), s.expected, `${what}: exactly the table's rows, each once`)
}

function executions(emu: HopsworksEmulator): ReturnType<HopsworksEmulator["executions"]> {
  return emu.executions()
}

t.test('503s and dropped connections on chunk uploads (and a poll): retried, exit 0, each row once', async (t) => {
  const s = await setup(t)
  s.emu.inject({ route: 'upload', nth: 2, times: 2, status: 503 })
  s.emu.inject({ route: 'upload', nth: 5, drop: 'before' })
  s.emu.inject({ route: 'upload', nth: 7, drop: 'after' }) // the server kept the part; the repeat is told 110012 (done)
  s.emu.inject({ route: 'upload', nth: 9, status: 502 })
  s.emu.inject({ route: 'getExecution', nth: 1, status: 503 })
  const r = await s.run()
  t.equal(r.code, 0, r.stderr)
  t.equal((await record(s, r)).state, 'Completed')
  const uploads = s.emu.calls.filter((c) => c.route === 'upload')
  t.equal(uploads.filter((c) => c.status === 503 || c.status === 502).length, 3, 'the 5xx answers were given')
  t.equal(uploads.filter((c) => c.status === 'dropped').length, 2, 'the connections were dropped')
  t.equal(uploads.filter((c) => c.status === 400).length, 1, 'the repeat of the part whose answer was lost was told it is there (110012)')
  t.equal(uploads.filter((c) => c.status === 200).length, 9, 'the other parts were accepted once each')
  const runs = executions(s.emu)
  t.same(runs.map((e) => e.finalStatus), ['SUCCEEDED'], 'one job run')
  t.equal(runs[0]!.filesRead, 10, 'it read 10 part files')
  t.notOk(s.emu.state.dirs.has(runs[0]!.dataPath), 'the one-off ingestion folder was deleted after the success')
  assertEachRowOnce(t, s, 'after the faults')
})

// A call timeout of 2 s: far above what a healthy answer of the emulator takes, even on a busy machine.
t.test('a slow server past the call timeout (hopsworks.timeoutSeconds)', async (t) => {
  t.test('a slow chunk upload: the call times out, its retry succeeds; exit 0, each row once', async (t) => {
    const s = await setup(t, { timeoutSeconds: 2 })
    s.emu.inject({ route: 'upload', nth: 3, delayMs: 5000 })
    const r = await s.run()
    t.equal(r.code, 0, r.stderr)
    t.equal((await record(s, r)).state, 'Completed')
    t.ok(s.emu.count('upload') >= 11, 'the slow upload was repeated')
    assertEachRowOnce(t, s, 'after the retry')
  })

  t.test('a slow create of the ingestion job (not repeated blindly): ETL_TIMEOUT, exit 1, nothing committed', async (t) => {
    const s = await setup(t, { timeoutSeconds: 2 })
    s.emu.inject({ route: 'ingestion', nth: 1, delayMs: 5000 })
    const r = await s.run()
    t.equal(r.code, 1, r.stderr)
    t.match(r.stderr, /ETL_TIMEOUT: Hopsworks POST project\/119\/featurestores\/1191\/featuregroups\/\d+\/ingestion: no answer within 2000 ms/)
    const rec = await record(s, r)
    t.equal(rec.state, 'Failed')
    t.match(rec, { error: { code: 'ETL_TIMEOUT' } })
    t.equal(s.emu.count('ingestion'), 1, 'a create that may have arrived is not sent again')
    t.equal(s.emu.count('upload'), 0, 'no data sent')
    t.equal(s.emu.count('startExecution'), 0, 'no job started')
    t.same(s.emu.rows(FG, 1), [], 'the feature group is empty')
  })

  t.test('a slow job start: timed out, the start is looked for instead of sent again; one execution, exit 0', async (t) => {
    const s = await setup(t, { timeoutSeconds: 2 })
    // The server starts the execution 3.6 s after the request came: after the client gave up (2 s), before its last look (6 s).
    s.emu.inject({ route: 'startExecution', nth: 1, delayMs: 3600 })
    const r = await s.run()
    t.equal(r.code, 0, r.stderr)
    t.equal((await record(s, r)).state, 'Completed')
    t.equal(s.emu.count('startExecution'), 1, 'the start was not repeated')
    t.ok(s.emu.count('listExecutions') >= 2, 'the lost start was looked up (after the look before the start)')
    t.same(executions(s.emu).map((e) => e.finalStatus), ['SUCCEEDED'], 'one execution, and it is the one polled to its end')
    assertEachRowOnce(t, s, 'after the slow start')
  })
})

t.test('the ingestion job ends FAILED: exit 1, ETL_HOPSWORKS_JOB, record Failed, nothing loaded; the re-run loads each row once', async (t) => {
  // Both runs' jobs get one name, as jobs made within the same second do (the server then updates the job, executions kept).
  const s = await setup(t, { timeoutSeconds: 2, emulator: { jobClock: () => new Date(Date.UTC(2026, 10, 24, 12, 0, 0)) } })
  s.emu.failNextJob('FAILED')
  const failed = await s.run()
  t.equal(failed.code, 1, failed.stderr)
  t.match(failed.stderr, /ETL_HOPSWORKS_JOB: the ingestion job prostate_group_1_insert_fg_\d+ \(execution \d+\) ended FAILED/)
  const rec = await record(s, failed)
  t.equal(rec.state, 'Failed')
  t.match(rec, { error: { code: 'ETL_HOPSWORKS_JOB' } })
  t.same(s.emu.rows(FG, 1), [], 'the feature group has no rows from the failed job')
  const [first] = executions(s.emu)
  t.match(first, { finalStatus: 'FAILED' })
  t.equal(s.emu.state.filesIn(first!.dataPath).length, 10, 'its uploaded files stay where they were (for inspection)')

  // The re-run's start gets no answer (nothing started): its lookup must not take the failed execution of the same job name for its own.
  s.emu.inject({ route: 'startExecution', drop: 'before' })
  const again = await s.run()
  t.equal(again.code, 0, again.stderr)
  t.equal((await record(s, again)).state, 'Completed')
  const runs = executions(s.emu)
  t.equal(new Set(runs.map((e) => e.job)).size, 1, 'one job name for both runs')
  t.same(runs.map((e) => e.finalStatus), ['FAILED', 'SUCCEEDED'], 'the re-run started its own execution')
  t.not(runs[1]!.dataPath, runs[0]!.dataPath, 'the re-run uploads to a data path of its own')
  assertEachRowOnce(t, s, 'after the re-run')
})

t.test('killed (SIGKILL) between the uploads and the job start: no job started; the re-run loads each row once', async (t) => {
  const s = await setup(t)
  // The start request is held before the server acts on it; the process dies; the held request is then dropped unheard.
  const hold = s.emu.hold('startExecution')
  let child: ChildProcess | undefined
  const killed = s.run([], (c) => (child = c))
  await hold.arrived
  t.equal(s.emu.count('upload'), 10, 'every part was uploaded before the start')
  t.ok(child?.kill('SIGKILL'), 'killed')
  const r = await killed
  hold.release()
  t.equal(r.signal, 'SIGKILL')
  t.equal(r.stdout, '', 'no record printed')
  t.equal(executions(s.emu).length, 0, 'no job started')
  t.same(s.emu.rows(FG, 1), [], 'nothing loaded')
  const [leftJob] = [...s.emu.state.jobs.values()]
  t.equal(s.emu.state.filesIn(leftJob!.dataPath).length, 10, 'the killed run left its uploaded parts behind')

  const runs = await runEtl(['runs', '--json'], { cwd: s.cwd, env: s.env })
  t.equal(runs.code, 0, runs.stderr)
  t.match(runs.stdout, /"state":\s*"Crashed"/, 'the killed run is listed as Crashed')

  const again = await s.run()
  t.equal(again.code, 0, again.stderr)
  t.equal((await record(s, again)).state, 'Completed')
  const done = executions(s.emu)
  t.equal(done.length, 1, 'one job run, the re-run\'s')
  t.not(done[0]!.dataPath, leftJob!.dataPath, 'the re-run ingests its own data path, not the leftover one')
  assertEachRowOnce(t, s, 'after the re-run')
})
