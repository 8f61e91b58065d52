/**
 * examples/: each program run as a user would run it, against the real
 * PostgreSQL (and, for the webhook, a real HTTP receiver on loopback); the
 * README's library section shows the first one as it is.
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { seedProstate } from '../lib/extract/embedded.ts'
import { cleanEnv, runEtl } from './support/cli.ts'
import { node } from './support/embedded-default.ts'
import { testDb } from './support/pg.ts'

const repo = new URL('../', import.meta.url).pathname
const example = (name: string) => join(repo, 'examples', name)

async function workdir(t: { teardown(fn: () => unknown): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'etl-examples-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  return dir
}

t.test('validate-and-stamp: every row validated, stamped, written to our own writable', async (t) => {
  const db = await testDb(t)
  await seedProstate(db.config)
  const cwd = await workdir(t)
  const r = await node([example('validate-and-stamp.ts')], { cwd, env: cleanEnv(db.env) })
  t.equal(r.code, 0, r.stderr)
  const rows = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>)
  t.equal(rows.length, 97)
  const { rows: source } = await db.client.query<{ lpsa: number }>('SELECT lpsa FROM prostate')
  t.same(rows.map((x) => x['lpsa']).sort(), source.map((x) => x.lpsa).sort(), 'the values PostgreSQL holds')
  t.ok(rows.every((x) => typeof x['user_id'] === 'string' && typeof x['datetime'] === 'string'), 'each row stamped')
  t.equal(new Set(rows.map((x) => x['user_id'])).size, 97, 'derived ids, one per row')
  t.match(r.stderr, 'validation passed: 6/6 expectations')
})

t.test('flow-with-webhook: a flow run with a task, recorded, and the webhook told', async (t) => {
  const db = await testDb(t)
  await seedProstate(db.config)
  const cwd = await workdir(t)
  const received: Record<string, unknown>[] = []
  const server = createServer((req, res) => {
    let body = ''
    req.setEncoding('utf8').on('data', (d: string) => (body += d)).on('end', () => {
      received.push(JSON.parse(body) as Record<string, unknown>)
      res.writeHead(204).end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise((resolve) => server.close(resolve)))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`
  const r = await node([example('flow-with-webhook.ts'), 'prostate'], { cwd, env: cleanEnv({ ...db.env, WEBHOOK_URL: url, DATA_DIR: cwd }) })
  t.equal(r.code, 0, r.stderr)
  const out = JSON.parse(r.stdout) as { state: string; runId: string; rows: number }
  t.match(out, { state: 'Completed', rows: 97 })
  t.equal(received.length, 1)
  t.match(received[0], { event: 'run.completed', runId: out.runId })
  const record = JSON.parse(await readFile(join(cwd, 'runs', `${out.runId}.json`), 'utf8')) as { tasks: { name: string }[]; summary: Record<string, unknown> }
  t.same(record.tasks.map((x) => x.name), ['count-rows'])
  t.same(record.summary['count'], { table: 'prostate', rows: 97 })
  t.match(r.stderr, /"msg":"flow nightly-count: run \S+ started"/, 'pino-shaped log lines')
  const missing = await node([example('flow-with-webhook.ts'), 'no_such_table'], { cwd, env: cleanEnv({ ...db.env, WEBHOOK_URL: url, DATA_DIR: cwd }) })
  t.equal(missing.code, 1)
  t.equal(JSON.parse(missing.stdout).state, 'Failed')
  t.match(received[1], { event: 'run.failed' })
})

t.test('read-stage-csv: a stage CSV of etl run read back typed', async (t) => {
  const db = await testDb(t)
  await seedProstate(db.config)
  const cwd = await workdir(t)
  const run = await runEtl(['run'], { cwd, env: cleanEnv(db.env) })
  t.equal(run.code, 0, run.stderr)
  const r = await node([example('read-stage-csv.ts'), join(cwd, 'data/transformed.csv')], { cwd, env: cleanEnv() })
  t.equal(r.code, 0, r.stderr)
  const { rows } = await db.client.query<{ g: number; n: number; m: number }>('SELECT gleason AS g, count(*)::int AS n, avg(lpsa) AS m FROM prostate GROUP BY 1 ORDER BY 1')
  t.equal(r.stdout, rows.map((x) => `gleason ${x.g}: ${x.n} rows, mean lpsa ${x.m.toFixed(3)}\n`).join(''), 'the same as PostgreSQL computes')
})

t.test("the README's library section shows validate-and-stamp as it is", async (t) => {
  const readme = await readFile(join(repo, 'README.md'), 'utf8')
  const code = (await readFile(example('validate-and-stamp.ts'), 'utf8')).replace("'../lib/index.ts'", "'prostate-etl'")
  t.ok(readme.includes('```ts\n' + code + '```\n'), 'README has the example, importing from prostate-etl')
})
