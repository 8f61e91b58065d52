import { access, mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { cleanEnv, runEtl } from '../support/cli.ts'
import { testDb } from '../support/pg.ts'

const exists = (p: string) => access(p).then(() => true, () => false)

t.test('the connection killed mid-extract: exit 1, no complete-looking file, store unchanged; the next run has exactly the rows', async (t) => {
  const db = await testDb(t)
  await db.client.query(`CREATE TABLE prostate AS SELECT (41 + g % 39)::int AS age, (g % 2)::int AS target, 1.0::float8 AS lcavol, 3.0::float8 AS lweight,
    6 AS gleason, 0 AS pgg45 FROM generate_series(1, 1000000) g`)
  const cwd = await mkdtemp(join(tmpdir(), 'etl-fault-'))
  t.teardown(() => rm(cwd, { recursive: true, force: true }))
  // Our own application_name: tap runs other test files at the same time, and their queries must not be mistaken for ours.
  const app = `etl-fault-${process.pid}-${Date.now()}`
  const env = { ...cleanEnv(db.env), PGAPPNAME: app }
  let killed = 0
  const r = await runEtl(['run', '--id', 'sequential', '--batch-size', '500'], {
    cwd, env,
    onSpawn: () => {
      let busy = false
      const timer = setInterval(async () => {
        if (busy) return
        busy = true
        try {
          const { rows } = await db.client.query(`SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND state <> 'idle'
            AND (query LIKE 'SELECT * FROM %prostate%' OR query LIKE 'COPY (SELECT * FROM %prostate%') AND query NOT LIKE '%LIMIT 0%'`, [app])
          if (!rows.length) return
          await new Promise((resolve) => setTimeout(resolve, 200))
          for (const row of rows) killed += (await db.client.query('SELECT pg_terminate_backend($1) AS ok', [row.pid])).rows[0].ok ? 1 : 0
          if (killed) clearInterval(timer)
        } finally {
          busy = false
        }
      }, 20)
      setTimeout(() => clearInterval(timer), 30000)
    },
  })
  t.ok(killed >= 1, 'the backend was terminated')
  t.equal(r.code, 1, r.stderr)
  t.match(r.stderr, /ETL_DB_CONNECTION_LOST: the database connection was lost while reading table prostate/)
  t.notOk(await exists(join(cwd, 'data/extracted.csv')), 'no complete-looking extracted.csv')
  t.notOk(await exists(join(cwd, 'data/transformed.csv')))
  t.notOk(await exists(join(cwd, 'data/feature_store/prostate_group_1')), 'store unchanged')
  t.same((await readdir(join(cwd, 'data'))).filter((f) => f.endsWith('.tmp')), [])

  const again = await runEtl(['run', '--id', 'sequential', '--json', '--quiet'], { cwd, env })
  t.equal(again.code, 0, again.stderr)
  t.equal(JSON.parse(again.stdout).summary.counts.loaded, 1000000)
  const manifest = JSON.parse(await readFile(join(cwd, 'data/feature_store/prostate_group_1/manifest.json'), 'utf8'))
  t.equal(manifest.rows, 1000000, 'exactly the table rows, once')
})
