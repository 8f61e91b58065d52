import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { seedProstate } from '../../lib/extract/embedded.ts'
import { cleanEnv, runEtl } from '../support/cli.ts'
import { testDb } from '../support/pg.ts'

t.test('etl schedule fires on a seconds cron, logs each run id, stops cleanly on SIGTERM', async (t) => {
  const db = await testDb(t)
  await seedProstate(db.config)
  const cwd = await mkdtemp(join(tmpdir(), 'etl-schedule-'))
  t.teardown(() => rm(cwd, { recursive: true, force: true }))
  const r = await runEtl(['schedule', '--cron', '*/1 * * * * *', '--id', 'sequential'], {
    cwd, env: cleanEnv(db.env), onSpawn: (child) => setTimeout(() => child.kill('SIGTERM'), 3500),
  })
  t.equal(r.code, 143, `stopped by SIGTERM: 128 + 15\n${r.stderr}`)
  t.match(r.stderr, /schedule: \*\/1 \* \* \* \* \* \(UTC\); next run at/)
  t.match(r.stderr, /flow etl-run: run \d{8}T\d{9}Z-\w+ started/)
  t.match(r.stderr, /schedule stopped: \d+ runs started/)
  const records = await Promise.all((await readdir(join(cwd, 'data/runs'))).map(async (f) => JSON.parse(await readFile(join(cwd, 'data/runs', f), 'utf8'))))
  t.ok(records.length >= 1, `${records.length} runs recorded`)
  t.ok(records.some((rec) => rec.state === 'Completed'), 'at least one completed')
  const spans = records.filter((rec) => rec.end).map((rec) => [Date.parse(rec.start), Date.parse(rec.end)] as const).sort((a, b) => a[0] - b[0])
  for (let i = 1; i < spans.length; i++) t.ok(spans[i]![0] >= spans[i - 1]![1], 'runs never overlap')
})

t.test('etl schedule without --cron or with a bad one is a usage error', async (t) => {
  const cwd = await mkdtemp(join(tmpdir(), 'etl-schedule-'))
  t.teardown(() => rm(cwd, { recursive: true, force: true }))
  const none = await runEtl(['schedule'], { cwd, env: cleanEnv() })
  t.equal(none.code, 2)
  t.match(none.stderr, /ETL_USAGE: etl schedule needs --cron/)
  const bad = await runEtl(['schedule', '--cron', '61 * * * *'], { cwd, env: cleanEnv() })
  t.equal(bad.code, 2)
  t.match(bad.stderr, /ETL_USAGE: invalid --cron/)
})

t.test('etl schedule with a failing suite: each run end logged with state, exit and error code; counted; webhook; --max-failures exits non-zero', async (t) => {
  const db = await testDb(t)
  await seedProstate(db.config)
  await db.client.query('UPDATE prostate SET age = 120 WHERE ctid = (SELECT ctid FROM prostate LIMIT 1)')
  const hooks: { event: string; code: string | undefined }[] = []
  const server = createServer((req, res) => {
    let body = ''
    req.setEncoding('utf8').on('data', (d: string) => (body += d)).on('end', () => {
      const b = JSON.parse(body)
      hooks.push({ event: b.event, code: b.error?.code })
      res.writeHead(204).end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise((resolve) => server.close(resolve)))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`
  const cwd = await mkdtemp(join(tmpdir(), 'etl-schedule-'))
  t.teardown(() => rm(cwd, { recursive: true, force: true }))

  const heartbeat = join(cwd, 'heartbeat.json')
  const env = cleanEnv({ ...db.env, ETL_HEARTBEAT_FILE: heartbeat })
  const running = runEtl(['schedule', '--cron', '*/1 * * * * *', '--max-failures', '3', '--webhook', url, '--log', 'json'], { cwd, env })
  // While the schedule goes, its HEALTHCHECK reflects the last run: unhealthy once a run failed.
  let health: Awaited<ReturnType<typeof runEtl>> | undefined
  for (let i = 0; i < 100 && !health; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100))
    const text = await readFile(heartbeat, 'utf8').catch(() => '')
    if (text.includes('"lastRun"')) health = await runEtl(['health'], { cwd, env })
  }
  const r = await running
  t.equal(health?.code, 1, 'etl health: unhealthy after a failed run')
  t.match(health?.stderr, /unhealthy: etl schedule \(pid \d+\): its last run \S+ ended Failed at \S+, exit 3, ETL_QUALITY_GATE \(\d failure\(s\) in a row\)/)
  t.equal(r.code, 3, 'the exit code of the last failed run (quality gate)')
  const lines = r.stderr.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>)
  const ends = lines.filter((l) => l.outcome !== undefined && typeof l.msg === 'string' && (l.msg as string).includes(' ended'))
  t.equal(ends.length, 3, 'three run ends logged')
  for (const e of ends) t.match(e, { level: 50, state: 'Failed', exitCode: 3, code: 'ETL_QUALITY_GATE', outcome: 'failed' })
  t.ok(lines.some((l) => /3 failures in a row \(--max-failures 3\): stopping/.test(String(l.msg))))
  const summary = lines.find((l) => /^schedule stopped after 3 failures in a row: 3 runs started, 0 completed, 3 failed, 0 cancelled, \d+ ticks skipped$/.test(String(l.msg)))
  t.ok(summary, 'the summary counts the failures')
  t.match(summary, { started: 3, completed: 0, failed: 3, stoppedBy: 'max-failures', lastFailure: { code: 'ETL_QUALITY_GATE', exitCode: 3 } })
  t.same(hooks.filter((h) => h.event === 'run.failed').map((h) => h.code), ['ETL_QUALITY_GATE', 'ETL_QUALITY_GATE', 'ETL_QUALITY_GATE'], 'each failure fired the failure webhook')
  const records = await Promise.all((await readdir(join(cwd, 'data/runs'))).map(async (f) => JSON.parse(await readFile(join(cwd, 'data/runs', f), 'utf8'))))
  t.same(records.map((rec) => rec.state), ['Failed', 'Failed', 'Failed'])
})

t.test('etl schedule stopped by SIGTERM after failed runs exits with the code of the last failure; --tz and --max-failures checked', async (t) => {
  const cwd = await mkdtemp(join(tmpdir(), 'etl-schedule-'))
  t.teardown(() => rm(cwd, { recursive: true, force: true }))
  // A database that refuses connections: each run fails before the flow starts (ETL_DB_CONNECT, exit 1).
  const r = await runEtl(['schedule', '--cron', '*/1 * * * * *', '--tz', 'Europe/Oslo'], {
    cwd, env: cleanEnv({ DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none' }), onSpawn: (child) => setTimeout(() => child.kill('SIGTERM'), 2600),
  })
  t.equal(r.code, 1, r.stderr)
  t.match(r.stderr, /\(Europe\/Oslo\); next run at/)
  t.match(r.stderr, /run 1 \(\S+\) ended Failed, exit 1, ETL_DB_CONNECT \(1 failure\(s\) in a row\)/)
  t.match(r.stderr, /schedule stopped: (\d+) runs started, 0 completed, \1 failed, 0 cancelled/)
  const bad = await runEtl(['schedule', '--cron', '* * * * *', '--tz', 'Mars/Olympus'], { cwd, env: cleanEnv() })
  t.equal(bad.code, 2)
  t.match(bad.stderr, /ETL_INVALID_OPTION: Invalid option --tz/)
  const badMax = await runEtl(['schedule', '--cron', '* * * * *', '--max-failures', '0'], { cwd, env: cleanEnv() })
  t.equal(badMax.code, 2)
  t.match(badMax.stderr, /ETL_INVALID_OPTION: Invalid option --max-failures/)
})
