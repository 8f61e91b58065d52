/**
 * The secrets sweep: succeeding and failing runs of the real `etl` with
 * distinctive values for the database password, the Hopsworks API key (a
 * good one and a wrong one) and the webhook secret; then every byte the runs
 * left behind is searched for them: stdout, stderr (text and JSON logs), every
 * file under the data folder (stage files, validation results, run records,
 * data docs, cache), and every webhook request received (headers and body).
 * The sweep counts what it saw, so it cannot pass by seeing nothing.
 */
import { randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import t from 'tap'
import { connect } from '../../lib/extract/connect.ts'
import { seedProstate } from '../../lib/extract/embedded.ts'
import { baseDatabase, testDb } from '../support/pg.ts'
import { HopsworksEmulator } from '../support/hopsworks-emulator.ts'
import { cleanEnv, runEtl, type CliResult } from '../support/cli.ts'

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = []
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) if (e.isFile()) out.push(join(e.parentPath, e.name))
  return out
}

/** A port nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const s = createServer()
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve))
  const port = (s.address() as AddressInfo).port
  await new Promise((resolve) => s.close(resolve))
  return port
}

t.test('no password, API key or webhook secret in any output, file or webhook, in succeeding and failing runs', async (t) => {
  const tag = randomBytes(6).toString('hex')
  const password = `PgPw${tag}Distinctive7Qx`
  const badKey = `WrOnGkEyPrEfIx01.BadKeySecret${tag}NeverToBeSeen0123456789abcdefghijklmnopqrstuv`
  const webhookSecret = `whsec${tag}DistinctiveHmacKey`

  // A role with a password (the local server trusts 127.0.0.1, so the password is accepted without being checked).
  const db = await testDb(t)
  await seedProstate(db.config)
  const role = `etl_secret_${tag}`
  await db.client.query(`CREATE ROLE ${role} LOGIN PASSWORD '${password}'`)
  t.teardown(async () => {
    const c = await connect(await baseDatabase())
    await c.query(`DROP OWNED BY ${role}`).catch(() => {})
    await c.query(`DROP ROLE IF EXISTS ${role}`)
    await c.end()
  })
  await db.client.query(`GRANT USAGE ON SCHEMA ${db.schema} TO ${role}; GRANT SELECT ON ALL TABLES IN SCHEMA ${db.schema} TO ${role}`)
  const base = await baseDatabase()
  const host = String(base.host ?? '127.0.0.1')
  const port = Number(base.port ?? 5432)
  const database = String(base.database ?? 'postgres')
  const searchPath = encodeURIComponent(`-c search_path=${db.schema}`)
  const url = (p: number, dbName = database) => `postgres://${role}:${password}@${host}:${p}/${dbName}?options=${searchPath}`
  const pgVars = { PGHOST: host, PGPORT: String(port), PGUSER: role, PGPASSWORD: password, PGDATABASE: database, PGOPTIONS: `-c search_path=${db.schema}` }

  const emu = await HopsworksEmulator.start()
  t.teardown(() => emu.close())
  const apiKey = emu.apiKey
  const secrets = { password, apiKey, apiKeySecret: apiKey.slice(apiKey.indexOf('.') + 1), badKey, badKeySecret: badKey.slice(badKey.indexOf('.') + 1), webhookSecret }

  const hooks: { headers: IncomingHttpHeaders; body: string }[] = []
  const receiver = createServer((req, res) => {
    let body = ''
    req.setEncoding('utf8').on('data', (d: string) => (body += d)).on('end', () => {
      hooks.push({ headers: req.headers, body })
      res.writeHead(204).end()
    })
  })
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise((resolve) => receiver.close(resolve)))
  const hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`

  const cwd = await mkdtemp(join(tmpdir(), 'etl-secrets-'))
  t.teardown(() => rm(cwd, { recursive: true, force: true }))
  const dataDir = join(cwd, 'data')
  await writeFile(join(cwd, 'etl.config.json'), JSON.stringify({ hopsworks: { pollIntervalSeconds: 0.05, partRows: 40 } }))
  const common = ['--webhook', hookUrl, '--notify', 'always']
  const hw = { ...emu.env(), ETL_WEBHOOK_SECRET: webhookSecret }
  const outputs: { name: string; r: CliResult }[] = []
  const run = async (name: string, args: string[], env: Record<string, string>, expect: { code: number; error?: RegExp }, runCwd = cwd) => {
    const r = await runEtl(['run', ...common, ...args], { cwd: runCwd, env: cleanEnv(env) })
    outputs.push({ name, r })
    t.equal(r.code, expect.code, `${name}: exit ${expect.code}\n${r.stderr}`)
    if (expect.error) t.match(r.stderr, expect.error, `${name}: the coded error`)
    return r
  }

  // Succeeding runs.
  await run('Hopsworks, DATABASE_URL with the password, JSON logs', ['--json', '--log', 'json'], { DATABASE_URL: url(port), ...hw }, { code: 0 })
  t.equal(emu.rows('prostate_group', 1).length, 97, 'the good run loaded')
  await run('Hopsworks, PG* variables with PGPASSWORD', ['--id', 'derived', '--key', 'lcavol,lweight,age,lbph,lcp,gleason,pgg45,lpsa,target'], { ...pgVars, ...hw }, { code: 0 })
  await run('local sink, PGPASSWORD', ['--sink', 'local', '--json'], { ...pgVars, ETL_WEBHOOK_SECRET: webhookSecret }, { code: 0 })
  // The secrets in .env (the usual way), another working folder, the same data folder.
  const dotEnvCwd = join(cwd, 'dotenv')
  await mkdir(dotEnvCwd)
  await writeFile(join(dotEnvCwd, '.env'), Object.entries({ ...pgVars, ...hw }).map(([k, v]) => `${k}="${v}"`).join('\n') + '\n')
  await run('secrets from .env', ['--data-dir', dataDir, '--log', 'json'], {}, { code: 0 }, dotEnvCwd)

  // Failing runs.
  await run('a wrong API key (401)', ['--json'], { DATABASE_URL: url(port), ...hw, HOPSWORKS_API_KEY: badKey }, { code: 1, error: /ETL_HOPSWORKS_AUTH/ })
  await run('a wrong API key (401), JSON logs', ['--log', 'json'], { ...pgVars, ...hw, HOPSWORKS_API_KEY: badKey }, { code: 1, error: /ETL_HOPSWORKS_AUTH/ })
  emu.failNextJob('FAILED')
  await run('the ingestion job ends FAILED', ['--json'], { DATABASE_URL: url(port), ...hw }, { code: 1, error: /ETL_HOPSWORKS_JOB/ })
  await db.client.query('UPDATE prostate SET age = 120 WHERE ctid = (SELECT ctid FROM prostate LIMIT 1)')
  await run('the quality gate fails', ['--json', '--log', 'json'], { DATABASE_URL: url(port), ...hw }, { code: 3, error: /ETL_QUALITY_GATE/ })
  await db.client.query('UPDATE prostate SET age = 60 WHERE age = 120')
  const refused = await closedPort()
  await run('PGPASSWORD, nothing listening on PGPORT', [], { ...pgVars, PGPORT: String(refused), ...hw }, { code: 1, error: /ETL_DB_CONNECT/ })
  await run('DATABASE_URL with the password, nothing listening', ['--log', 'json'], { DATABASE_URL: url(refused), ...hw }, { code: 1, error: /ETL_DB_CONNECT/ })
  await run('DATABASE_URL with the password, no such database (the server checks)', ['--json'], { DATABASE_URL: url(port, `nodb_${tag}`), ...hw }, { code: 1, error: /ETL_DB_CONNECT: database does not exist/ })
  await run('DATABASE_URL with the password, no such table', ['--table', `missing_${tag}`], { DATABASE_URL: url(port), ...hw }, { code: 2, error: /ETL_UNKNOWN_TABLE/ })
  await run('DATABASE_URL that does not parse, the password inside', [], { DATABASE_URL: `postgres://${role}:${password}/x@${host}:${refused}:bad/${database}`, ...hw }, { code: 2, error: /ETL_CONFIG/ })

  // The sweep.
  const seen: { where: string; text: string }[] = []
  for (const { name, r } of outputs) seen.push({ where: `${name}: stdout`, text: r.stdout }, { where: `${name}: stderr`, text: r.stderr })
  const files = await filesUnder(dataDir)
  for (const f of files) seen.push({ where: relative(cwd, f), text: await readFile(f, 'utf8') })
  for (const [i, h] of hooks.entries()) seen.push({ where: `webhook #${i + 1}`, text: `${JSON.stringify(h.headers)}\n${h.body}` })

  const found = (text: string) => Object.entries(secrets).filter(([, v]) => text.includes(v)).map(([k]) => k)
  const leaks = seen.flatMap(({ where, text }) => found(text).map((k) => `${k} in ${where}`))
  t.same(leaks, [], 'no secret anywhere')
  // The search itself works: the .env file (outside the data folder) holds the secrets it was given.
  t.same(found(await readFile(join(dotEnvCwd, '.env'), 'utf8')), ['password', 'apiKey', 'apiKeySecret', 'webhookSecret'], 'the search finds secrets where they are')

  // What the sweep saw (so it cannot pass vacuously).
  const names = files.map((f) => relative(dataDir, f))
  const count = (re: RegExp) => names.filter((n) => re.test(n)).length
  t.equal(outputs.length, 13, 'thirteen runs')
  t.ok(outputs.every(({ r }) => r.stderr.length > 0), 'every run wrote to stderr')
  // Every run but the one whose DATABASE_URL does not parse (refused before a run starts) has a record, a page and a webhook.
  t.equal(count(/^runs\/[^/]+\.json$/), 12, 'a run record for each run')
  t.equal(count(/^docs\/runs\/[^/]+\.html$/), 12, 'a data docs page for each run')
  t.equal(count(/^docs\/index\.html$/), 1, 'the docs index')
  for (const stage of ['extracted.csv', 'transformed.csv', 'extract_validation_result.json', 'meta_extract_validation_results.csv'])
    t.equal(count(new RegExp(`^${stage.replace('.', '\\.')}$`)), 1, `the stage file ${stage}`)
  t.ok(count(/^feature_store\//) >= 1, 'the local feature store')
  t.equal(hooks.length, 12, 'a webhook for each run')
  t.ok(hooks.every((h) => typeof h.headers['x-etl-signature'] === 'string'), 'every webhook was signed (the secret was in use)')
  const events = hooks.map((h) => (JSON.parse(h.body) as { event: string }).event).sort()
  t.same(events, [...Array(4).fill('run.completed'), ...Array(8).fill('run.failed')].sort(), 'four completed, eight failed')
  t.ok(seen.reduce((n, s) => n + s.text.length, 0) > 100_000, 'a good deal of text was searched')
})
