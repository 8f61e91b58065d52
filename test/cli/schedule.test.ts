import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
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
  t.equal(r.code, 0, r.stderr)
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
