import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { startEmbedded } from '../../lib/extract/embedded.ts'
import { cleanEnv, runEtl } from '../support/cli.ts'
import { testDb } from '../support/pg.ts'

async function workdir(t: { teardown(fn: () => unknown): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'etl-cli-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  return dir
}

t.test('etl extract writes extracted.csv and its sidecar; etl validate passes the prostate suite', async (t) => {
  const db = await testDb(t)
  await db.client.query('CREATE TABLE prostate AS SELECT g AS age, (g % 2) AS target FROM generate_series(41, 79) g')
  const cwd = await workdir(t)
  const env = cleanEnv(db.env)
  const r = await runEtl(['extract', '--table', 'prostate'], { cwd, env })
  t.equal(r.code, 0, r.stderr)
  const csv = await readFile(join(cwd, 'data/extracted.csv'), 'utf8')
  t.equal(csv.split('\n')[0], 'age,target,user_id', 'the stable id column of --id derived (the default) comes last')
  t.equal(csv.trim().split('\n').length, 40)
  const sidecar = JSON.parse(await readFile(join(cwd, 'data/extracted.schema.json'), 'utf8'))
  t.same(sidecar.columns, [{ name: 'age', type: 'int4' }, { name: 'target', type: 'int4' }, { name: 'user_id', type: 'text' }])
  t.equal(sidecar.rows, 39)
  t.same((await readdir(join(cwd, 'data'))).filter((f) => f.endsWith('.tmp')), [], 'no temporary file left')
  const runs = await runEtl(['runs', '--json'], { cwd, env })
  t.equal(runs.code, 0)
  t.equal(JSON.parse(runs.stdout)[0].state, 'Completed')
})

t.test('bad input: coded errors and exit codes', async (t) => {
  const db = await testDb(t)
  const cwd = await workdir(t)
  const env = cleanEnv(db.env)

  const unknownFlag = await runEtl(['extract', '--bogus'], { cwd, env })
  t.equal(unknownFlag.code, 2)
  t.match(unknownFlag.stderr, /ETL_USAGE: Unknown option '--bogus'/)

  const unknownCommand = await runEtl(['explode'], { cwd, env })
  t.equal(unknownCommand.code, 2)
  t.match(unknownCommand.stderr, /ETL_USAGE: unknown command: explode/)

  const table = await runEtl(['extract', '--table', 'nope'], { cwd, env })
  t.equal(table.code, 2)
  t.match(table.stderr, /ETL_UNKNOWN_TABLE: table not found: nope/)

  await db.client.query('CREATE TABLE victim (a int)')
  const injection = await runEtl(['extract', '--table', 'victim; DROP TABLE victim'], { cwd, env })
  t.equal(injection.code, 2)
  t.match(injection.stderr, /ETL_UNKNOWN_TABLE/)
  t.same((await db.client.query(`SELECT to_regclass('victim') IS NOT NULL AS here`)).rows, [{ here: true }], 'not executed')

  await writeFile(join(cwd, 'etl.config.json'), JSON.stringify({ batchSize: 0, onInvalid: 'maybe', tabel: 'x' }))
  const config = await runEtl(['extract'], { cwd, env })
  t.equal(config.code, 2)
  t.match(config.stderr, /ETL_CONFIG: invalid .*etl\.config\.json/)
  t.match(config.stderr, /\/batchSize: must be >= 1/)
  t.match(config.stderr, /\/onInvalid: must be one of "abort", "warn"/)
  t.match(config.stderr, /unknown setting "tabel"/)
  await rm(join(cwd, 'etl.config.json'))

  const refused = await runEtl(['extract'], { cwd, env: cleanEnv({ PGHOST: '127.0.0.1', PGPORT: '1', PGUSER: 'postgres', PGDATABASE: 'test' }) })
  t.equal(refused.code, 1)
  t.match(refused.stderr, /ETL_DB_CONNECT: cannot connect to PostgreSQL at postgres@127\.0\.0\.1:1\/test: connection refused/)

  const readonlyDir = join(cwd, 'file-not-dir')
  await writeFile(readonlyDir, 'x')
  const dataDir = await runEtl(['extract', '--data-dir', join(readonlyDir, 'data')], { cwd, env })
  t.equal(dataDir.code, 2)
  t.match(dataDir.stderr, /ETL_DATA_DIR: the data folder cannot be written/)
})

t.test('a wrong password is reported without printing it', async (t) => {
  const server = await startEmbedded({ seed: false })
  t.teardown(() => server.stop())
  const cwd = await workdir(t)
  const secret = 'Sup3r-Secret-Pa55word'
  const url = `postgres://postgres:${secret}@127.0.0.1:${server.config.port}/postgres`
  const r = await runEtl(['extract', '--json'], { cwd, env: cleanEnv({ DATABASE_URL: url }) })
  t.equal(r.code, 1)
  t.match(r.stderr, /ETL_DB_AUTH: database authentication failed for postgres@127\.0\.0\.1:\d+\/postgres/)
  t.notMatch(r.stderr + r.stdout, secret)
  const records = await readdir(join(cwd, 'data/runs'))
  for (const f of records) t.notMatch(await readFile(join(cwd, 'data/runs', f), 'utf8'), secret, 'not in the run record')
})

t.test('every error code is documented in the README', async (t) => {
  const errors = await readFile(new URL('../../lib/errors.ts', import.meta.url), 'utf8')
  const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8')
  const union = errors.slice(errors.indexOf('export type EtlErrorCode'), errors.indexOf('export function exitCodeOf'))
  const codes = [...union.matchAll(/'(ETL_[A-Z_]+)'/g)].map((m) => m[1]!)
  t.ok(codes.length > 20)
  for (const code of codes) t.match(readme, `| \`${code}\` |`, `${code} documented`)
})

t.test('etl validate over a CSV is cached: an unchanged step is skipped and says so; a new extract runs it again', async (t) => {
  const db = await testDb(t)
  await db.client.query('CREATE TABLE prostate AS SELECT g AS age, (g % 2) AS target FROM generate_series(41, 79) g')
  const cwd = await workdir(t)
  const env = cleanEnv(db.env)
  const suite = join(cwd, 'suite.json')
  await writeFile(suite, JSON.stringify({ expectation_suite_name: 's', expectations: [{ expectation_type: 'expect_column_values_to_be_between', kwargs: { column: 'age', min_value: 41, max_value: 80 } }] }))
  t.equal((await runEtl(['extract'], { cwd, env })).code, 0)
  const state = async () => {
    const r = await runEtl(['validate', '--suite', suite, '--json'], { cwd, env })
    t.equal(r.code, 0, r.stderr)
    return { task: JSON.parse(r.stdout).tasks[0].state as string, stderr: r.stderr }
  }
  t.equal((await state()).task, 'Completed')
  const second = await state()
  t.equal(second.task, 'Cached')
  t.match(second.stderr, /cached result used, not run/)
  await new Promise((resolve) => setTimeout(resolve, 20))
  t.equal((await runEtl(['extract'], { cwd, env })).code, 0)
  t.equal((await state()).task, 'Completed', 'a new extracted.csv is validated again')
})
