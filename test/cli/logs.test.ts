/**
 * The command's logs: --log json lines in pino's shape carrying their fields,
 * --log-level / LOG_LEVEL, progress lines without a terminal, the quality-gate
 * report printed once, --json one object per line.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { seedProstate } from '../../lib/extract/embedded.ts'
import { cleanEnv, runEtl } from '../support/cli.ts'
import { testDb } from '../support/pg.ts'

async function workdir(t: { teardown(fn: () => unknown): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'etl-logs-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  return dir
}

t.test('--log json: every line pino-shaped, with runId, flow and counts; progress lines without a terminal; --json one line', async (t) => {
  const db = await testDb(t)
  await db.client.query('CREATE TABLE many AS SELECT g AS n, g % 7 AS k FROM generate_series(1, 200000) g')
  const cwd = await workdir(t)
  const r = await runEtl(['extract', '--table', 'many', '--batch-size', '500', '--log', 'json', '--json'], { cwd, env: cleanEnv({ ...db.env, ETL_PROGRESS_SECONDS: '0.05' }) })
  t.equal(r.code, 0, r.stderr)
  const lines = r.stderr.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>)
  for (const l of lines) {
    t.match(l, { level: Number, time: Number, pid: Number, hostname: String, msg: String }, 'pino fields')
    t.equal(Object.keys(l).at(-1), 'msg', 'msg last, as pino writes it')
  }
  t.ok(lines.some((l) => l['runId'] && l['flow'] === 'extract' && /started$/.test(String(l['msg']))), 'the start line carries runId and flow')
  t.ok(lines.some((l) => l['state'] === 'Completed' && typeof l['durationMs'] === 'number'), 'the end line carries state and duration')
  const progress = lines.filter((l) => l['progress'] === true)
  t.ok(progress.length >= 1, `${progress.length} progress lines`)
  t.match(progress[0]!['msg'], /^extract: \d+ rows/)
  t.equal(r.stdout.split('\n').filter(Boolean).length, 1, '--json: one object, one line')
  t.equal(JSON.parse(r.stdout).state, 'Completed')
  // the same without --log json and without a terminal: plain progress lines, no carriage returns
  const text = await runEtl(['extract', '--table', 'many', '--batch-size', '500'], { cwd, env: cleanEnv({ ...db.env, ETL_PROGRESS_SECONDS: '0.05' }) })
  t.equal(text.code, 0)
  t.match(text.stderr, /\nextract: \d+ rows/)
  t.notMatch(text.stderr, '\r')
})

t.test('--log-level and LOG_LEVEL', async (t) => {
  const db = await testDb(t)
  await db.client.query('CREATE TABLE few AS SELECT 1 AS n')
  const cwd = await workdir(t)
  const env = cleanEnv(db.env)
  const warn = await runEtl(['extract', '--table', 'few', '--log-level', 'warn'], { cwd, env })
  t.equal(warn.code, 0, warn.stderr)
  t.equal(warn.stderr, '', 'no info line')
  const fromEnv = await runEtl(['extract', '--table', 'nope'], { cwd, env: { ...env, LOG_LEVEL: 'error' } })
  t.equal(fromEnv.code, 2)
  t.notMatch(fromEnv.stderr, /started/, 'LOG_LEVEL=error hides info lines')
  t.match(fromEnv.stderr, 'error: ETL_UNKNOWN_TABLE')
  const bad = await runEtl(['extract', '--log-level', 'loud'], { cwd, env })
  t.equal(bad.code, 2)
  t.match(bad.stderr, 'ETL_INVALID_OPTION: Invalid option --log-level: expected debug, info, warn, error or silent, got "loud"')
  const badEnv = await runEtl(['extract'], { cwd, env: { ...env, LOG_LEVEL: 'chatty' } })
  t.equal(badEnv.code, 2)
  t.match(badEnv.stderr, 'Invalid option LOG_LEVEL')
})

t.test('a failed quality gate: its report printed once', async (t) => {
  const db = await testDb(t)
  await seedProstate(db.config)
  const cwd = await workdir(t)
  const suite = join(cwd, 'never.json')
  await writeFile(suite, JSON.stringify({ expectation_suite_name: 'never', expectations: [{ expectation_type: 'expect_column_values_to_be_between', kwargs: { column: 'age', min_value: 0, max_value: 1 } }] }))
  const r = await runEtl(['run', '--suite', suite], { cwd, env: cleanEnv(db.env) })
  t.equal(r.code, 3)
  t.equal(r.stderr.split('expected between 0 and 1').length - 1, 1, r.stderr)
  t.match(r.stderr, /error: flow etl-run: run \S+ Failed after [\d.]+s: ETL_QUALITY_GATE\n/)
  t.match(r.stderr, 'error: ETL_QUALITY_GATE: the quality gate stopped the load')
})

t.test('--log-level debug: the SQL we send and each HTTP call, secrets masked', async (t) => {
  const db = await testDb(t)
  await db.client.query('CREATE TABLE dbg AS SELECT 1 AS n')
  const cwd = await workdir(t)
  const r = await runEtl(['extract', '--table', 'dbg', '--log-level', 'debug'], { cwd, env: cleanEnv(db.env) })
  t.equal(r.code, 0, r.stderr)
  t.match(r.stderr, /\ndebug: SQL: .*dbg/, 'the extract query')
  const { createServer } = await import('node:http')
  const server = createServer((_req, res) => res.writeHead(204).end())
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise((resolve) => server.close(resolve)))
  const port = (server.address() as import('node:net').AddressInfo).port
  const secret = 'Hook-S3cret-Value'
  const hook = await runEtl(['notify', '--test', `http://127.0.0.1:${port}/hook?token=x`, '--log', 'json', '--log-level', 'debug'], { cwd, env: cleanEnv({ ETL_WEBHOOK_SECRET: secret }) })
  t.equal(hook.code, 0, hook.stderr)
  const lines = hook.stderr.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>)
  t.ok(lines.some((l) => l['level'] === 20 && l['method'] === 'POST' && l['status'] === 204 && String(l['msg']).startsWith(`HTTP POST http://127.0.0.1:${port}/hook`)), 'the call, at debug (20)')
  t.notMatch(hook.stderr, secret)
})
