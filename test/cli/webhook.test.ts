import { mkdtemp, rm } from 'node:fs/promises'
import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { seedProstate } from '../../lib/extract/embedded.ts'
import { verifySignature, verifyWebhook } from '../../lib/flow/index.ts'
import { cleanEnv, runEtl } from '../support/cli.ts'
import { testDb } from '../support/pg.ts'

t.test('etl run --webhook: signed JSON on failure and (with --notify always) on completion; an unreachable one fails nothing', async (t) => {
  const db = await testDb(t)
  await seedProstate(db.config)
  const got: { headers: IncomingHttpHeaders; body: string }[] = []
  const server = createServer((req, res) => {
    let body = ''
    req.setEncoding('utf8').on('data', (d: string) => (body += d)).on('end', () => {
      got.push({ headers: req.headers, body })
      res.writeHead(204).end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise((resolve) => server.close(resolve)))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`
  const cwd = await mkdtemp(join(tmpdir(), 'etl-hook-'))
  t.teardown(() => rm(cwd, { recursive: true, force: true }))
  const secret = 'whsec-distinctive-123456'
  const env = cleanEnv({ ...db.env, ETL_WEBHOOK_SECRET: secret })

  const ok = await runEtl(['run', '--webhook', url, '--notify', 'always'], { cwd, env })
  t.equal(ok.code, 0, ok.stderr)
  t.equal(got.length, 1)
  const done = JSON.parse(got[0]!.body)
  t.equal(done.event, 'run.completed')
  t.equal(done.flow, 'etl-run')
  t.equal(done.counts.counts.loaded, 97)
  t.match(done.text, /etl-run/)
  t.ok(verifySignature(got[0]!.body, secret, got[0]!.headers['x-etl-signature'] as string), 'signed with ETL_WEBHOOK_SECRET')
  t.notMatch(got[0]!.body, secret)

  await db.client.query('UPDATE prostate SET age = 120 WHERE ctid = (SELECT ctid FROM prostate LIMIT 1)')
  const failed = await runEtl(['run', '--webhook', url], { cwd, env })
  t.equal(failed.code, 3)
  t.equal(got.length, 2)
  const fail = JSON.parse(got[1]!.body)
  t.equal(fail.event, 'run.failed')
  t.equal(fail.error.code, 'ETL_QUALITY_GATE')

  await db.client.query('UPDATE prostate SET age = 60 WHERE age = 120')
  const unreachable = await runEtl(['run', '--webhook', 'http://127.0.0.1:1/nothing', '--notify', 'always'], { cwd, env })
  t.equal(unreachable.code, 0, 'an unreachable webhook never fails the run')
})

t.test('etl run: a quality failure names the failed expectations and the error class; --on-invalid warn sends run.warned; etl notify --test', async (t) => {
  const db = await testDb(t)
  await seedProstate(db.config)
  await db.client.query('UPDATE prostate SET age = 120 WHERE ctid = (SELECT ctid FROM prostate LIMIT 1)')
  const got: { headers: IncomingHttpHeaders; body: string }[] = []
  let status = 204
  const server = createServer((req, res) => {
    let body = ''
    req.setEncoding('utf8').on('data', (d: string) => (body += d)).on('end', () => {
      got.push({ headers: req.headers, body })
      res.writeHead(status).end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise((resolve) => server.close(resolve)))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`
  const cwd = await mkdtemp(join(tmpdir(), 'etl-hook-'))
  t.teardown(() => rm(cwd, { recursive: true, force: true }))
  const secret = 'whsec_' + Buffer.from('a-key-of-thirty-two-bytes-000000').toString('base64')
  const env = cleanEnv({ ...db.env, ETL_WEBHOOK_SECRET: secret })

  const failed = await runEtl(['run', '--webhook', url], { cwd, env })
  t.equal(failed.code, 3)
  const f = JSON.parse(got[0]!.body)
  t.match(f, { event: 'run.failed', pipeline: 'etl-run', table: 'prostate', state: 'Failed', error: { code: 'ETL_QUALITY_GATE', class: 'data quality' } })
  t.match(f.rows, { extracted: 97 })
  t.ok(f.failedExpectations.some((e: { expectation: string; column?: string; unexpectedCount?: number }) =>
    e.expectation === 'expect_column_values_to_be_between' && e.column === 'age' && e.unexpectedCount === 1), JSON.stringify(f.failedExpectations))
  t.equal(verifyWebhook(secret, got[0]!.headers, got[0]!.body).ok, true, 'signed as Standard Webhooks with the whsec_ key')

  const warned = await runEtl(['run', '--webhook', url, '--on-invalid', 'warn'], { cwd, env })
  t.equal(warned.code, 0, warned.stderr)
  const w = JSON.parse(got[1]!.body)
  t.match(w, { event: 'run.warned', state: 'Completed', error: null, rows: { extracted: 97, loaded: 97 } })
  t.ok(w.failedExpectations.length >= 1)
  t.match(w.text, /^:warning: flow etl-run, run \S+: Completed with warnings/)

  const sample = await runEtl(['notify', '--test', url], { cwd, env })
  t.equal(sample.code, 0, sample.stderr)
  t.match(sample.stderr, /sample run\.completed delivered to http:\/\/127\.0\.0\.1:\d+: HTTP 204 in \d+ ms \(signed\)/)
  const s = JSON.parse(got[2]!.body)
  t.match(s, { event: 'run.completed', test: true, pipeline: 'etl-run', rows: { loaded: 97 } })
  t.equal(verifyWebhook(secret, got[2]!.headers, got[2]!.body).ok, true)
  status = 500
  const refused = await runEtl(['notify', '--test', url], { cwd, env })
  t.equal(refused.code, 1)
  t.match(refused.stderr, /ETL_WEBHOOK: http:\/\/127\.0\.0\.1:\d+ answered HTTP 500/)
  t.notMatch(sample.stderr + refused.stderr, secret.slice(6))
})
