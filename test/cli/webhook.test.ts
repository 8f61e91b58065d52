import { mkdtemp, rm } from 'node:fs/promises'
import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { seedProstate } from '../../lib/extract/embedded.ts'
import { verifySignature } from '../../lib/flow/index.ts'
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
