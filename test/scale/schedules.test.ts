/**
 * Distributed schedules with real `etl worker` processes on a real queue (a
 * pg-boss schema of this file's own): two workers and a schedule every second
 * for ~20 s (each tick sent once and run once, never two runs at a time), a
 * worker killed mid-run (the tick runs to the end on the other one), and ticks
 * missed while no worker was up (`missed: once` runs one, `skip` none).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t, { type Test } from 'tap'
import { seedProstate } from '../../lib/extract/embedded.ts'
import { cleanEnv, runEtl } from '../support/cli.ts'
import { testDb, type TestDb } from '../support/pg.ts'

const entry = fileURLToPath(new URL('../support/etl-cli.ts', import.meta.url))

interface Worker {
  readonly child: ChildProcess
  readonly log: () => string
  readonly exited: Promise<number | null>
  waitFor(re: RegExp, timeoutMs?: number): Promise<void>
}

function startWorker(cwd: string, env: Record<string, string>): Worker {
  const child = spawn(process.execPath, [entry, 'worker'], { cwd, env, stdio: ['ignore', 'ignore', 'pipe'] })
  let log = ''
  const waiters: { re: RegExp; resolve: () => void }[] = []
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    log += d
    for (const w of [...waiters]) if (w.re.test(log)) { waiters.splice(waiters.indexOf(w), 1); w.resolve() }
  })
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)))
  return {
    child, log: () => log, exited,
    waitFor: (re, timeoutMs = 60_000) => new Promise<void>((resolve, reject) => {
      if (re.test(log)) return resolve()
      const timer = setTimeout(() => reject(new Error(`worker log never matched ${re}:\n${log}`)), timeoutMs)
      waiters.push({ re, resolve: () => { clearTimeout(timer); resolve() } })
    }),
  }
}

async function setup(t: Test, db: TestDb) {
  await seedProstate(db.config)
  const cwd = t.testdir()
  const schema = `q_${randomBytes(5).toString('hex')}`
  const env = cleanEnv({ ...db.env, ETL_QUEUE_SCHEMA: schema, ETL_QUEUE_SUPERVISE_SECONDS: '1', ETL_QUEUE_HEARTBEAT_SECONDS: '10' })
  const workers: Worker[] = []
  t.teardown(async () => {
    for (const w of workers) if (w.child.exitCode === null) w.child.kill('SIGKILL')
    await Promise.all(workers.map((w) => w.exited))
    await db.client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => {})
  })
  return {
    cwd, env, schema,
    worker() {
      const w = startWorker(cwd, env)
      workers.push(w)
      return w
    },
    async register(args: string[]) {
      const r = await runEtl(['schedule', ...args, '--distributed'], { cwd, env })
      t.equal(r.code, 0, r.stderr)
      return r
    },
  }
}

const matches = (log: string, re: RegExp) => [...log.matchAll(re)].map((m) => m[1]!)
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

async function records(dir: string): Promise<{ id: string; state: string; start: string; end?: string }[]> {
  let names: string[] = []
  try {
    names = await readdir(dir)
  } catch {
    return []
  }
  return Promise.all(names.filter((n) => n.endsWith('.json')).map(async (n) => JSON.parse(await readFile(join(dir, n), 'utf8'))))
}

t.test('two workers, a schedule every second for ~20 s: each tick sent once and run once, one run at a time', async (t) => {
  const db = await testDb(t)
  const s = await setup(t, db)
  await s.register(['--cron', '* * * * * *', '--name', 'every-second', '--id', 'sequential', '--quiet', '--keep-runs', '1000'])
  const w1 = s.worker()
  const w2 = s.worker()
  await Promise.all([w1.waitFor(/running the distributed schedules/), w2.waitFor(/running the distributed schedules/)])
  await sleep(20_000)
  w1.child.kill('SIGTERM')
  w2.child.kill('SIGTERM')
  t.same(await Promise.all([w1.exited, w2.exited]), [143, 143], 'stopped by SIGTERM (exit 143)')
  const logs = [w1.log(), w2.log()]
  const sent = logs.map((l) => matches(l, /schedule every-second: tick (\S+) sent/g))
  const skipped = logs.flatMap((l) => matches(l, /schedule every-second: tick (\S+) skipped/g))
  const ran = logs.map((l) => matches(l, /schedule every-second: tick (\S+?)(?: \(attempt \d+\))?: run \S+ ended Completed/g))
  const allSent = [...sent[0]!, ...sent[1]!].sort()
  const allRan = [...ran[0]!, ...ran[1]!].sort()
  t.same([...new Set(allSent)], allSent, 'no tick sent twice')
  t.same([...new Set(allRan)], allRan, 'no tick ran twice')
  const claimed = [...allSent, ...skipped].sort()
  const first = Date.parse(claimed[0]!)
  const last = Date.parse(claimed.at(-1)!)
  t.equal(claimed.length, (last - first) / 1000 + 1, 'every second from the first tick to the last was claimed once (sent or skipped)')
  t.ok(claimed.length >= 15, `${claimed.length} ticks in ~20 s`)
  const notRun = allSent.filter((tick) => !allRan.includes(tick))
  t.ok(notRun.length <= 1, `every sent tick ran (but the one in flight at the stop): ${notRun.join(', ')}`)
  const recs = (await records(join(s.cwd, 'data/runs'))).filter((r) => r.end).sort((a, b) => a.start.localeCompare(b.start))
  t.equal(recs.filter((r) => r.state === 'Completed').length, allRan.length, 'one Completed record per run')
  for (let i = 1; i < recs.length; i++) t.ok(recs[i]!.start >= recs[i - 1]!.end!, 'runs never overlap across the cluster')
  t.comment(`figures: ${claimed.length} ticks in ${(last - first) / 1000 + 1} s; sent ${sent[0]!.length} + ${sent[1]!.length} (worker 1 + 2), skipped ${skipped.length}, ran ${ran[0]!.length} + ${ran[1]!.length}`)
  const list = await runEtl(['schedules'], { cwd: s.cwd, env: s.env })
  t.match(list.stdout, /^every-second {2}\* \* \* \* \* \* \(UTC, missed: skip\) {2}next \S+ {2}last run \S+ (Completed|Cancelled) exit \d/m)
})

t.test('a worker killed mid-run: the tick runs to the end on the other worker', async (t) => {
  const db = await testDb(t)
  const s = await setup(t, db)
  const workers = [s.worker(), s.worker()]
  await Promise.all(workers.map((w) => w.waitFor(/running the distributed schedules/)))
  const at = new Date(Date.now() + 4_000)
  // Once a minute, at a second ~4 s from now, both workers up; each row sleeps 100 ms, so the run takes ~10 s.
  await s.register(['--cron', `${at.getUTCSeconds()} * * * * *`, '--name', 'slow', '--quiet',
    '--query', "SELECT p.* FROM prostate p WHERE pg_sleep(0.1 + 0 * p.age)::text = ''"])
  const starting = /schedule slow: tick (\S+): run starting/
  await Promise.race(workers.map((w) => w.waitFor(starting, 40_000)))
  const doomed = workers.find((w) => starting.test(w.log()))!
  const rescuer = workers.find((w) => w !== doomed)!
  const tick = starting.exec(doomed.log())![1]!
  await sleep(1500)
  t.notMatch(doomed.log(), /ended/, 'killed while the run goes')
  doomed.child.kill('SIGKILL')
  await doomed.exited
  const killedAt = Date.now()
  await rescuer.waitFor(new RegExp(`schedule slow: tick ${tick.replace(/[.]/g, '\\.')} \\(attempt \\d\\): run \\S+ ended Completed, exit 0`), 60_000)
  t.comment(`figures: the tick ran again on the other worker and ended ${((Date.now() - killedAt) / 1000).toFixed(1)} s after the kill (heartbeat 10 s, the run ~10 s)`)
  rescuer.child.kill('SIGTERM')
  t.equal(await rescuer.exited, 143)
  const recs = await records(join(s.cwd, 'data/runs'))
  t.equal(recs.filter((r) => r.state === 'Completed').length, 1, 'the tick completed once')
  t.equal(recs.filter((r) => r.state === 'Failed' || r.state === 'Cancelled').length, 0, 'no run of the tick failed')
  const rows = (await readFile(join(s.cwd, 'data/transformed.csv'), 'utf8')).trim().split('\n').length - 1
  t.equal(rows, 97)
})

t.test('ticks missed while no worker was up: missed once runs one, skip runs none', async (t) => {
  const db = await testDb(t)
  const s = await setup(t, db)
  const now = new Date()
  if (now.getUTCMinutes() === 0 && now.getUTCSeconds() < 10) await sleep(10_000) // keep the hour's own tick out of it
  await s.register(['--cron', '0 0 * * * *', '--name', 'hourly-once', '--missed', 'once', '--quiet'])
  await s.register(['--cron', '0 0 * * * *', '--name', 'hourly-skip', '--quiet'])
  // As if every worker had been down for the last three hours and a half.
  await db.client.query(`UPDATE ${s.schema}.etl_schedule SET last_tick = date_trunc('milliseconds', now() - interval '210 minutes')`)
  const w = s.worker()
  await w.waitFor(/schedule hourly-once: tick \S+: run \S+ ended Completed/, 60_000)
  await w.waitFor(/schedule hourly-skip: \d+ missed tick\(s\) up to \S+ not run \(missed: skip\)/, 10_000)
  await sleep(2000)
  w.child.kill('SIGTERM')
  t.equal(await w.exited, 143)
  const hour = new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000).toISOString()
  t.same(matches(w.log(), /schedule hourly-once: tick (\S+) sent \(3 missed tick\(s\) passed over\)/g), [hour], 'one job, for the latest missed tick')
  t.equal(matches(w.log(), /schedule hourly-once: tick (\S+?)(?: \(attempt \d+\))?: run \S+ ended/g).length, 1, 'run once')
  t.equal(matches(w.log(), /schedule hourly-skip: tick (\S+) sent/g).length, 0, 'skip sends nothing')
  t.match(w.log(), /schedule hourly-skip: 4 missed tick\(s\) up to \S+ not run/)
  const list = await runEtl(['schedules', '--json'], { cwd: s.cwd, env: s.env })
  const rows = JSON.parse(list.stdout) as { name: string; lastRun: { state: string } | null }[]
  t.same(rows.map((r) => [r.name, r.lastRun?.state ?? null]), [['hourly-once', 'Completed'], ['hourly-skip', null]])
})
