import { createHmac } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import t from 'tap'
import { EtlError } from '../../lib/errors.ts'
import { flow, task, verifySignature, type WebhookPayload } from '../../lib/flow/index.ts'

interface Received {
  readonly path: string
  readonly headers: IncomingHttpHeaders
  readonly raw: Buffer
}

/** A receiver on 127.0.0.1, port 0; `statuses` are answered in turn (then 200). */
async function receiver(t: { teardown(fn: () => unknown): void }, statuses: number[] = []) {
  const got: Received[] = []
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      got.push({ path: req.url ?? '', headers: req.headers, raw: Buffer.concat(chunks) })
      res.statusCode = statuses.shift() ?? 200
      res.end('ok')
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  t.teardown(() => new Promise<void>((r) => server.close(() => r())))
  const { port } = server.address() as AddressInfo
  return { got, url: `http://127.0.0.1:${port}`, port }
}

/** A loopback port nobody listens on. */
async function closedPort(): Promise<number> {
  const s = createServer()
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r))
  const { port } = s.address() as AddressInfo
  await new Promise<void>((r) => s.close(() => r()))
  return port
}

const failingFlow = (webhooks: Parameters<typeof flow>[0]['webhooks']) =>
  flow({ name: 'etl-run', webhooks }, async (_: void, ctx) => {
    ctx.summarize('extract', { rows: 97, batches: 1, table: 'prostate' })
    await task({ name: 'load' }, async () => {
      throw new EtlError('ETL_HOPSWORKS', 'feature group upload failed (HTTP 502)')
    })()
  })

t.test('a failed run is POSTed: payload, Slack text, and an HMAC-SHA256 signature of the exact body', async (t) => {
  const r = await receiver(t)
  const secret = 'shared-webhook-secret'
  const dataDir = t.testdir()
  const o = await failingFlow([{ url: `${r.url}/hooks/etl`, secret }]).run(undefined, { dataDir })
  t.equal(o.state, 'Failed')
  t.equal(r.got.length, 1)
  const [hit] = r.got as [Received]
  t.equal(hit.path, '/hooks/etl')
  t.equal(hit.headers['content-type'], 'application/json')
  t.equal(hit.headers['x-etl-event'], 'run.failed')
  t.equal(hit.headers['x-etl-run-id'], o.id)
  const expected = 'sha256=' + createHmac('sha256', secret).update(hit.raw).digest('hex')
  t.equal(hit.headers['x-etl-signature'], expected)
  t.ok(verifySignature(hit.raw, secret, hit.headers['x-etl-signature'] as string))
  t.notOk(verifySignature(hit.raw, 'another secret', hit.headers['x-etl-signature'] as string))
  t.notOk(verifySignature(Buffer.concat([hit.raw, Buffer.from(' ')]), secret, hit.headers['x-etl-signature'] as string))
  const p = JSON.parse(hit.raw.toString('utf8')) as WebhookPayload
  t.equal(p.event, 'run.failed')
  t.equal(p.flow, 'etl-run')
  t.equal(p.runId, o.id)
  t.equal(p.state, 'Failed')
  t.equal(p.start, o.record.start)
  t.equal(p.end, o.record.end)
  t.equal(p.durationMs, o.record.durationMs)
  t.same(p.counts, { extract: { rows: 97, batches: 1 } })
  t.same(p.tasks, [{ name: 'load', state: 'Failed', attempts: 1, durationMs: o.record.tasks[0]?.durationMs, cached: false }])
  t.same(p.error, { code: 'ETL_HOPSWORKS', message: 'feature group upload failed (HTTP 502)', class: 'transient' })
  t.equal(p.pipeline, 'etl-run')
  t.same(p.rows, { extracted: 97 })
  t.same(p.failedExpectations, [], 'no quality failure, no expectations')
  t.equal(p.text, `:x: flow etl-run, run ${o.id}: Failed in ${((o.record.durationMs ?? 0) / 1000).toFixed(1)}s: ETL_HOPSWORKS feature group upload failed (HTTP 502)`)
  t.notMatch(hit.raw.toString(), secret, 'the secret is not in the body')
  const d = o.record.notifications[0]
  t.match(d, { event: 'failed', target: r.url, ok: true, attempts: 1, status: 200, signed: true })
  t.match(d?.targetId, /^[0-9a-f]{8}$/)
  const onDisk = readFileSync(join(dataDir, 'runs', `${o.id}.json`), 'utf8')
  t.notMatch(onDisk, secret)
  t.notMatch(onDisk, '/hooks/etl', 'the path (a token, for Slack) is not recorded')
})

t.test('completion is sent only when asked; no secret, no signature', async (t) => {
  const asked = await receiver(t)
  const notAsked = await receiver(t)
  const f = flow({ name: 'fine' }, async (_: void, ctx) => ctx.summarize('load', { rows: 12 }))
  const o = await f.run(undefined, { dataDir: t.testdir(), webhooks: [{ url: asked.url, events: ['completed', 'failed'] }, notAsked.url] })
  t.equal(o.state, 'Completed')
  t.equal(notAsked.got.length, 0)
  t.equal(asked.got.length, 1)
  t.equal(asked.got[0]?.headers['x-etl-signature'], undefined)
  const p = JSON.parse(asked.got[0]?.raw.toString() ?? '{}') as WebhookPayload
  t.equal(p.event, 'run.completed')
  t.equal(p.error, null)
  t.match(p.text, new RegExp(`^:white_check_mark: flow fine, run ${o.id}: Completed in \\d+\\.\\ds \\(load 12 rows\\)$`))
  t.same(o.record.notifications.map((n) => [n.event, n.ok, n.signed]), [['completed', true, false]])
})

t.test('delivery is retried on 5xx, not on 4xx', async (t) => {
  const flaky = await receiver(t, [503, 500])
  const refusing = await receiver(t, [400])
  const o = await failingFlow([{ url: flaky.url, retryDelaySeconds: 0.01 }, { url: refusing.url, retryDelaySeconds: 0.01 }]).run(undefined, { dataDir: t.testdir() })
  t.equal(flaky.got.length, 3)
  t.equal(refusing.got.length, 1)
  t.match(o.record.notifications, [
    { target: flaky.url, ok: true, attempts: 3, status: 200 },
    { target: refusing.url, ok: false, attempts: 1, status: 400, error: { code: 'ETL_WEBHOOK', message: `${refusing.url} answered HTTP 400` } },
  ])
  t.equal(o.state, 'Failed', 'the run failed on its own; the webhook changed nothing')
})

t.test('an unreachable webhook never fails the flow, and is recorded without credentials', async (t) => {
  const port = await closedPort()
  const dataDir = t.testdir()
  const warnings: string[] = []
  const f = flow(
    { name: 'fine', log: { info() {}, warn: (m: string) => warnings.push(m), error() {} } },
    async () => 'ok',
  )
  const url = `http://etl:p4ssw0rd@127.0.0.1:${port}/services/T000/B000/XXXXSECRET`
  const o = await f.run(undefined, { dataDir, webhooks: [{ url, events: ['completed'], retries: 2, retryDelaySeconds: 0.01 }] })
  t.equal(o.state, 'Completed')
  const d = o.record.notifications[0]
  t.match(d, { ok: false, attempts: 3, target: `http://127.0.0.1:${port}`, error: { code: 'ETL_WEBHOOK' } })
  t.match(d?.error?.message, new RegExp(`^http://127\\.0\\.0\\.1:${port} not reached: .*ECONNREFUSED`))
  const onDisk = readFileSync(join(dataDir, 'runs', `${o.id}.json`), 'utf8')
  t.notMatch(onDisk, 'p4ssw0rd')
  t.notMatch(onDisk, 'XXXXSECRET')
  t.same(JSON.parse(onDisk).notifications, o.record.notifications)
  t.ok(warnings.some((w) => w.startsWith(`flow fine: webhook http://127.0.0.1:${port} not delivered after 3 attempt(s)`)))
  t.equal(await f(undefined, { dataDir, webhooks: [{ url, events: ['completed'], retries: 0 }] }), 'ok')
})

t.test('a slow receiver is bounded by timeoutSeconds', async (t) => {
  const server = createServer(() => {}) // never answers
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  t.teardown(() => {
    server.closeAllConnections()
    return new Promise<void>((r) => server.close(() => r()))
  })
  const { port } = server.address() as AddressInfo
  const t0 = performance.now()
  const o = await failingFlow([{ url: `http://127.0.0.1:${port}`, retries: 0, timeoutSeconds: 0.2 }]).run(undefined, { dataDir: t.testdir() })
  t.ok(performance.now() - t0 < 2000)
  t.match(o.record.notifications[0], { ok: false, attempts: 1, error: { code: 'ETL_WEBHOOK' } })
})
